//! BlazeFace, plus the small faces only rustface finds (feature `seeta`): what the sandbox runs,
//! and what the browser runs with `detectFaces(source, { smallFaces: true })`.
//!
//! BlazeFace on the whole frame finds frontal, turned and tilted faces down to about 6% of the
//! frame's longer side; rustface (frontal only, about 5 times slower in the browser) finds
//! smaller frontal faces, as in group photos (measured on the 1927 group photo: rustface 29 of
//! 29, BlazeFace 0, MediaPipe's own solution 0). A rustface box is added only where no BlazeFace
//! box is: its centre outside every BlazeFace box.

use crate::face::Face;
use crate::{sort_left_to_right, to_gray, FaceDetector, ModelError, SeetaDetector};

/// BlazeFace and rustface together. Not `Send` (rustface's detector): make one per thread.
pub struct CombinedDetector {
    blazeface: FaceDetector,
    seeta: SeetaDetector,
}

impl CombinedDetector {
    /// Both detectors with their built-in models.
    pub fn new() -> Result<Self, ModelError> {
        Ok(Self {
            blazeface: FaceDetector::new()?,
            seeta: SeetaDetector::new().ok_or(ModelError::Corrupt("the SeetaFace model"))?,
        })
    }

    /// BlazeFace's faces scoring at least `min_score` (with keypoints), plus rustface's faces
    /// where BlazeFace has none (without keypoints), sorted left to right.
    pub fn detect(
        &mut self,
        pixels: &[u8],
        channels: usize,
        width: u32,
        height: u32,
        min_score: f32,
    ) -> Vec<Face> {
        let mut faces = self
            .blazeface
            .detect(pixels, channels, width, height, min_score);
        let gray = to_gray(pixels, channels);
        let extra: Vec<Face> = self
            .seeta
            .detect_gray(&gray, width, height)
            .into_iter()
            .filter(|small| {
                let (x, y) = small.centre();
                !faces
                    .iter()
                    .any(|f| (f.x1..f.x2).contains(&x) && (f.y1..f.y2).contains(&y))
            })
            .collect();
        faces.extend(extra);
        sort_left_to_right(&mut faces);
        faces
    }
}
