//! The classical swap: the new face is aligned to the old one by a similarity transform (scale,
//! rotation, shift) fitted to their eyes and mouth (BlazeFace's keypoints; boxes scaled centre to
//! centre when a face has none), then blended in by Poisson seamless cloning over the ellipse
//! inscribed in the old face's region, so the old picture's colour and light carry over with no
//! visible seam.

use image::RgbImage;

use super::detect::Face;
use super::poisson::{seamless_clone, Patch};
use faceswap_detect::{LEFT_EYE, MOUTH, RIGHT_EYE};

/// The swapped region is the face box grown by this factor about its centre, so the forehead,
/// cheeks and chin come along; the blend covers the ellipse inscribed in that region.
pub const REGION_SCALE: f32 = 1.25;
/// The new face's picture is kept with this much room around its box (the alignment may reach
/// beyond the box when the faces are turned differently).
pub const CROP_SCALE: f32 = 2.0;

/// A face ready to be pasted: the pixels around it and where its box and keypoints are.
#[derive(Debug, Clone)]
pub struct SourceFace {
    x0: f32,
    y0: f32,
    width: usize,
    height: usize,
    rgb: Vec<[f32; 3]>,
    face: Face,
}

/// The rectangle, in pixel units, that a face's swap covers.
fn region_of(face: &Face) -> (f32, f32, f32, f32) {
    let (cx, cy) = face.centre();
    let w = face.width() * REGION_SCALE;
    let h = face.height() * REGION_SCALE;
    (cx - w / 2.0, cy - h / 2.0, w, h)
}

/// Whether normalised region coordinates `u`, `v` in [0, 1] are inside the blended ellipse.
fn inside_ellipse(u: f32, v: f32) -> bool {
    let du = (u - 0.5) * 2.0;
    let dv = (v - 0.5) * 2.0;
    du * du + dv * dv < 1.0
}

/// An affine map `[x, y] -> [a x + b y + c, d x + e y + f]`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Affine([f32; 6]);

impl Affine {
    fn apply(&self, [x, y]: [f32; 2]) -> [f32; 2] {
        let [a, b, c, d, e, f] = self.0;
        [a * x + b * y + c, d * x + e * y + f]
    }

    /// The least-squares similarity taking the points `from` onto `to` (2-D Procrustes).
    fn similarity(from: &[[f32; 2]], to: &[[f32; 2]]) -> Option<Self> {
        let n = from.len() as f32;
        let mean = |points: &[[f32; 2]]| {
            let sum = points
                .iter()
                .fold([0.0, 0.0], |s, p| [s[0] + p[0], s[1] + p[1]]);
            [sum[0] / n, sum[1] / n]
        };
        let (mf, mt) = (mean(from), mean(to));
        let (mut re, mut im, mut norm) = (0.0, 0.0, 0.0);
        for (p, q) in from.iter().zip(to) {
            let (ax, ay) = (p[0] - mf[0], p[1] - mf[1]);
            let (bx, by) = (q[0] - mt[0], q[1] - mt[1]);
            re += ax * bx + ay * by;
            im += ax * by - ay * bx;
            norm += ax * ax + ay * ay;
        }
        if norm < 1e-6 {
            return None;
        }
        let (c, s) = (re / norm, im / norm);
        Some(Self([
            c,
            -s,
            mt[0] - (c * mf[0] - s * mf[1]),
            s,
            c,
            mt[1] - (s * mf[0] + c * mf[1]),
        ]))
    }

    /// The map from the `target` face to the `source` face: by eyes and mouth when both have
    /// keypoints, else box to box (centres aligned, each axis scaled).
    fn between(target: &Face, source: &Face) -> Self {
        let landmarks = |face: &Face| {
            face.keypoints
                .map(|k| [k[RIGHT_EYE], k[LEFT_EYE], k[MOUTH]])
        };
        if let (Some(from), Some(to)) = (landmarks(target), landmarks(source)) {
            if let Some(fit) = Self::similarity(&from, &to) {
                return fit;
            }
        }
        let (sx, sy) = (
            source.width() / target.width().max(1.0),
            source.height() / target.height().max(1.0),
        );
        let (tc, sc) = (target.centre(), source.centre());
        Self([sx, 0.0, sc.0 - sx * tc.0, 0.0, sy, sc.1 - sy * tc.1])
    }
}

