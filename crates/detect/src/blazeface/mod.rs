//! MediaPipe's BlazeFace detectors run by this crate's own network runner: the whole frame
//! letterboxed into the model's input, the network, box decoding against the SSD anchors,
//! weighted non-maximum suppression, boxes and keypoints mapped back to frame pixels.
//!
//! One pass over the whole frame finds faces down to about 6% of its longer side. Running the
//! fully convolutional full-range model at a finer scale was tried and does not pay: on the
//! 1927 group photo (faces about 3% of the longer side) it found 0, 1 and 5 of the 29 faces at
//! 384, 512 and 768 pixels; rustface finds them all (`CombinedDetector`).

mod anchors;
mod decode;
mod letterbox;
mod nms;

pub use anchors::{AnchorSpec, FULL_RANGE, SHORT_RANGE};

use crate::error::ModelError;
use crate::face::Face;
use crate::net::Network;
use crate::tflite;
use decode::Candidate;

/// Candidates below this score are dropped (MediaPipe's `minDetectionConfidence` default).
pub const MIN_SCORE: f32 = 0.5;
/// Candidates overlapping a better one by more than this IoU are merged into it (MediaPipe's
/// `min_suppression_threshold` for faces).
pub const NMS_THRESHOLD: f32 = 0.3;

/// The network with the anchors of its input size.
#[derive(Debug, Clone)]
struct Pass {
    network: Network,
    anchors: Vec<[f32; 2]>,
}

/// A BlazeFace model ready to run. Holds its activations, so one detector runs one frame at a
/// time (`&mut self`); make one per thread.
#[derive(Debug, Clone)]
pub struct BlazeFace {
    spec: AnchorSpec,
    base: Pass,
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
        let anchors = anchors::anchors(spec, input.h, input.w);
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
            spec,
            base: Pass { network, anchors },
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
        let channels = channels.max(3);
        let size = self.spec.input_size;
        let (boxes_output, scores_output) = (self.boxes_output, self.scores_output);
        let frame = (width, height);
        let candidates = run(
            &mut self.base,
            pixels,
            channels,
            frame,
            (size, size),
            min_score,
            (boxes_output, scores_output),
        );
        let (w, h) = (width as f32, height as f32);
        let mut faces: Vec<Face> = nms::weighted_nms(candidates, NMS_THRESHOLD)
            .into_iter()
            .map(|c| Face {
                x1: c.bounds[0].clamp(0.0, w),
                y1: c.bounds[1].clamp(0.0, h),
                x2: c.bounds[2].clamp(0.0, w),
                y2: c.bounds[3].clamp(0.0, h),
                score: f64::from(c.score),
                keypoints: Some(c.keypoints),
            })
            .filter(|f| f.width() >= 1.0 && f.height() >= 1.0)
            .collect();
        crate::sort_left_to_right(&mut faces);
        faces
    }
}

/// One pass: the frame letterboxed into `input` (width, height), the network, the candidates
/// in frame pixels.
fn run(
    pass: &mut Pass,
    pixels: &[u8],
    channels: usize,
    frame: (u32, u32),
    input: (usize, usize),
    min_score: f32,
    (boxes_output, scores_output): (usize, usize),
) -> Vec<Candidate> {
    let letterbox = letterbox::fill(pixels, channels, frame, input, pass.network.input_mut());
    pass.network.run();
    let (Some((boxes, _)), Some((logits, _))) = (
        pass.network.output(boxes_output),
        pass.network.output(scores_output),
    ) else {
        return Vec::new();
    };
    decode::decode(boxes, logits, &pass.anchors, min_score)
        .into_iter()
        .map(|c| {
            let [x1, y1] = letterbox.to_frame([c.bounds[0], c.bounds[1]]);
            let [x2, y2] = letterbox.to_frame([c.bounds[2], c.bounds[3]]);
            Candidate {
                bounds: [x1, y1, x2, y2],
                keypoints: c.keypoints.map(|p| letterbox.to_frame(p)),
                score: c.score,
            }
        })
        .collect()
}
