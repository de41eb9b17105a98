//! What the people finder cuts out of a frame around a face: the upright 150 x 150 chip the
//! recognition network describes, the padded crop handed back to the app, and how good a view of
//! the face the frame gives (large, frontal, sharp).

use super::resnet::INPUT;
use crate::{Face, LEFT_EYE, NOSE, RIGHT_EYE};

/// Padding of the crop on every side, as a fraction of the box (as `cropFaces`' default).
pub const CROP_PADDING: f32 = 0.2;

/// An RGBA frame.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// `width * height * 4` bytes.
    pub rgba: &'a [u8],
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
}

/// A rectangle of pixels copied out of a frame: RGBA, `width * height * 4` bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Crop {
    /// Left edge in the frame.
    pub x: u32,
    /// Top edge in the frame.
    pub y: u32,
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// The pixels.
    pub rgba: Vec<u8>,
}

impl Frame<'_> {
    /// Bilinear sample of R, G, B at `(x, y)` (pixel centres at half integers), edges clamped.
    fn sample(&self, x: f32, y: f32) -> [f32; 3] {
        let (w, h) = (self.width as i64, self.height as i64);
        let (fx, fy) = (x - 0.5, y - 0.5);
        let (x0, y0) = (fx.floor(), fy.floor());
        let (tx, ty) = (fx - x0, fy - y0);
        let at = |xi: i64, yi: i64| {
            let (xi, yi) = (xi.clamp(0, w - 1), yi.clamp(0, h - 1));
            let p = ((yi * w + xi) * 4) as usize;
            [self.rgba[p], self.rgba[p + 1], self.rgba[p + 2]].map(f32::from)
        };
        let (x0, y0) = (x0 as i64, y0 as i64);
        let (a, b, c, d) = (
            at(x0, y0),
            at(x0 + 1, y0),
            at(x0, y0 + 1),
            at(x0 + 1, y0 + 1),
        );
        std::array::from_fn(|i| {
            let top = a[i] + (b[i] - a[i]) * tx;
            let bottom = c[i] + (d[i] - c[i]) * tx;
            top + (bottom - top) * ty
        })
    }

    /// Whether the buffer holds `width x height` RGBA pixels (and at least one).
    pub fn is_valid(&self) -> bool {
        self.width > 0
            && self.height > 0
            && self.rgba.len() == self.width as usize * self.height as usize * 4
    }
}

/// The face as the recognition network wants it: a square around the box, turned so the eyes
/// are level, resampled to `INPUT x INPUT` RGB.
pub fn chip(frame: &Frame, face: &Face) -> Vec<u8> {
    let (cx, cy) = face.centre();
    let side = face.width().max(face.height());
    let angle = face
        .keypoints
        .map(|k| (k[LEFT_EYE][1] - k[RIGHT_EYE][1]).atan2(k[LEFT_EYE][0] - k[RIGHT_EYE][0]))
        .unwrap_or(0.0);
    let (sin, cos) = angle.sin_cos();
    let mut out = Vec::with_capacity(INPUT * INPUT * 3);
    for v in 0..INPUT {
        for u in 0..INPUT {
            let dx = ((u as f32 + 0.5) / INPUT as f32 - 0.5) * side;
            let dy = ((v as f32 + 0.5) / INPUT as f32 - 0.5) * side;
            let rgb = frame.sample(cx + dx * cos - dy * sin, cy + dx * sin + dy * cos);
            out.extend(rgb.map(|c| c.round().clamp(0.0, 255.0) as u8));
        }
    }
    out
}

/// The box grown by [`CROP_PADDING`] on every side, clamped to the frame, copied out.
pub fn crop(frame: &Frame, face: &Face) -> Crop {
    let (pad_x, pad_y) = (face.width() * CROP_PADDING, face.height() * CROP_PADDING);
    let clamp = |v: f32, max: u32| v.round().clamp(0.0, max as f32) as u32;
    let (x1, y1) = (
        clamp(face.x1 - pad_x, frame.width),
        clamp(face.y1 - pad_y, frame.height),
    );
    let (x2, y2) = (
        clamp(face.x2 + pad_x, frame.width),
        clamp(face.y2 + pad_y, frame.height),
    );
    let (width, height) = (
        (x2.max(x1 + 1)).min(frame.width) - x1,
        (y2.max(y1 + 1)).min(frame.height) - y1,
    );
    let mut rgba = Vec::with_capacity((width * height * 4) as usize);
    for y in y1..y1 + height {
        let row = ((y * frame.width + x1) * 4) as usize;
        rgba.extend_from_slice(&frame.rgba[row..row + (width * 4) as usize]);
    }
    Crop {
        x: x1,
        y: y1,
        width,
        height,
        rgba,
    }
}

