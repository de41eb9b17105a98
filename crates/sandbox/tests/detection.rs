//! Face detection on the package images (scikit-image and rustface test media), directly and through the API.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use common::*;
use faceswap_core::base64_image::BASE64;
use faceswap_sandbox::engine::detect::FaceDetector;
use faceswap_sandbox::{spawn, SandboxConfig};
use serde_json::json;

fn count(name: &str) -> Vec<faceswap_sandbox::engine::detect::Face> {
    FaceDetector::new().unwrap().detect_rgb(&media_rgb(name))
}

#[test]
fn astronaut_has_one_face_in_the_upper_middle() {
    let faces = count("astronaut.png");
    assert_eq!(faces.len(), 1, "{faces:?}");
    let (cx, cy) = faces[0].centre();
    // The astronaut's face is right of centre in the upper half of the 512x512 picture.
    assert!(
        (180.0..300.0).contains(&cx) && (60.0..200.0).contains(&cy),
        "{faces:?}"
    );
}

#[test]
fn camera_has_one_face() {
    assert_eq!(count("camera.png").len(), 1);
}

#[test]
fn two_faces_has_two_faces_one_per_half_sorted_left_to_right() {
    let faces = count("two-faces.png");
    assert_eq!(faces.len(), 2, "{faces:?}");
    assert!(faces[0].x2 <= 512.0 && faces[1].x1 >= 512.0, "{faces:?}");
}

#[test]
fn group29_has_twenty_nine_faces() {
    let faces = count("group29.png");
    assert_eq!(faces.len(), 29, "{faces:?}");
    assert!(faces.windows(2).all(|w| w[0].x1 <= w[1].x1));
    // No two boxes overlap much: 29 different people.
    for (i, a) in faces.iter().enumerate() {
        for b in &faces[i + 1..] {
            assert!(a.iou(b) < 0.3, "{a:?} {b:?}");
        }
    }
}

#[tokio::test]
async fn extract_face_and_extract_base64_face_answer_sorted_boxes() {
    let origin = Origin::start().await;
    let sandbox = spawn(SandboxConfig {
        data_dir: tempdir("detect"),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let (status, body, _) = post_json(
        &sandbox.base_url,
        &sandbox.api_key,
        "extract_face",
        json!({ "img": origin.media_url("two-faces.png") }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["code"], 200);
    assert_eq!(body["message"], "OK");
    assert_eq!(body["data"]["points"], 2);
    let faces = body["data"]["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 2, "{body}");
    let x1: Vec<f64> = faces.iter().map(|f| f[0].as_f64().unwrap()).collect();
    assert!(x1[0] < 512.0 && x1[1] >= 512.0, "{body}");
    for f in faces {
        let b: Vec<f64> = f
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert!(
            b[0] < b[2] && b[1] < b[3] && b.iter().all(|v| v.fract() == 0.0),
            "{f}"
        );
    }

    let b64 = BASE64.encode(media_bytes("group29.png"));
    let (status, body, _) = post_json(
        &sandbox.base_url,
        &sandbox.api_key,
        "extract_base64_face",
        json!({ "base64_img": format!("data:image/png;base64,{b64}") }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["pos"].as_array().unwrap().len(), 29);
}

/// A fresh folder under the target directory.
fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "faceswap-sandbox-test-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