impl SourceFace {
    /// Takes the face in `face` out of `image`, with room around it.
    pub fn from_image(image: &RgbImage, face: &Face) -> Option<Self> {
        let (cx, cy) = face.centre();
        let (w, h) = (face.width() * CROP_SCALE, face.height() * CROP_SCALE);
        if image.width() == 0 || image.height() == 0 || w < 2.0 || h < 2.0 {
            return None;
        }
        let x0 = (cx - w / 2.0)
            .floor()
            .clamp(0.0, image.width() as f32 - 1.0);
        let y0 = (cy - h / 2.0)
            .floor()
            .clamp(0.0, image.height() as f32 - 1.0);
        let x1 = (cx + w / 2.0).ceil().clamp(x0 + 1.0, image.width() as f32);
        let y1 = (cy + h / 2.0).ceil().clamp(y0 + 1.0, image.height() as f32);
        let (width, height) = ((x1 - x0) as usize, (y1 - y0) as usize);
        if width > 8192 || height > 8192 {
            return None;
        }
        let mut rgb = Vec::with_capacity(width * height);
        for y in y0 as u32..y1 as u32 {
            for x in x0 as u32..x1 as u32 {
                rgb.push(image.get_pixel(x, y).0.map(f32::from));
            }
        }
        Some(Self {
            x0,
            y0,
            width,
            height,
            rgb,
            face: *face,
        })
    }

    /// Bilinear sample at a point of the source image (edges repeat).
    fn sample(&self, [x, y]: [f32; 2]) -> [f32; 3] {
        let x = (x - self.x0 - 0.5).clamp(0.0, (self.width - 1) as f32);
        let y = (y - self.y0 - 0.5).clamp(0.0, (self.height - 1) as f32);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let at = |xx: usize, yy: usize| self.rgb[yy * self.width + xx];
        let (a, b, c, d) = (at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1));
        std::array::from_fn(|k| {
            let top = a[k] + (b[k] - a[k]) * fx;
            let bottom = c[k] + (d[k] - c[k]) * fx;
            top + (bottom - top) * fy
        })
    }
}

/// Pixel bounds of a face's swap region clipped to the image: `(x0, y0, x1, y1)`, exclusive ends.
pub fn region_bounds(face: &Face, width: u32, height: u32) -> (u32, u32, u32, u32) {
    let (x, y, w, h) = region_of(face);
    let x0 = x.floor().clamp(0.0, width as f32) as u32;
    let y0 = y.floor().clamp(0.0, height as f32) as u32;
    let x1 = (x + w).ceil().clamp(0.0, width as f32) as u32;
    let y1 = (y + h).ceil().clamp(0.0, height as f32) as u32;
    (x0, y0, x1, y1)
}

