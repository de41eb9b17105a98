//! Video swaps through ffmpeg on videos made from the package images: frame count, size and
//! duration kept, audio kept, faces replaced, and multi-video matching by reference.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use common::jobs::{self, Reference};
use common::*;
use faceswap_core::base64_image::BASE64;
use faceswap_sandbox::engine::detect::{Face, FaceDetector};
use image::RgbImage;
use std::path::PathBuf;

fn work(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "faceswap-sandbox-video-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rect(face: &Face) -> (u32, u32, u32, u32) {
    (
        face.x1 as u32,
        face.y1 as u32,
        face.x2 as u32,
        face.y2 as u32,
    )
}

/// A base64 PNG crop of `face` from `frame`, padded by 20 %, as the browser's cropFaces makes.
fn crop_b64(frame: &RgbImage, face: &Face) -> String {
    let pad = face.width() * 0.2;
    let x = (face.x1 - pad).max(0.0) as u32;
    let y = (face.y1 - pad).max(0.0) as u32;
    let w = ((face.width() + 2.0 * pad) as u32).min(frame.width() - x);
    let h = ((face.height() + 2.0 * pad) as u32).min(frame.height() - y);
    let crop = image::imageops::crop_imm(frame, x, y, w, h).to_image();
    BASE64.encode(jobs::encode_png(&crop).unwrap())
}

fn check_same_shape(input: &str, output: &std::path::Path, expect_audio: bool) {
    let (w0, h0, n0, d0, _) = probe_video(&media(input));
    let (w1, h1, n1, d1, audio) = probe_video(output);
    assert_eq!((w1, h1), (w0, h0), "size");
    assert_eq!(n1, n0, "frame count");
    assert!((d1 - d0).abs() < 0.1, "duration {d0} -> {d1}");
    assert_eq!(audio, expect_audio, "audio track");
}

#[test]
fn video_faceswap_keeps_frames_size_duration_and_audio_and_replaces_both_faces() {
    let dir = work("mp4");
    let output = dir.join("out.mp4");
    // The largest face of the 1927 group photo, a face neither person in the video has.
    let stats = jobs::video_face_swap(
        &media("two-faces.mp4"),
        &output,
        &dir,
        &media_bytes("group29.png"),
    )
    .unwrap();
    assert_eq!(stats.frames, 75);
    assert!(
        stats.detections >= 15 && stats.detections <= 17,
        "{stats:?}"
    );
    assert!(stats.faces_edited >= 140, "{stats:?}");
    check_same_shape("two-faces.mp4", &output, true);
    assert_eq!(&std::fs::read(&output).unwrap()[4..8], b"ftyp");

    let mut detector = FaceDetector::new().unwrap();
    for index in [0, 37, 74] {
        let before = video_frame(&media("two-faces.mp4"), index);
        let after = video_frame(&output, index);
        let faces = detector.detect_rgb(&before);
        assert_eq!(faces.len(), 2, "frame {index}");
        for face in &faces {
            let change = mean_abs_diff(&before, &after, rect(face));
            assert!(
                change > 10.0,
                "frame {index} {face:?} changed by only {change:.1}"
            );
        }
        // Far from the faces (bottom corners), only re-encoding noise.
        for corner in [(0, 440, 80, 512), (944, 440, 1024, 512)] {
            let noise = mean_abs_diff(&before, &after, corner);
            assert!(
                noise < 3.0,
                "frame {index} corner {corner:?} changed by {noise:.1}"
            );
        }
        assert_eq!(
            detector.detect_rgb(&after).len(),
            2,
            "frame {index}: faces still found"
        );
    }
}

#[test]
fn webm_input_becomes_mp4_and_a_silent_video_stays_silent() {
    let dir = work("webm");
    let output = dir.join("out.mp4");
    jobs::video_face_swap(
        &media("two-faces.webm"),
        &output,
        &dir,
        &media_bytes("astronaut.png"),
    )
    .unwrap();
    check_same_shape("two-faces.webm", &output, true);

    let output = dir.join("one.mp4");
    let stats = jobs::video_face_swap(
        &media("one-face.mp4"),
        &output,
        &dir,
        &media_bytes("camera.png"),
    )
    .unwrap();
    assert_eq!(stats.frames, 50);
    check_same_shape("one-face.mp4", &output, false);
}

