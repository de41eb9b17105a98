//! Face detection with rustface (SeetaFace frontal), the model built in from the rustface package.

use image::{GrayImage, RgbImage};
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

/// A face found in an image: its box in pixels and the detector's score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Face {
    /// Left edge.
    pub x1: f32,
    /// Top edge.
    pub y1: f32,
    /// Right edge (exclusive).
    pub x2: f32,
    /// Bottom edge (exclusive).
    pub y2: f32,
    /// The detector's confidence.
    pub score: f64,
}

impl Face {
    /// Width of the box.
    pub fn width(&self) -> f32 {
        self.x2 - self.x1
    }

    /// Height of the box.
    pub fn height(&self) -> f32 {
        self.y2 - self.y1
    }

    /// Centre of the box.
    pub fn centre(&self) -> (f32, f32) {
        ((self.x1 + self.x2) / 2.0, (self.y1 + self.y2) / 2.0)
    }

    /// Intersection over union with `other` (0 when apart, 1 when equal).
    pub fn iou(&self, other: &Face) -> f32 {
        let w = (self.x2.min(other.x2) - self.x1.max(other.x1)).max(0.0);
        let h = (self.y2.min(other.y2) - self.y1.max(other.y1)).max(0.0);
        let inter = w * h;
        let union = self.width() * self.height() + other.width() * other.height() - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }

    /// The box linearly between `self` (t = 0) and `other` (t = 1).
    pub fn lerp(&self, other: &Face, t: f32) -> Face {
        let mix = |a: f32, b: f32| a + (b - a) * t;
        Face {
            x1: mix(self.x1, other.x1),
            y1: mix(self.y1, other.y1),
            x2: mix(self.x2, other.x2),
            y2: mix(self.y2, other.y2),
            score: self.score.min(other.score),
        }
    }

    /// The box as the provider writes it: `[x1, y1, x2, y2]` in whole pixels.
    pub fn to_face_box(&self) -> faceswap_core::aifaceswap::FaceBox {
        faceswap_core::aifaceswap::FaceBox([
            f64::from(self.x1.round()),
            f64::from(self.y1.round()),
            f64::from(self.x2.round()),
            f64::from(self.y2.round()),
        ])
    }
}

fn model() -> &'static Option<Model> {
    static MODEL: OnceLock<Option<Model>> = OnceLock::new();
    MODEL.get_or_init(|| rustface::read_model(MODEL_BYTES).ok())
}

/// A configured rustface detector. Not `Send`: make one per thread (cheap, the model is shared
/// by cloning its parsed form).
pub struct FaceDetector {
    inner: Box<dyn Detector>,
}

impl FaceDetector {
    /// A detector with the sandbox's settings; `None` only if the built-in model is corrupt.
    pub fn new() -> Option<Self> {
        Self::with_min_face_size(MIN_FACE_SIZE)
    }

    /// A detector that ignores faces smaller than `min_face_size` pixels (at least 20).
    pub fn with_min_face_size(min_face_size: u32) -> Option<Self> {
        let model = model().as_ref()?.clone();
        let mut inner = rustface::create_detector_with_model(model);
        inner.set_min_face_size(min_face_size.max(20));
        inner.set_score_thresh(SCORE_THRESHOLD);
        inner.set_pyramid_scale_factor(PYRAMID_SCALE);
        inner.set_slide_window_step(WINDOW_STEP, WINDOW_STEP);
        Some(Self { inner })
    }

    /// The faces of a grey image, sorted left to right (then top to bottom).
    pub fn detect_gray(&mut self, gray: &GrayImage) -> Vec<Face> {
        let (width, height) = gray.dimensions();
        if width < 20 || height < 20 {
            return Vec::new();
        }
        let data = ImageData::new(gray.as_raw(), width, height);
        let mut faces: Vec<Face> = self
            .inner
            .detect(&data)
            .into_iter()
            .map(|info| {
                let b = info.bbox();
                let x1 = (b.x().max(0) as f32).min(width as f32);
                let y1 = (b.y().max(0) as f32).min(height as f32);
                let x2 = ((b.x() + b.width() as i32).max(0) as f32).min(width as f32);
                let y2 = ((b.y() + b.height() as i32).max(0) as f32).min(height as f32);
                Face {
                    x1,
                    y1,
                    x2,
                    y2,
                    score: info.score(),
                }
            })
            .filter(|f| f.width() >= 1.0 && f.height() >= 1.0)
            .collect();
        sort_left_to_right(&mut faces);
        faces
    }

    /// The faces of a colour image, sorted left to right.
    pub fn detect_rgb(&mut self, rgb: &RgbImage) -> Vec<Face> {
        self.detect_gray(&to_gray(rgb))
    }
}

/// Sorts boxes left to right, ties top to bottom: the order `index` refers to.
pub fn sort_left_to_right(faces: &mut [Face]) {
    faces.sort_by(|a, b| a.x1.total_cmp(&b.x1).then(a.y1.total_cmp(&b.y1)));
}

/// Luma of an RGB image (BT.601 weights, as rustface's own examples use).
pub fn to_gray(rgb: &RgbImage) -> GrayImage {
    let (w, h) = rgb.dimensions();
    let mut gray = GrayImage::new(w, h);
    for (dst, src) in gray.as_mut().iter_mut().zip(rgb.as_raw().chunks_exact(3)) {
        let y = 0.299 * f32::from(src[0]) + 0.587 * f32::from(src[1]) + 0.114 * f32::from(src[2]);
        *dst = y.round().clamp(0.0, 255.0) as u8;
    }
    gray
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_model_loads() {
        assert!(FaceDetector::new().is_some());
    }

    #[test]
    fn a_flat_image_has_no_faces() {
        let mut detector = FaceDetector::new().expect("model");
        assert!(detector
            .detect_gray(&GrayImage::from_pixel(200, 120, image::Luma([128])))
            .is_empty());
        assert!(detector.detect_gray(&GrayImage::new(10, 10)).is_empty());
    }

    #[test]
    fn odd_shapes_do_not_panic() {
        let mut detector = FaceDetector::new().expect("model");
        for (w, h) in [
            (20, 20),
            (21, 500),
            (500, 21),
            (1, 1000),
            (19, 19),
            (37, 23),
        ] {
            let gray =
                GrayImage::from_fn(w, h, |x, y| image::Luma([((x * 7 + y * 13) % 256) as u8]));
            for face in detector.detect_gray(&gray) {
                assert!(face.x1 >= 0.0 && face.x2 <= w as f32, "{face:?} in {w}x{h}");
                assert!(face.y1 >= 0.0 && face.y2 <= h as f32, "{face:?} in {w}x{h}");
            }
        }
    }

    #[test]
    fn boxes_compare_and_interpolate() {
        let a = Face {
            x1: 0.0,
            y1: 0.0,
            x2: 10.0,
            y2: 10.0,
            score: 3.0,
        };
        let b = Face {
            x1: 10.0,
            y1: 0.0,
            x2: 20.0,
            y2: 10.0,
            score: 5.0,
        };
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&b), 0.0);
        let mid = a.lerp(&b, 0.5);
        assert_eq!((mid.x1, mid.x2), (5.0, 15.0));
        assert_eq!(mid.centre(), (10.0, 5.0));
    }
}