/// How good a view of the face this is, 0 to 1: larger (up to 256 px), more frontal (the nose
/// between the eyes) and sharper (the variance of the chip's Laplacian) is better.
pub fn quality(face: &Face, chip: &[u8]) -> f32 {
    let size = (face.width().min(face.height()) / 256.0).clamp(0.0, 1.0);
    let frontal = face.keypoints.map_or(0.5, |k| {
        let (r, l, n) = (k[RIGHT_EYE], k[LEFT_EYE], k[NOSE]);
        let eyes = ((l[0] - r[0]).powi(2) + (l[1] - r[1]).powi(2))
            .sqrt()
            .max(1.0);
        // The nose's offset from the eyes' midpoint along the eye line, in eye distances.
        let along = ((n[0] - (l[0] + r[0]) / 2.0) * (l[0] - r[0])
            + (n[1] - (l[1] + r[1]) / 2.0) * (l[1] - r[1]))
            / (eyes * eyes);
        (1.0 - 2.0 * along.abs()).clamp(0.0, 1.0)
    });
    let sharp = sharpness(chip);
    size * (0.3 + 0.7 * frontal) * (0.3 + 0.7 * sharp)
}

/// 0 to 1 from the variance of the Laplacian of the chip's luma (blurred faces score low).
fn sharpness(chip: &[u8]) -> f32 {
    let luma: Vec<f32> = chip
        .chunks_exact(3)
        .map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
        .collect();
    let n = INPUT;
    if luma.len() != n * n {
        return 0.0;
    }
    let (mut sum, mut sum2, mut count) = (0.0f64, 0.0f64, 0.0f64);
    for y in 1..n - 1 {
        for x in 1..n - 1 {
            let at = y * n + x;
            let lap = f64::from(
                4.0 * luma[at] - luma[at - 1] - luma[at + 1] - luma[at - n] - luma[at + n],
            );
            sum += lap;
            sum2 += lap * lap;
            count += 1.0;
        }
    }
    let variance = (sum2 / count - (sum / count).powi(2)) as f32;
    variance / (variance + 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x1: f32, y1: f32, x2: f32, y2: f32, nose_x: f32) -> Face {
        let cy = (y1 + y2) / 2.0;
        let kp = [
            [x1 + 10.0, cy],
            [x2 - 10.0, cy],
            [nose_x, cy + 5.0],
            [nose_x, cy + 10.0],
            [x1, cy],
            [x2, cy],
        ];
        Face {
            x1,
            y1,
            x2,
            y2,
            score: 0.9,
            keypoints: Some(kp),
        }
    }

    #[test]
    fn the_chip_of_a_flat_frame_is_flat_and_the_right_size() {
        let rgba = [10u8, 20, 30, 255].repeat(64 * 48);
        let frame = Frame {
            rgba: &rgba,
            width: 64,
            height: 48,
        };
        let chip = chip(&frame, &face(10.0, 10.0, 40.0, 40.0, 25.0));
        assert_eq!(chip.len(), INPUT * INPUT * 3);
        assert!(chip.chunks_exact(3).all(|p| p == [10, 20, 30]));
    }

    #[test]
    fn the_crop_is_padded_and_clamped_to_the_frame() {
        let rgba: Vec<u8> = (0..64 * 48 * 4).map(|i| (i % 251) as u8).collect();
        let frame = Frame {
            rgba: &rgba,
            width: 64,
            height: 48,
        };
        let padded = crop(&frame, &face(10.0, 10.0, 40.0, 40.0, 25.0));
        assert_eq!(
            (padded.x, padded.y, padded.width, padded.height),
            (4, 4, 42, 42)
        );
        assert_eq!(
            &padded.rgba[..4],
            &rgba[(4 * 64 + 4) * 4..(4 * 64 + 4) * 4 + 4]
        );
        let edge = crop(&frame, &face(50.0, 30.0, 70.0, 60.0, 60.0));
        assert_eq!((edge.x + edge.width, edge.y + edge.height), (64, 48));
    }

    #[test]
    fn frontal_sharp_faces_score_higher() {
        let flat = vec![128u8; INPUT * INPUT * 3];
        let busy: Vec<u8> = (0..INPUT * INPUT * 3)
            .map(|i| {
                if (i / 3 + i / (3 * INPUT)) % 2 == 0 {
                    0
                } else {
                    255
                }
            })
            .collect();
        let frontal = face(0.0, 0.0, 100.0, 100.0, 50.0);
        let turned = face(0.0, 0.0, 100.0, 100.0, 85.0);
        assert!(quality(&frontal, &busy) > quality(&turned, &busy));
        assert!(quality(&frontal, &busy) > quality(&frontal, &flat));
    }
}
