//! The classical swap: a face is scaled into a target box (centres aligned), its colours are
//! moved to the target's in L*a*b*, and it is blended in through a feathered elliptical mask.

use image::RgbImage;

use super::color::{lab_to_rgb, rgb_to_lab, transfer, Lab, Stats, StatsBuilder};
use super::detect::Face;

/// The swapped region is the face box grown by this factor about its centre, so the forehead,
/// cheeks and chin come along; the mask is the ellipse inscribed in that region.
pub const REGION_SCALE: f32 = 1.25;
/// Inside this fraction of the ellipse's radius the new face is fully opaque; it fades to
/// nothing at the ellipse's edge.
pub const FEATHER_START: f32 = 0.70;

/// A face ready to be pasted: its region in L*a*b* and the colour statistics under the mask.
#[derive(Debug, Clone)]
pub struct SourceFace {
    width: usize,
    height: usize,
    lab: Vec<Lab>,
    stats: Stats,
}

/// The rectangle, in pixel units, that a face's swap covers.
fn region_of(face: &Face) -> (f32, f32, f32, f32) {
    let (cx, cy) = face.centre();
    let w = face.width() * REGION_SCALE;
    let h = face.height() * REGION_SCALE;
    (cx - w / 2.0, cy - h / 2.0, w, h)
}

/// Mask weight at normalised region coordinates `u`, `v` in [0, 1].
fn mask(u: f32, v: f32) -> f32 {
    let du = (u - 0.5) * 2.0;
    let dv = (v - 0.5) * 2.0;
    let d = (du * du + dv * dv).sqrt();
    if d <= FEATHER_START {
        1.0
    } else if d >= 1.0 {
        0.0
    } else {
        let t = (1.0 - d) / (1.0 - FEATHER_START);
        t * t * (3.0 - 2.0 * t)
    }
}

impl SourceFace {
    /// Takes the face in `face` out of `image`; pixels beyond the image edge repeat the edge.
    pub fn from_image(image: &RgbImage, face: &Face) -> Option<Self> {
        let (x0, y0, w, h) = region_of(face);
        let width = w.round().max(1.0) as usize;
        let height = h.round().max(1.0) as usize;
        if image.width() == 0 || image.height() == 0 || width > 8192 || height > 8192 {
            return None;
        }
        let mut lab = Vec::with_capacity(width * height);
        let mut stats = StatsBuilder::default();
        let max_x = image.width() as f32 - 1.0;
        let max_y = image.height() as f32 - 1.0;
        for j in 0..height {
            for i in 0..width {
                let x = (x0 + (i as f32 + 0.5) * w / width as f32).clamp(0.0, max_x);
                let y = (y0 + (j as f32 + 0.5) * h / height as f32).clamp(0.0, max_y);
                let p = image.get_pixel(x as u32, y as u32).0;
                let value = rgb_to_lab(p);
                let weight = mask(
                    (i as f32 + 0.5) / width as f32,
                    (j as f32 + 0.5) / height as f32,
                );
                stats.add(value, weight);
                lab.push(value);
            }
        }
        Some(Self {
            width,
            height,
            lab,
            stats: stats.finish()?,
        })
    }

    /// Bilinear sample at normalised coordinates.
    fn sample(&self, u: f32, v: f32) -> Lab {
        let x = (u * self.width as f32 - 0.5).clamp(0.0, (self.width - 1) as f32);
        let y = (v * self.height as f32 - 0.5).clamp(0.0, (self.height - 1) as f32);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let at = |xx: usize, yy: usize| self.lab[yy * self.width + xx];
        let (a, b, c, d) = (at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1));
        let mut out = [0.0; 3];
        for k in 0..3 {
            let top = a[k] + (b[k] - a[k]) * fx;
            let bottom = c[k] + (d[k] - c[k]) * fx;
            out[k] = top + (bottom - top) * fy;
        }
        out
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

/// Pastes `source` over the face `target` of `image`. Pixels outside the target's region
/// (the box grown by [`REGION_SCALE`]) are never touched.
pub fn paste(image: &mut RgbImage, target: &Face, source: &SourceFace) {
    let (rx, ry, rw, rh) = region_of(target);
    if rw < 2.0 || rh < 2.0 {
        return;
    }
    let (x0, y0, x1, y1) = region_bounds(target, image.width(), image.height());
    // Colour statistics of the target under the same mask.
    let mut target_stats = StatsBuilder::default();
    let uv = |x: u32, y: u32| (((x as f32 + 0.5) - rx) / rw, ((y as f32 + 0.5) - ry) / rh);
    for y in y0..y1 {
        for x in x0..x1 {
            let (u, v) = uv(x, y);
            let w = mask(u, v);
            if w > 0.0 {
                target_stats.add(rgb_to_lab(image.get_pixel(x, y).0), w);
            }
        }
    }
    let Some(target_stats) = target_stats.finish() else {
        return;
    };
    for y in y0..y1 {
        for x in x0..x1 {
            let (u, v) = uv(x, y);
            let alpha = mask(u, v);
            if alpha <= 0.0 {
                continue;
            }
            let new = lab_to_rgb(transfer(source.sample(u, v), &source.stats, &target_stats));
            let pixel = image.get_pixel_mut(x, y);
            for (channel, &value) in pixel.0.iter_mut().zip(&new) {
                let old = f32::from(*channel);
                *channel = (old + (f32::from(value) - old) * alpha).round() as u8;
            }
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
    fn mask_is_opaque_in_the_middle_and_clear_at_the_edge() {
        assert_eq!(mask(0.5, 0.5), 1.0);
        assert_eq!(mask(0.0, 0.0), 0.0);
        assert_eq!(mask(1.0, 0.5), 0.0);
        let mid = mask(0.5 + 0.425, 0.5);
        assert!(mid > 0.0 && mid < 1.0, "{mid}");
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
