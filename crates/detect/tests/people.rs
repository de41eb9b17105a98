//! The people finder natively (feature `people`), without face-api.js's weights (they come from
//! npm and are fetched by the browser; the end-to-end tests run the real network): a recognition
//! network of the real architecture with constant weights checks every layer's shape, and the
//! astronaut photo (scikit-image's, from scripts/test-media.sh) in frames with a gap checks the
//! linking, the grouping and the best view.
#![allow(clippy::unwrap_used)]

use faceswap_detect::people::{resnet::INPUT, FaceRecognizer, Frame, PeopleFinder, DESCRIPTOR};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The network's tensors in the manifest's order: name and shape.
fn tensors() -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    let mut conv = |name: &str, k: usize, cin: usize, cout: usize| {
        out.push((format!("{name}/conv/filters"), vec![k, k, cin, cout]));
        out.push((format!("{name}/conv/bias"), vec![cout]));
        out.push((format!("{name}/scale/weights"), vec![cout]));
        out.push((format!("{name}/scale/biases"), vec![cout]));
    };
    conv("conv32_down", 7, 3, 32);
    for (name, cin, cout) in [
        ("conv32_1", 32, 32),
        ("conv32_2", 32, 32),
        ("conv32_3", 32, 32),
        ("conv64_down", 32, 64),
        ("conv64_1", 64, 64),
        ("conv64_2", 64, 64),
        ("conv64_3", 64, 64),
        ("conv128_down", 64, 128),
        ("conv128_1", 128, 128),
        ("conv128_2", 128, 128),
        ("conv256_down", 128, 256),
        ("conv256_1", 256, 256),
        ("conv256_2", 256, 256),
        ("conv256_down_out", 256, 256),
    ] {
        conv(&format!("{name}/conv1"), 3, cin, cout);
        conv(&format!("{name}/conv2"), 3, cout, cout);
    }
    out.push(("fc".to_owned(), vec![256, DESCRIPTOR]));
    out
}

/// A model of face-api.js's architecture whose every weight is `value` (uint8-quantised).
fn constant_model(value: f64) -> FaceRecognizer {
    let tensors = tensors();
    let weights: Vec<String> = tensors
        .iter()
        .map(|(name, shape)| {
            format!(
                r#"{{"name":"{name}","shape":{shape:?},"dtype":"float32","quantization":{{"dtype":"uint8","scale":1,"min":{value}}}}}"#
            )
        })
        .collect();
    let manifest = format!(
        r#"[{{"paths":["m.bin"],"weights":[{}]}}]"#,
        weights.join(",")
    );
    let size: usize = tensors
        .iter()
        .map(|(_, s)| s.iter().product::<usize>())
        .sum();
    FaceRecognizer::new(&manifest, &vec![0u8; size]).unwrap()
}

fn astronaut() -> (Vec<u8>, u32, u32) {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let status = Command::new("bash")
            .arg(root.join("scripts/test-media.sh"))
            .current_dir(&root)
            .status()
            .expect("bash runs scripts/test-media.sh");
        assert!(status.success(), "scripts/test-media.sh failed");
        root.join("target/test-media")
    });
    let image = image::open(dir.join("astronaut.png")).unwrap().to_rgba8();
    let (w, h) = image.dimensions();
    (image.into_raw(), w, h)
}

#[test]
fn the_network_runs_every_layer_and_refuses_a_wrong_input() {
    let model = constant_model(0.001);
    let descriptor = model.describe(&vec![128; INPUT * INPUT * 3]).unwrap();
    assert!(descriptor.iter().all(|v| v.is_finite()));
    assert!(descriptor.iter().any(|&v| v != 0.0));
    let err = model.describe(&[0; 10]).unwrap_err().to_string();
    assert!(err.contains("150 x 150"), "{err}");
}

#[test]
fn a_face_seen_before_and_after_a_gap_is_one_person_with_every_sighting() {
    let (rgba, width, height) = astronaut();
    let blank = vec![90u8; rgba.len()];
    let mut finder = PeopleFinder::new(0.5).unwrap();
    let frame = Frame {
        rgba: &rgba,
        width,
        height,
    };
    let empty = Frame {
        rgba: &blank,
        width,
        height,
    };
    let faces: Vec<usize> = [frame, frame, empty, frame]
        .iter()
        .enumerate()
        .map(|(i, f)| finder.add_frame(f, i as f64 * 0.5))
        .collect();
    assert_eq!(faces, vec![1, 1, 0, 1]);
    assert_eq!(
        finder.add_frame(
            &Frame {
                rgba: &[0; 8],
                width,
                height
            },
            2.0
        ),
        0,
        "a short buffer is no face"
    );
    // All descriptors of a constant network agree: the two tracklets are one person.
    let people = finder.finish(&constant_model(0.001), 10).unwrap();
    assert_eq!(people.len(), 1);
    let person = &people[0];
    let times: Vec<f64> = person.sightings.iter().map(|s| s.time).collect();
    assert_eq!(times, vec![0.0, 0.5, 1.5]);
    assert!(person.quality > 0.0 && person.quality <= 1.0);
    let face = person.best.face;
    assert_eq!(
        person.crop.rgba.len(),
        (person.crop.width * person.crop.height * 4) as usize
    );
    assert!(
        person.crop.x as f32 <= face.x1 && (person.crop.x + person.crop.width) as f32 >= face.x2
    );
    assert!(
        finder.finish(&constant_model(0.001), 0).unwrap().is_empty(),
        "maxPeople 0"
    );
}

#[test]
fn no_frames_no_people() {
    let finder = PeopleFinder::new(0.5).unwrap();
    assert!(finder.finish(&constant_model(0.0), 5).unwrap().is_empty());
}
