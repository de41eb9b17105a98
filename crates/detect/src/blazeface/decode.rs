//! Reading the raw outputs of BlazeFace: per anchor 16 regressed values (box centre offset,
//! width, height, then six keypoints as x, y offsets, all in input pixels) and one logit.
//! As MediaPipe's `TensorsToDetectionsCalculator` with the face graphs' options
//! (`sigmoid_score`, `score_clipping_thresh: 100`, scales equal to the input size).

/// A candidate face in pixels (of the model's input, then of the frame).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// `[x1, y1, x2, y2]`.
    pub bounds: [f32; 4],
    /// The six keypoints: right eye, left eye, nose tip, mouth centre, right ear, left ear
    /// (the person's right, on the left of an unmirrored image).
    pub keypoints: [[f32; 2]; 6],
    /// Sigmoid of the logit.
    pub score: f32,
}

/// Candidates scoring at least `min_score`, in input pixels (`anchors` are in input pixels too).
pub fn decode(
    boxes: &[f32],
    logits: &[f32],
    anchors: &[[f32; 2]],
    min_score: f32,
) -> Vec<Candidate> {
    boxes
        .chunks_exact(16)
        .zip(logits)
        .zip(anchors)
        .filter_map(|((raw, &logit), &[ax, ay])| {
            let score = 1.0 / (1.0 + (-logit.clamp(-100.0, 100.0)).exp());
            if score < min_score {
                return None;
            }
            let at = |i: usize| raw[i];
            let (cx, cy, w, h) = (at(0) + ax, at(1) + ay, at(2), at(3));
            let mut keypoints = [[0.0; 2]; 6];
            for (k, point) in keypoints.iter_mut().enumerate() {
                *point = [at(4 + 2 * k) + ax, at(5 + 2 * k) + ay];
            }
            Some(Candidate {
                bounds: [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0],
                keypoints,
                score,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_relative_to_the_anchor() {
        let mut raw = [0.0f32; 16];
        raw[0] = 10.0;
        raw[2] = 20.0;
        raw[3] = 10.0;
        raw[4] = -5.0;
        let found = decode(&raw, &[0.0], &[[50.0, 50.0]], 0.5);
        assert_eq!(found.len(), 1);
        let c = found[0];
        assert_eq!(c.bounds, [50.0, 45.0, 70.0, 55.0]);
        assert_eq!(c.keypoints[0], [45.0, 50.0]);
        assert_eq!(c.score, 0.5);
        assert!(decode(&raw, &[-1.0], &[[50.0, 50.0]], 0.5).is_empty());
    }
}
