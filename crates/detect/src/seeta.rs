//! rustface's SeetaFace frontal detector, with the model copied out of the rustface package at
//! build time: the detector before BlazeFace, kept for comparison (`bench/detect`).

use crate::face::Face;
use rustface::{Detector, ImageData, Model};
use std::sync::OnceLock;

/// The SeetaFace frontal model, copied out of the rustface package by `build.rs`.
static MODEL_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/seeta_fd_frontal_v1.0.bin"));

/// Smallest face side, in pixels, that detection looks for (rustface's floor is 20).
pub const MIN_FACE_SIZE: u32 = 20;
/// Detections scoring below this are dropped (rustface suggests 0.95, 2.8 or 4.5).
pub const SCORE_THRESHOLD: f64 = 2.0;
/// Ratio between the sizes of adjacent pyramid levels.
pub const PYRAMID_SCALE: f32 = 0.8;
/// Sliding-window step in pixels.
pub const WINDOW_STEP: u32 = 4;

fn model() -> &'static Option<Model> {
    static MODEL: OnceLock<Option<Model>> = OnceLock::new();
    MODEL.get_or_init(|| rustface::read_model(MODEL_BYTES).ok())
}

/// A configured rustface detector. Not `Send`: make one per thread (cheap, the parsed model is
/// shared by cloning).
pub struct SeetaDetector {
    inner: Box<dyn Detector>,
}

impl SeetaDetector {
    /// A detector with the default settings; `None` only if the built-in model is corrupt.
    pub fn new() -> Option<Self> {
        Self::with_options(MIN_FACE_SIZE, SCORE_THRESHOLD)
    }

    /// A detector that ignores faces smaller than `min_face_size` pixels (at least 20).
    pub fn with_min_face_size(min_face_size: u32) -> Option<Self> {
        Self::with_options(min_face_size, SCORE_THRESHOLD)
    }

    /// A detector with a minimum face size (at least 20 pixels) and a score threshold.
    pub fn with_options(min_face_size: u32, score_threshold: f64) -> Option<Self> {
        let model = model().as_ref()?.clone();
        let mut inner = rustface::create_detector_with_model(model);
        inner.set_min_face_size(min_face_size.max(20));
        inner.set_score_thresh(score_threshold);
        inner.set_pyramid_scale_factor(PYRAMID_SCALE);
        inner.set_slide_window_step(WINDOW_STEP, WINDOW_STEP);
        Some(Self { inner })
    }

    /// The faces of a grey image (`width * height` bytes, row by row), sorted left to right
    /// (then top to bottom); boxes are clamped to the image.
    pub fn detect_gray(&mut self, gray: &[u8], width: u32, height: u32) -> Vec<Face> {
        if width < 20 || height < 20 || gray.len() < (width as usize) * (height as usize) {
            return Vec::new();
        }
        let data = ImageData::new(gray, width, height);
        let (w, h) = (width as f32, height as f32);
        let mut faces: Vec<Face> = self
            .inner
            .detect(&data)
            .into_iter()
            .map(|info| {
                let b = info.bbox();
                Face {
                    x1: (b.x().max(0) as f32).min(w),
                    y1: (b.y().max(0) as f32).min(h),
                    x2: ((b.x() + b.width() as i32).max(0) as f32).min(w),
                    y2: ((b.y() + b.height() as i32).max(0) as f32).min(h),
                    score: info.score(),
                    keypoints: None,
                }
            })
            .filter(|f| f.width() >= 1.0 && f.height() >= 1.0)
            .collect();
        crate::sort_left_to_right(&mut faces);
        faces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_model_loads() {
        assert!(SeetaDetector::new().is_some());
    }

    #[test]
    fn a_flat_image_has_no_faces() {
        let mut detector = SeetaDetector::new().expect("model");
        assert!(detector
            .detect_gray(&vec![128; 200 * 120], 200, 120)
            .is_empty());
        assert!(detector.detect_gray(&[0; 100], 10, 10).is_empty());
        assert!(
            detector.detect_gray(&[0; 10], 100, 100).is_empty(),
            "short buffers are refused"
        );
    }

    #[test]
    fn odd_shapes_do_not_panic() {
        let mut detector = SeetaDetector::new().expect("model");
        for (w, h) in [
            (20, 20),
            (21, 500),
            (500, 21),
            (1, 1000),
            (19, 19),
            (37, 23),
        ] {
            let gray: Vec<u8> = (0..w * h)
                .map(|i| ((i % w) * 7 + (i / w) * 13) as u8)
                .collect();
            for face in detector.detect_gray(&gray, w, h) {
                assert!(face.x1 >= 0.0 && face.x2 <= w as f32, "{face:?} in {w}x{h}");
                assert!(face.y1 >= 0.0 && face.y2 <= h as f32, "{face:?} in {w}x{h}");
            }
        }
    }
}
