//! Poisson image editing (Pérez, Gangnet and Blake, 2003: seamless cloning): inside a region the
//! result keeps the gradients of the new picture while matching the old picture on the region's
//! border, so colour and light carry over from the target without a visible seam. Solved per
//! channel by successive over-relaxation (Gauss-Seidel with over-correction, the optimal factor
//! for the patch's size) from the new
//! picture shifted to the border's mean colour.

/// The over-relaxation factor for a patch whose longer side is `n` pixels: the optimum for
/// the Laplacian on an `n` x `n` grid, 2 / (1 + sin(pi / n)) (1 would be Gauss-Seidel).
pub fn omega(n: usize) -> f32 {
    2.0 / (1.0 + (std::f32::consts::PI / n.max(2) as f32).sin())
}
/// Sweeps stop once no value moves more than this (in 0..255 units: results are rounded to
/// whole levels)...
pub const TOLERANCE: f32 = 0.5;
/// ...or after this many sweeps.
pub const MAX_SWEEPS: usize = 400;

/// A free pixel: its index, its neighbours in the patch, the guidance (the source's Laplacian
/// there, per channel) and its number of neighbours.
type Free = (usize, [Option<usize>; 4], [f32; 3], f32);

/// A `width` x `height` patch: `target` (the old pixels, kept outside `inside`), `source` (the
/// new pixels, whose gradients are cloned) and which pixels are free (`inside`).
pub struct Patch<'a> {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// The old pixels, RGB in 0..255.
    pub target: &'a [[f32; 3]],
    /// The new pixels, RGB in 0..255.
    pub source: &'a [[f32; 3]],
    /// Pixels the solver may change.
    pub inside: &'a [bool],
}

/// The seamless clone of `patch`: every pixel, the old ones outside `inside`. Neighbours beyond
/// the patch's edge are left out (the image's own edge: no constraint there).
pub fn seamless_clone(patch: &Patch<'_>) -> Vec<[f32; 3]> {
    let (w, h) = (patch.width, patch.height);
    let n = w * h;
    if patch.target.len() < n || patch.source.len() < n || patch.inside.len() < n {
        return patch.target.to_vec();
    }
    let neighbours = |p: usize| {
        let (x, y) = (p % w, p / w);
        [
            (x > 0).then(|| p - 1),
            (x + 1 < w).then(|| p + 1),
            (y > 0).then(|| p - w),
            (y + 1 < h).then(|| p + w),
        ]
    };
    // Start from the source shifted to the border's mean colour.
    let (mut border_t, mut border_s, mut count) = ([0.0f32; 3], [0.0f32; 3], 0.0f32);
    for p in (0..n).filter(|&p| !patch.inside[p]) {
        if neighbours(p).into_iter().flatten().any(|q| patch.inside[q]) {
            for k in 0..3 {
                border_t[k] += patch.target[p][k];
                border_s[k] += patch.source[p][k];
            }
            count += 1.0;
        }
    }
    let shift: [f32; 3] = std::array::from_fn(|k| {
        if count > 0.0 {
            (border_t[k] - border_s[k]) / count
        } else {
            0.0
        }
    });
    let mut out: Vec<[f32; 3]> = (0..n)
        .map(|p| {
            if patch.inside[p] {
                std::array::from_fn(|k| patch.source[p][k] + shift[k])
            } else {
                patch.target[p]
            }
        })
        .collect();
    // Per free pixel: its neighbours and the guidance (the source's Laplacian).
    let free: Vec<Free> = (0..n)
        .filter(|&p| patch.inside[p])
        .map(|p| {
            let around = neighbours(p);
            let mut guidance = [0.0f32; 3];
            let mut degree = 0.0;
            for q in around.into_iter().flatten() {
                for (k, g) in guidance.iter_mut().enumerate() {
                    *g += patch.source[p][k] - patch.source[q][k];
                }
                degree += 1.0;
            }
            (p, around, guidance, degree)
        })
        .collect();
    let omega = omega(w.max(h));
    for _ in 0..MAX_SWEEPS {
        let mut moved = 0.0f32;
        for &(p, around, guidance, degree) in &free {
            if degree == 0.0 {
                continue;
            }
            let mut sum = guidance;
            for q in around.into_iter().flatten() {
                for (k, s) in sum.iter_mut().enumerate() {
                    *s += out[q][k];
                }
            }
            for (k, &s) in sum.iter().enumerate() {
                let value = out[p][k] + omega * (s / degree - out[p][k]);
                moved = moved.max((value - out[p][k]).abs());
                out[p][k] = value;
            }
        }
        if moved < TOLERANCE {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_detail_sits_on_the_old_colour() {
        let (w, h) = (12, 10);
        let target: Vec<[f32; 3]> = (0..w * h).map(|_| [200.0, 100.0, 50.0]).collect();
        // A bright spot on black: the spot survives, the black becomes the border's colour.
        let middle = (h / 2) * w + w / 2;
        let source: Vec<[f32; 3]> = (0..w * h)
            .map(|p| {
                if p == middle {
                    [60.0, 0.0, 0.0]
                } else {
                    [0.0; 3]
                }
            })
            .collect();
        let inside: Vec<bool> = (0..w * h)
            .map(|p| (2..w - 2).contains(&(p % w)) && (2..h - 2).contains(&(p / w)))
            .collect();
        let out = seamless_clone(&Patch {
            width: w,
            height: h,
            target: &target,
            source: &source,
            inside: &inside,
        });
        assert_eq!(out[0], target[0], "outside is the target");
        assert!((out[middle][1] - 100.0).abs() < 0.5, "{:?}", out[middle]);
        assert!(
            out[middle][0] > 230.0,
            "the spot is kept: {:?}",
            out[middle]
        );
        let corner = 2 * w + 2;
        assert!((out[corner][0] - 200.0).abs() < 15.0, "{:?}", out[corner]);
    }
}