#[test]
fn multi_video_swaps_the_face_that_matches_a_reference_and_leaves_the_other_alone() {
    let dir = work("multi");
    let first = video_frame(&media("two-faces.mp4"), 0);
    let faces = FaceDetector::new().unwrap().detect_rgb(&first);
    assert_eq!(faces.len(), 2);
    // Reference: the cameraman (right) only; he gets the astronaut's face.
    let refs = [Reference {
        face_ref: BASE64.decode(crop_b64(&first, &faces[1])).unwrap(),
        face: media_bytes("astronaut.png"),
    }];
    let output = dir.join("out.mp4");
    jobs::multi_video_face_swap(&media("two-faces.mp4"), &output, &dir, &refs).unwrap();
    check_same_shape("two-faces.mp4", &output, true);
    let mut detector = FaceDetector::new().unwrap();
    for index in [0, 40, 74] {
        let before = video_frame(&media("two-faces.mp4"), index);
        let after = video_frame(&output, index);
        let now = detector.detect_rgb(&before);
        let left = mean_abs_diff(&before, &after, rect(&now[0]));
        let right = mean_abs_diff(&before, &after, rect(&now[1]));
        assert!(
            left < 3.0,
            "frame {index}: the unmatched astronaut changed by {left:.1}"
        );
        assert!(
            right > 10.0,
            "frame {index}: the matched cameraman changed by only {right:.1}"
        );
    }

    // Two references given in the other order: each face gets its own reference's new face.
    let refs = [
        Reference {
            face_ref: BASE64.decode(crop_b64(&first, &faces[1])).unwrap(),
            face: media_bytes("astronaut.png"),
        },
        Reference {
            face_ref: BASE64.decode(crop_b64(&first, &faces[0])).unwrap(),
            face: media_bytes("camera.png"),
        },
    ];
    let output = dir.join("both.mp4");
    jobs::multi_video_face_swap(&media("two-faces.mp4"), &output, &dir, &refs).unwrap();
    let before = video_frame(&media("two-faces.mp4"), 20);
    let after = video_frame(&output, 20);
    let now = detector.detect_rgb(&before);
    // The astronaut's box, now holding the cameraman's grey face, lost its colour.
    let chroma = |img: &RgbImage, f: &Face| {
        let (x0, y0, x1, y1) = rect(f);
        let mut sum = 0u64;
        for y in y0 + (y1 - y0) / 4..y1 - (y1 - y0) / 4 {
            for x in x0 + (x1 - x0) / 4..x1 - (x1 - x0) / 4 {
                let p = img.get_pixel(x, y).0;
                sum += u64::from(p[0].max(p[1]).max(p[2]) - p[0].min(p[1]).min(p[2]));
            }
        }
        sum
    };
    assert!(mean_abs_diff(&before, &after, rect(&now[0])) > 10.0);
    assert!(mean_abs_diff(&before, &after, rect(&now[1])) > 10.0);
    // Colour transfer keeps each target's own colours: the astronaut's box keeps its warm tones.
    assert!(chroma(&after, &now[0]) > chroma(&after, &now[1]));
}

#[test]
fn a_video_without_faces_in_the_new_face_image_fails_clearly() {
    let dir = work("fail");
    let err = jobs::video_face_swap(
        &media("two-faces.mp4"),
        &dir.join("x.mp4"),
        &dir,
        &flat_png(),
    )
    .unwrap_err();
    assert_eq!(err, "no face found in face_image");
    let err = jobs::video_face_swap(
        &media("astronaut.png"),
        &dir.join("y.mp4"),
        &dir,
        &media_bytes("camera.png"),
    )
    .unwrap_err();
    assert!(err.contains("video"), "{err}");
}
