//! Face detection shared by the sandbox (native) and the browser (this crate compiled to wasm32
//! and loaded on first use into a Web Worker). [`FaceDetector`] is MediaPipe's BlazeFace
//! full-range model (from the npm package `@mediapipe/face_detection`, embedded by `build.rs`)
//! run by this crate's own small network runner (`net`) over a minimal `.tflite` reader
//! (`tflite`). The same code on both sides is what makes browser and sandbox boxes agree.

pub mod blazeface;
#[cfg(feature = "seeta")]
mod combined;
mod error;
mod face;
mod net;
#[cfg(feature = "people")]
pub mod people;
#[cfg(feature = "seeta")]
mod seeta;
pub mod tflite;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use blazeface::{BlazeFace, MIN_SCORE};
#[cfg(feature = "seeta")]
pub use combined::CombinedDetector;
pub use error::ModelError;
pub use face::{Face, LEFT_EYE, MOUTH, NOSE, RIGHT_EYE};
#[cfg(feature = "seeta")]
pub use seeta::{SeetaDetector, MIN_FACE_SIZE, PYRAMID_SCALE, SCORE_THRESHOLD, WINDOW_STEP};

use std::sync::OnceLock;

/// MediaPipe's BlazeFace full-range model (192 x 192) in its sparse form (the one MediaPipe's own
/// JS solution runs, 680 kB: block-sparse float16 weights), kept in the repository under
/// `crates/detect/models/` and copied into `OUT_DIR` by `build.rs`.
static FULL_RANGE_MODEL: &[u8] = include_bytes!(concat!(
    env!("OUT_DIR"),
    "/face_detection_full_range_sparse.tflite"
));

/// The face detector: BlazeFace full range on the whole frame, letterboxed into its 192 x 192
/// input in one pass. Finds frontal, turned and tilted faces whose side is at least about 6% of
/// the frame's longer side (about 12 px of the model's input: 64 px in a 1024 x 512 frame), up to
/// the whole frame. Smaller faces (group photos) need rustface: `CombinedDetector` (feature
/// `seeta`).
#[derive(Debug, Clone)]
pub struct FaceDetector {
    inner: BlazeFace,
}

impl FaceDetector {
    /// The detector with the built-in model (parsed once per process, then cloned).
    pub fn new() -> Result<Self, ModelError> {
        static MODEL: OnceLock<Result<BlazeFace, ModelError>> = OnceLock::new();
        MODEL
            .get_or_init(|| BlazeFace::new(FULL_RANGE_MODEL, blazeface::FULL_RANGE))
            .clone()
            .map(|inner| Self { inner })
    }

    /// The faces of a frame with `channels` bytes per pixel (3: RGB, 4: RGBA), scoring at least
    /// `min_score` (0..1; [`MIN_SCORE`] is MediaPipe's default): boxes and keypoints in pixels,
    /// sorted left to right.
    pub fn detect(
        &mut self,
        pixels: &[u8],
        channels: usize,
        width: u32,
        height: u32,
        min_score: f32,
    ) -> Vec<Face> {
        self.inner
            .detect(pixels, channels, width, height, min_score)
    }
}

/// Sorts boxes left to right, ties top to bottom: the order `index` refers to.
pub fn sort_left_to_right(faces: &mut [Face]) {
    faces.sort_by(|a, b| a.x1.total_cmp(&b.x1).then(a.y1.total_cmp(&b.y1)));
}

/// Luma of 8-bit pixels with `channels` bytes each (3 for RGB, 4 for RGBA; alpha is ignored),
/// BT.601 weights as rustface's own examples use.
pub fn to_gray(pixels: &[u8], channels: usize) -> Vec<u8> {
    pixels
        .chunks_exact(channels.max(3))
        .map(|p| {
            let y = 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]);
            y.round().clamp(0.0, 255.0) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_model_loads_and_finds_nothing_in_a_flat_frame() {
        let mut detector = FaceDetector::new().expect("model");
        assert!(detector
            .detect(&vec![128; 200 * 120 * 3], 3, 200, 120, MIN_SCORE)
            .is_empty());
        assert!(
            detector.detect(&[0; 10], 4, 100, 100, MIN_SCORE).is_empty(),
            "short buffers"
        );
        assert!(
            detector.detect(&[], 4, 0, 0, MIN_SCORE).is_empty(),
            "empty frames"
        );
    }

    #[test]
    fn grey_conversion_ignores_alpha() {
        assert_eq!(to_gray(&[255, 255, 255, 0, 0, 0, 0, 255], 4), vec![255, 0]);
        assert_eq!(to_gray(&[255, 0, 0, 0, 255, 0], 3), vec![76, 150]);
    }
}