/// Pastes `source` over the face `target` of `image`: aligned by keypoints, blended by Poisson
/// cloning. Pixels outside the target's region (the box grown by [`REGION_SCALE`]) are never
/// touched.
pub fn paste(image: &mut RgbImage, target: &Face, source: &SourceFace) {
    let (rx, ry, rw, rh) = region_of(target);
    if rw < 2.0 || rh < 2.0 {
        return;
    }
    let (x0, y0, x1, y1) = region_bounds(target, image.width(), image.height());
    let (width, height) = ((x1 - x0) as usize, (y1 - y0) as usize);
    if width == 0 || height == 0 {
        return;
    }
    let to_source = Affine::between(target, &source.face);
    let mut old = Vec::with_capacity(width * height);
    let mut new = Vec::with_capacity(width * height);
    let mut inside = Vec::with_capacity(width * height);
    for y in y0..y1 {
        for x in x0..x1 {
            let centre = [x as f32 + 0.5, y as f32 + 0.5];
            old.push(image.get_pixel(x, y).0.map(f32::from));
            new.push(source.sample(to_source.apply(centre)));
            inside.push(inside_ellipse((centre[0] - rx) / rw, (centre[1] - ry) / rh));
        }
    }
    let blended = seamless_clone(&Patch {
        width,
        height,
        target: &old,
        source: &new,
        inside: &inside,
    });
    for (i, value) in blended.iter().enumerate() {
        if inside[i] {
            let (x, y) = (x0 + (i % width) as u32, y0 + (i / width) as u32);
            image.put_pixel(
                x,
                y,
                image::Rgb(value.map(|v| v.round().clamp(0.0, 255.0) as u8)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn face(x1: f32, y1: f32, x2: f32, y2: f32) -> Face {
        Face {
            x1,
            y1,
            x2,
            y2,
            score: 5.0,
            keypoints: None,
        }
    }

    #[test]
    fn the_ellipse_fills_the_middle_not_the_corners() {
        assert!(inside_ellipse(0.5, 0.5));
        assert!(!inside_ellipse(0.0, 0.0));
        assert!(!inside_ellipse(1.0, 0.5));
        assert!(inside_ellipse(0.9, 0.5));
    }

    #[test]
    fn keypoints_align_by_a_similarity() {
        let mut target = face(0.0, 0.0, 10.0, 10.0);
        target.keypoints = Some([
            [3.0, 4.0],
            [7.0, 4.0],
            [5.0, 5.0],
            [5.0, 8.0],
            [0.0, 5.0],
            [10.0, 5.0],
        ]);
        // The source face: twice as big, turned a quarter, elsewhere.
        let turn = |[x, y]: [f32; 2]| [100.0 - 2.0 * y, 50.0 + 2.0 * x];
        let mut source = target;
        source.keypoints = target.keypoints.map(|k| k.map(turn));
        let map = Affine::between(&target, &source);
        for p in [[3.0, 4.0], [5.0, 8.0], [1.0, 1.0]] {
            let [x, y] = map.apply(p);
            let [ex, ey] = turn(p);
            assert!(
                (x - ex).abs() < 1e-3 && (y - ey).abs() < 1e-3,
                "{p:?}: {x},{y}"
            );
        }
        // Without keypoints: box to box.
        let boxes = Affine::between(&face(0.0, 0.0, 10.0, 10.0), &face(100.0, 0.0, 120.0, 10.0));
        assert_eq!(boxes.apply([5.0, 5.0]), [110.0, 5.0]);
    }

    #[test]
    fn paste_changes_only_the_region() {
        let mut source_image = RgbImage::new(100, 100);
        for (x, y, p) in source_image.enumerate_pixels_mut() {
            *p = Rgb([(x * 2) as u8, (y * 2) as u8, ((x + y) % 256) as u8]);
        }
        let source =
            SourceFace::from_image(&source_image, &face(25.0, 25.0, 75.0, 75.0)).expect("source");
        let mut target = RgbImage::from_pixel(200, 100, Rgb([90, 60, 50]));
        for (x, _, p) in target.enumerate_pixels_mut() {
            p.0[0] = (x % 200) as u8;
        }
        let before = target.clone();
        let target_face = face(120.0, 30.0, 160.0, 70.0);
        paste(&mut target, &target_face, &source);
        let (x0, y0, x1, y1) = region_bounds(&target_face, 200, 100);
        let mut changed_inside = 0;
        for (x, y, p) in target.enumerate_pixels() {
            let inside = x >= x0 && x < x1 && y >= y0 && y < y1;
            if !inside {
                assert_eq!(
                    p,
                    before.get_pixel(x, y),
                    "pixel {x},{y} outside the region changed"
                );
            } else if p != before.get_pixel(x, y) {
                changed_inside += 1;
            }
        }
        assert!(changed_inside > 500, "{changed_inside}");
    }
}
