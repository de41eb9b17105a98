//! A detected face box.

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
    /// The detector's confidence (BlazeFace: 0..1).
    pub score: f64,
    /// BlazeFace's six keypoints in pixels, `[x, y]` each: right eye, left eye, nose tip, mouth
    /// centre, right ear tragion, left ear tragion (the person's right: the left of an unmirrored
    /// photo). `None` from detectors without keypoints.
    pub keypoints: Option<[[f32; 2]; 6]>,
}

/// Index of the right eye in [`Face::keypoints`].
pub const RIGHT_EYE: usize = 0;
/// Index of the left eye in [`Face::keypoints`].
pub const LEFT_EYE: usize = 1;
/// Index of the nose tip in [`Face::keypoints`].
pub const NOSE: usize = 2;
/// Index of the mouth centre in [`Face::keypoints`].
pub const MOUTH: usize = 3;

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
            keypoints: match (self.keypoints, other.keypoints) {
                (Some(a), Some(b)) => {
                    let mut points = a;
                    for (p, q) in points.iter_mut().zip(b) {
                        *p = [mix(p[0], q[0]), mix(p[1], q[1])];
                    }
                    Some(points)
                }
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_compare_and_interpolate() {
        let a = Face {
            x1: 0.0,
            y1: 0.0,
            x2: 10.0,
            y2: 10.0,
            score: 3.0,
            keypoints: None,
        };
        let b = Face {
            x1: 10.0,
            y1: 0.0,
            x2: 20.0,
            y2: 10.0,
            score: 5.0,
            keypoints: None,
        };
        assert_eq!(a.iou(&a), 1.0);
        assert_eq!(a.iou(&b), 0.0);
        let mid = a.lerp(&b, 0.5);
        assert_eq!((mid.x1, mid.x2), (5.0, 15.0));
        assert_eq!(mid.centre(), (10.0, 5.0));
    }
}
