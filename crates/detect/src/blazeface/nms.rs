//! Weighted non-maximum suppression, as MediaPipe's `NonMaxSuppressionCalculator` in its
//! `WEIGHTED` mode: the best remaining candidate and every candidate overlapping it by more
//! than the threshold (IoU) become one face whose box and keypoints are the score-weighted mean
//! of the group, with the best score.

use super::decode::Candidate;

/// Intersection over union of two `[x1, y1, x2, y2]` boxes.
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// Merges overlapping candidates; the result is sorted by score, best first.
pub fn weighted_nms(mut candidates: Vec<Candidate>, threshold: f32) -> Vec<Candidate> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut faces = Vec::new();
    while let Some(best) = candidates.first().copied() {
        let (group, rest): (Vec<Candidate>, Vec<Candidate>) = candidates
            .into_iter()
            .partition(|c| iou(&c.bounds, &best.bounds) > threshold);
        candidates = rest;
        let total: f32 = group.iter().map(|c| c.score).sum();
        let mut merged = Candidate {
            bounds: [0.0; 4],
            keypoints: [[0.0; 2]; 6],
            score: best.score,
        };
        for c in &group {
            let w = c.score / total;
            for (m, v) in merged.bounds.iter_mut().zip(c.bounds) {
                *m += v * w;
            }
            for (m, v) in merged.keypoints.iter_mut().zip(c.keypoints) {
                m[0] += v[0] * w;
                m[1] += v[1] * w;
            }
        }
        faces.push(merged);
    }
    faces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(x: f32, score: f32) -> Candidate {
        Candidate {
            bounds: [x, 0.0, x + 1.0, 1.0],
            keypoints: [[x, 0.5]; 6],
            score,
        }
    }

    #[test]
    fn overlapping_candidates_merge_by_score() {
        let faces = weighted_nms(
            vec![
                candidate(0.0, 0.6),
                candidate(0.2, 0.9),
                candidate(5.0, 0.7),
            ],
            0.3,
        );
        assert_eq!(faces.len(), 2);
        assert_eq!(faces[0].score, 0.9);
        let expected = (0.0 * 0.6 + 0.2 * 0.9) / 1.5;
        assert!((faces[0].bounds[0] - expected).abs() < 1e-6);
        assert!((faces[0].keypoints[3][0] - expected).abs() < 1e-6);
        assert_eq!(faces[1].bounds[0], 5.0);
    }
}
