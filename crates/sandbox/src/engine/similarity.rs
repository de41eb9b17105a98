//! A simple appearance descriptor for telling faces apart: the face box shrunk to a small colour
//! thumbnail, centred and normalised, compared by cosine similarity.

use image::RgbImage;

use super::detect::Face;

/// Thumbnail side, in pixels.
const SIDE: usize = 16;
/// A face that resembles no reference at least this much is left alone.
pub const MIN_SIMILARITY: f32 = 0.55;

/// A unit-length appearance vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Descriptor(Vec<f32>);

impl Descriptor {
    /// Describes the face in `face` of `image` (box averages over a 16x16 grid).
    pub fn of(image: &RgbImage, face: &Face) -> Option<Self> {
        let (w, h) = (image.width() as f32, image.height() as f32);
        let x1 = face.x1.clamp(0.0, w);
        let y1 = face.y1.clamp(0.0, h);
        let x2 = face.x2.clamp(0.0, w);
        let y2 = face.y2.clamp(0.0, h);
        if x2 - x1 < 4.0 || y2 - y1 < 4.0 {
            return None;
        }
        let cell_w = (x2 - x1) / SIDE as f32;
        let cell_h = (y2 - y1) / SIDE as f32;
        let mut values = Vec::with_capacity(SIDE * SIDE * 3);
        for j in 0..SIDE {
            for i in 0..SIDE {
                let cx0 = ((x1 + i as f32 * cell_w) as u32).min(image.width() - 1);
                let cy0 = ((y1 + j as f32 * cell_h) as u32).min(image.height() - 1);
                let cx1 = ((x1 + (i + 1) as f32 * cell_w).ceil() as u32)
                    .max(cx0 + 1)
                    .min(image.width());
                let cy1 = ((y1 + (j + 1) as f32 * cell_h).ceil() as u32)
                    .max(cy0 + 1)
                    .min(image.height());
                let mut sum = [0.0f32; 3];
                let mut n = 0.0f32;
                for y in cy0..cy1 {
                    for x in cx0..cx1 {
                        let p = image.get_pixel(x, y).0;
                        for c in 0..3 {
                            sum[c] += f32::from(p[c]);
                        }
                        n += 1.0;
                    }
                }
                values.extend(sum.map(|s| s / n.max(1.0)));
            }
        }
        let mean = values.iter().sum::<f32>() / values.len() as f32;
        values.iter_mut().for_each(|v| *v -= mean);
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm <= f32::EPSILON {
            return None;
        }
        values.iter_mut().for_each(|v| *v /= norm);
        Some(Self(values))
    }

    /// Cosine similarity in [-1, 1]; 1 for the same appearance.
    pub fn similarity(&self, other: &Descriptor) -> f32 {
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum()
    }
}

/// Pairs faces with references one to one, most similar pair first. Entry `i` of the answer is
/// the reference for face `i`, or `None` when no reference is left that resembles it at least
/// [`MIN_SIMILARITY`].
pub fn assign(faces: &[Option<Descriptor>], refs: &[Option<Descriptor>]) -> Vec<Option<usize>> {
    let mut pairs = Vec::new();
    for (fi, face) in faces.iter().enumerate() {
        for (ri, reference) in refs.iter().enumerate() {
            if let (Some(face), Some(reference)) = (face, reference) {
                let s = face.similarity(reference);
                if s >= MIN_SIMILARITY {
                    pairs.push((s, fi, ri));
                }
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut answer = vec![None; faces.len()];
    let mut used = vec![false; refs.len()];
    for (_, fi, ri) in pairs {
        if answer[fi].is_none() && !used[ri] {
            answer[fi] = Some(ri);
            used[ri] = true;
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn gradient(flip: bool) -> RgbImage {
        RgbImage::from_fn(40, 40, |x, y| {
            let v = if flip { 255 - x * 6 } else { x * 6 };
            Rgb([v as u8, (y * 6) as u8, 100])
        })
    }

    #[test]
    fn same_image_is_most_similar_and_assignment_is_one_to_one() {
        let whole = Face {
            x1: 0.0,
            y1: 0.0,
            x2: 40.0,
            y2: 40.0,
            score: 1.0,
            keypoints: None,
        };
        let a = Descriptor::of(&gradient(false), &whole);
        let b = Descriptor::of(&gradient(true), &whole);
        let (da, db) = (a.clone().expect("a"), b.clone().expect("b"));
        assert!((da.similarity(&da) - 1.0).abs() < 1e-4);
        assert!(da.similarity(&db) < 0.5);
        assert_eq!(
            assign(&[a.clone(), b.clone()], &[b.clone(), a.clone()]),
            vec![Some(1), Some(0)]
        );
        assert_eq!(
            assign(&[a.clone(), b.clone()], std::slice::from_ref(&a)),
            vec![Some(0), None]
        );
        assert_eq!(assign(&[None], &[a]), vec![None]);
        let flat = RgbImage::from_pixel(40, 40, Rgb([9, 9, 9]));
        assert!(Descriptor::of(&flat, &whole).is_none());
    }
}
