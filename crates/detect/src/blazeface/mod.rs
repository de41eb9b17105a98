//! MediaPipe's BlazeFace detectors run by this crate's own network runner: the frame letterboxed
//! into the model's square input in one pass, the network, box decoding against the SSD anchors,
//! weighted non-maximum suppression, boxes and keypoints mapped back to frame pixels.

mod anchors;
mod decode;
mod letterbox;
mod nms;

pub use anchors::{AnchorSpec, FULL_RANGE, SHORT_RANGE};

use crate::error::ModelError;
use crate::face::Face;
use crate::net::Network;
use crate::tflite;

/// Candidates below this score are dropped (MediaPipe's `minDetectionConfidence` default).
pub const MIN_SCORE: f32 = 0.5;
/// Candidates overlapping a better one by more than this IoU are merged into it (MediaPipe's
/// `min_suppression_threshold` for faces).
pub const NMS_THRESHOLD: f32 = 0.3;

/// A BlazeFace model ready to run. Holds its activations, so one detector runs one frame at a
/// time (`&mut self`); make one per thread.
#[derive(Debug, Clone)]
pub struct BlazeFace {
    network: Network,
    anchors: Vec<[f32; 2]>,
    input_size: usize,
    boxes_output: usize,
    scores_output: usize,
}

impl BlazeFace {
    /// Loads a BlazeFace `.tflite` file whose anchors follow `spec`.
    pub fn new(model: &[u8], spec: AnchorSpec) -> Result<Self, ModelError> {
        let network = Network::new(&tflite::read(model)?)?;
        let input = network.input_dims();
        if input.h != spec.input_size || input.w != spec.input_size || input.c != 3 {
            return Err(ModelError::Unsupported(format!(
                "input {}x{}x{}, expected {s}x{s}x3",
                input.h,
                input.w,
                input.c,
                s = spec.input_size
            )));
        }
        let anchors = anchors::anchors(spec);
        let find = |channels: usize| {
            (0..network.output_count())
                .find(|&n| {
                    network
                        .output(n)
                        .is_some_and(|(v, c)| c == channels && v.len() == anchors.len() * c)
                })
                .ok_or_else(|| {
                    ModelError::Unsupported(format!(
                        "no output of {} anchors x {channels}",
                        anchors.len()
                    ))
                })
        };
        let (boxes_output, scores_output) = (find(16)?, find(1)?);
        Ok(Self {
            network,
            anchors,
            input_size: spec.input_size,
            boxes_output,
            scores_output,
        })
    }

    /// The faces scoring at least `min_score` (0..1) in a frame of `channels` bytes per pixel
    /// (3 for RGB, 4 for RGBA), with boxes and keypoints in frame pixels, sorted left to right.
    pub fn detect(
        &mut self,
        pixels: &[u8],
        channels: usize,
        width: u32,
        height: u32,
        min_score: f32,
    ) -> Vec<Face> {
        let size = self.input_size;
        let letterbox = letterbox::fill(
            pixels,
            channels.max(3),
            width,
            height,
            size,
            self.network.input_mut(),
        );
        self.network.run();
        let (Some((boxes, _)), Some((logits, _))) = (
            self.network.output(self.boxes_output),
            self.network.output(self.scores_output),
        ) else {
            return Vec::new();
        };
        let candidates = decode::decode(boxes, logits, &self.anchors, size as f32, min_score);
        let (w, h) = (width as f32, height as f32);
        let mut faces: Vec<Face> = nms::weighted_nms(candidates, NMS_THRESHOLD)
            .into_iter()
            .map(|c| {
                let [x1, y1] = letterbox.to_frame([c.bounds[0], c.bounds[1]]);
                let [x2, y2] = letterbox.to_frame([c.bounds[2], c.bounds[3]]);
                Face {
                    x1: x1.clamp(0.0, w),
                    y1: y1.clamp(0.0, h),
                    x2: x2.clamp(0.0, w),
                    y2: y2.clamp(0.0, h),
                    score: f64::from(c.score),
                    keypoints: Some(c.keypoints.map(|p| letterbox.to_frame(p))),
                }
            })
            .filter(|f| f.width() >= 1.0 && f.height() >= 1.0)
            .collect();
        crate::sort_left_to_right(&mut faces);
        faces
    }
}
