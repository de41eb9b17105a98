//! Recall of the BlazeFace detector on the test media (`scripts/test-media.sh`): every face
//! rustface finds, and the same pictures turned by 20 to 45 degrees and mirrored.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use faceswap_detect::{CombinedDetector, Face, FaceDetector, SeetaDetector, MIN_SCORE};
use image::RgbImage;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn media(name: &str) -> RgbImage {
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
    image::open(dir.join(name)).unwrap().to_rgb8()
}

fn blazeface(image: &RgbImage) -> Vec<Face> {
    let (w, h) = image.dimensions();
    FaceDetector::new()
        .unwrap()
        .detect(image.as_raw(), 3, w, h, MIN_SCORE)
}

fn seeta(image: &RgbImage) -> Vec<Face> {
    let (w, h) = image.dimensions();
    let gray = faceswap_detect::to_gray(image.as_raw(), 3);
    SeetaDetector::new().unwrap().detect_gray(&gray, w, h)
}

/// `image` turned by `degrees` about its centre (bilinear, grey outside), on a canvas big enough
/// to hold all of it.
fn rotate(image: &RgbImage, degrees: f32) -> RgbImage {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let (s, c) = degrees.to_radians().sin_cos();
    let (nw, nh) = (
        (w * c.abs() + h * s.abs()).ceil(),
        (w * s.abs() + h * c.abs()).ceil(),
    );
    RgbImage::from_fn(nw as u32, nh as u32, |x, y| {
        let (dx, dy) = (x as f32 - nw / 2.0, y as f32 - nh / 2.0);
        let (sx, sy) = (c * dx + s * dy + w / 2.0, -s * dx + c * dy + h / 2.0);
        if sx < 0.0 || sy < 0.0 || sx >= w - 1.0 || sy >= h - 1.0 {
            return image::Rgb([128, 128, 128]);
        }
        let (x0, y0) = (sx as u32, sy as u32);
        let (fx, fy) = (sx.fract(), sy.fract());
        let p = |x, y| image.get_pixel(x, y).0.map(f32::from);
        let (a, b, cc, d) = (p(x0, y0), p(x0 + 1, y0), p(x0, y0 + 1), p(x0 + 1, y0 + 1));
        image::Rgb(std::array::from_fn(|k| {
            let top = a[k] + (b[k] - a[k]) * fx;
            let bottom = cc[k] + (d[k] - cc[k]) * fx;
            (top + (bottom - top) * fy).round() as u8
        }))
    })
}

/// How many of `expected` have a box in `found` with IoU above `min_iou`.
fn matched(expected: &[Face], found: &[Face], min_iou: f32) -> usize {
    expected
        .iter()
        .filter(|e| found.iter().any(|f| f.iou(e) > min_iou))
        .count()
}

/// The smallest face side BlazeFace full range finds here, as a fraction of the frame's longer
/// side (12 px of its 192 px input): the cameraman in two-faces.png is 66 px of 1024.
const SMALLEST_FACE: f32 = 0.064;

#[test]
fn finds_every_face_rustface_finds_that_is_big_enough() {
    for name in ["astronaut.png", "camera.png", "two-faces.png"] {
        let image = media(name);
        let (reference, found) = (seeta(&image), blazeface(&image));
        let longer = image.width().max(image.height()) as f32;
        let big: Vec<Face> = reference
            .iter()
            .copied()
            .filter(|f| f.width() >= SMALLEST_FACE * longer)
            .collect();
        println!(
            "{name}: rustface {} ({} big enough), blazeface {}",
            reference.len(),
            big.len(),
            found.len()
        );
        // rustface's boxes are tighter squares than BlazeFace's: IoU 0.3 on the same face.
        assert_eq!(
            matched(&big, &found, 0.3),
            big.len(),
            "{name}: {found:?} vs {big:?}"
        );
        assert!(
            found.len() <= reference.len(),
            "{name}: no extra faces: {found:?}"
        );
        for face in &found {
            let points = face.keypoints.unwrap();
            let eyes_y = (points[0][1] + points[1][1]) / 2.0;
            assert!(eyes_y < points[3][1], "eyes above the mouth: {face:?}");
            assert!(
                points[0][0] < points[1][0],
                "right eye left in the photo: {face:?}"
            );
        }
    }
}

#[test]
fn finds_turned_tilted_and_mirrored_faces() {
    let mut total = 0;
    let mut found_total = 0;
    // One face per picture, turned on a canvas that grows with the angle (up to 1.41 times).
    for name in ["astronaut.png", "camera.png"] {
        let image = media(name);
        let upright = blazeface(&image).len();
        for degrees in [-45.0, -30.0, -20.0, 20.0, 30.0, 45.0] {
            for mirrored in [false, true] {
                let mut turned = rotate(&image, degrees);
                if mirrored {
                    image::imageops::flip_horizontal_in_place(&mut turned);
                }
                let found = blazeface(&turned).len();
                println!("{name} {degrees} mirrored={mirrored}: {found} of {upright}");
                total += upright;
                found_total += found.min(upright);
            }
        }
    }
    println!("turned and mirrored: {found_total} of {total}");
    assert_eq!(found_total, total);
}

/// The group photo's faces (about 50 px of 1666, 6 px of the model's input) are below
/// BlazeFace's smallest face on the whole frame; rustface finds all 29, and so the combined
/// detector does.
#[test]
fn group_photo_recall_against_rustface() {
    let image = media("group29.png");
    let (w, h) = image.dimensions();
    let combined = CombinedDetector::new()
        .unwrap()
        .detect(image.as_raw(), 3, w, h, MIN_SCORE);
    assert_eq!(combined.len(), 29);
    let (reference, found) = (seeta(&image), blazeface(&image));
    println!(
        "group29.png ({}x{}): rustface {}, blazeface {}, matched {}",
        image.width(),
        image.height(),
        reference.len(),
        found.len(),
        matched(&reference, &found, 0.3)
    );
}
