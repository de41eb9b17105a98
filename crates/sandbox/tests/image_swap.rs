//! The classical swap on real photos: pixels inside each replaced box change substantially,
//! pixels well outside do not change at all, and a face is still found in each replaced box.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use faceswap_sandbox::engine::detect::{Face, FaceDetector};
use faceswap_sandbox::engine::swap::region_bounds;
use image::RgbImage;

fn rect(face: &Face) -> (u32, u32, u32, u32) {
    (
        face.x1 as u32,
        face.y1 as u32,
        face.x2 as u32,
        face.y2 as u32,
    )
}

/// Every pixel farther than `margin` from all the regions is unchanged.
fn assert_unchanged_outside(before: &RgbImage, after: &RgbImage, faces: &[Face], margin: u32) {
    let (w, h) = before.dimensions();
    let regions: Vec<_> = faces.iter().map(|f| region_bounds(f, w, h)).collect();
    let mut checked = 0;
    for (x, y, p) in after.enumerate_pixels() {
        let near = regions.iter().any(|&(x0, y0, x1, y1)| {
            x + margin >= x0 && x < x1 + margin && y + margin >= y0 && y < y1 + margin
        });
        if !near {
            assert_eq!(
                p,
                before.get_pixel(x, y),
                "pixel {x},{y} changed outside every box"
            );
            checked += 1;
        }
    }
    assert!(
        checked > (w * h / 2) as usize,
        "only {checked} pixels were checked"
    );
}

fn face_found_in(detector: &mut FaceDetector, image: &RgbImage, target: &Face) -> bool {
    detector
        .detect_rgb(image)
        .iter()
        .any(|f| f.iou(target) > 0.3)
}

#[test]
fn faceswap_replaces_the_face_and_nothing_else() {
    let source = media_bytes("camera.png");
    let before = media_rgb("camera.png");
    let mut detector = FaceDetector::new().unwrap();
    let targets = detector.detect_rgb(&before);
    assert_eq!(targets.len(), 1);
    let png = jobs::face_swap(&source, &media_bytes("astronaut.png")).unwrap();
    let after = image::load_from_memory(&png).unwrap().to_rgb8();
    assert_eq!(after.dimensions(), before.dimensions());
    let inside = mean_abs_diff(&before, &after, rect(&targets[0]));
    assert!(
        inside > 12.0,
        "inside the box the mean change is only {inside:.1}"
    );
    assert_unchanged_outside(&before, &after, &targets, 2);
    assert!(
        face_found_in(&mut detector, &after, &targets[0]),
        "no face left in the box"
    );
}

#[test]
fn multi_faceswap_replaces_exactly_the_faces_at_index() {
    let source = media_bytes("two-faces.png");
    let before = media_rgb("two-faces.png");
    let mut detector = FaceDetector::new().unwrap();
    let targets = detector.detect_rgb(&before);
    assert_eq!(targets.len(), 2);

    // Only face 1 (the cameraman, on the right) gets the astronaut's face.
    let png = jobs::multi_face_swap(&source, &[media_bytes("astronaut.png")], &[1]).unwrap();
    let after = image::load_from_memory(&png).unwrap().to_rgb8();
    let right = mean_abs_diff(&before, &after, rect(&targets[1]));
    assert!(right > 12.0, "face 1 changed by only {right:.1}");
    assert_eq!(
        mean_abs_diff(&before, &after, rect(&targets[0])),
        0.0,
        "face 0 must not change"
    );
    assert_unchanged_outside(&before, &after, &targets[1..], 2);
    assert!(face_found_in(&mut detector, &after, &targets[1]));

    // Both faces, each with the other's face.
    let png = jobs::multi_face_swap(
        &source,
        &[media_bytes("camera.png"), media_bytes("astronaut.png")],
        &[0, 1],
    )
    .unwrap();
    let after = image::load_from_memory(&png).unwrap().to_rgb8();
    for target in &targets {
        let change = mean_abs_diff(&before, &after, rect(target));
        assert!(change > 12.0, "{target:?} changed by only {change:.1}");
        assert!(face_found_in(&mut detector, &after, target), "{target:?}");
    }
    assert_unchanged_outside(&before, &after, &targets, 2);
}

#[test]
fn group_photo_swap_of_three_chosen_faces() {
    let source = media_bytes("group29.png");
    let before = media_rgb("group29.png");
    let mut detector = FaceDetector::new().unwrap();
    let targets = detector.detect_rgb(&before);
    assert_eq!(targets.len(), 29);
    let chosen = [3usize, 14, 27];
    let astronaut = media_bytes("astronaut.png");
    let png = jobs::multi_face_swap(
        &source,
        &[astronaut.clone(), astronaut.clone(), astronaut],
        &chosen.map(|i| i as i64),
    )
    .unwrap();
    let after = image::load_from_memory(&png).unwrap().to_rgb8();
    let picked: Vec<Face> = chosen.iter().map(|&i| targets[i]).collect();
    for target in &picked {
        let change = mean_abs_diff(&before, &after, rect(target));
        assert!(change > 8.0, "{target:?} changed by only {change:.1}");
    }
    assert_unchanged_outside(&before, &after, &picked, 2);
    let untouched = targets
        .iter()
        .enumerate()
        .filter(|(i, _)| !chosen.contains(i));
    for (i, face) in untouched {
        let overlaps = picked.iter().any(|p| {
            let (x0, y0, x1, y1) = region_bounds(p, before.width(), before.height());
            face.x2 as u32 > x0
                && (face.x1 as u32) < x1
                && face.y2 as u32 > y0
                && (face.y1 as u32) < y1
        });
        if !overlaps {
            assert_eq!(
                mean_abs_diff(&before, &after, rect(face)),
                0.0,
                "face {i} changed"
            );
        }
    }
}

#[test]
fn failures_say_what_is_wrong() {
    let flat = {
        let img = RgbImage::from_pixel(64, 64, image::Rgb([120, 120, 120]));
        jobs::encode_png(&img).unwrap()
    };
    let err = jobs::face_swap(&media_bytes("astronaut.png"), &flat).unwrap_err();
    assert_eq!(err, "no face found in face_image");
    let err = jobs::face_swap(&flat, &media_bytes("astronaut.png")).unwrap_err();
    assert_eq!(err, "no face found in source_image");
    let err = jobs::multi_face_swap(
        &media_bytes("astronaut.png"),
        &[media_bytes("camera.png")],
        &[3],
    )
    .unwrap_err();
    assert_eq!(err, "index[0] is 3 but source_image has 1 faces");
    let err = jobs::face_swap(b"not an image at all", &flat).unwrap_err();
    assert!(
        err.contains("face_image") || err.contains("source_image"),
        "{err}"
    );
}
