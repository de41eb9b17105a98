//! The small layer kernels (pooling, padding, resizing, depth to space, add, activations) and the
//! geometry the convolutions share, on NHWC `f32` tensors of one image; the convolutions
//! themselves are in `gemm.rs` and `depthwise.rs`. Loops run along the channel axis (the
//! innermost, contiguous one) with no reduction across lanes, so LLVM vectorizes them with
//! `+simd128` on wasm32 and SSE/AVX natively, without `unsafe`.

/// A fused activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// None.
    Linear,
    /// max(0, x).
    Relu,
    /// min(6, max(0, x)).
    Relu6,
}

impl Activation {
    /// Applies the activation to every value of `values`.
    pub fn apply(self, values: &mut [f32]) {
        match self {
            Activation::Linear => {}
            Activation::Relu => values.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::Relu6 => values.iter_mut().for_each(|v| *v = v.clamp(0.0, 6.0)),
        }
    }
}

/// Height, width and channels of an activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// Rows.
    pub h: usize,
    /// Columns.
    pub w: usize,
    /// Channels.
    pub c: usize,
}

impl Dims {
    /// Number of values.
    pub fn len(self) -> usize {
        self.h * self.w * self.c
    }
}

/// Window geometry of a convolution or pooling: kernel size, stride and the top/left padding
/// (TensorFlow's SAME puts the odd pixel at the bottom/right).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Kernel rows.
    pub kh: usize,
    /// Kernel columns.
    pub kw: usize,
    /// Stride, both axes.
    pub stride: usize,
    /// Padding rows above.
    pub pad_top: usize,
    /// Padding columns left.
    pub pad_left: usize,
}

impl Window {
    /// The input position of output `o` and kernel tap `k` along one axis, if inside `size`.
    #[inline]
    pub fn source(&self, o: usize, k: usize, pad: usize, size: usize) -> Option<usize> {
        (o * self.stride + k).checked_sub(pad).filter(|&i| i < size)
    }
}

/// Max pooling; padded positions are skipped.
pub fn max_pool(src: &[f32], input: Dims, window: Window, out: &mut [f32], output: Dims) {
    let c = input.c;
    for (p, dst) in out.chunks_exact_mut(c).enumerate() {
        let (oy, ox) = (p / output.w, p % output.w);
        dst.fill(f32::NEG_INFINITY);
        for ky in 0..window.kh {
            let Some(iy) = window.source(oy, ky, window.pad_top, input.h) else {
                continue;
            };
            for kx in 0..window.kw {
                let Some(ix) = window.source(ox, kx, window.pad_left, input.w) else {
                    continue;
                };
                let at = (iy * input.w + ix) * c;
                for (d, &x) in dst.iter_mut().zip(&src[at..at + c]) {
                    *d = d.max(x);
                }
            }
        }
    }
}

/// Zero padding of the spatial and channel axes: `before` and `after` are (rows, columns,
/// channels).
pub fn pad(src: &[f32], input: Dims, before: [usize; 3], out: &mut [f32], output: Dims) {
    out.fill(0.0);
    for y in 0..input.h {
        for x in 0..input.w {
            let from = (y * input.w + x) * input.c;
            let to = ((y + before[0]) * output.w + x + before[1]) * output.c + before[2];
            out[to..to + input.c].copy_from_slice(&src[from..from + input.c]);
        }
    }
}

/// Bilinear resize (TensorFlow's, with `half_pixel_centers` or `align_corners`).
pub fn resize_bilinear(
    src: &[f32],
    input: Dims,
    out: &mut [f32],
    output: Dims,
    half_pixel: bool,
    align_corners: bool,
) {
    let c = input.c;
    let scale = |i: usize, o: usize| {
        if align_corners && o > 1 {
            (i - 1) as f32 / (o - 1) as f32
        } else {
            i as f32 / o as f32
        }
    };
    let (sy, sx) = (scale(input.h, output.h), scale(input.w, output.w));
    let locate = |o: usize, s: f32, size: usize| {
        let f = if half_pixel {
            ((o as f32 + 0.5) * s - 0.5).max(0.0)
        } else {
            o as f32 * s
        };
        let i0 = (f.floor() as usize).min(size - 1);
        let i1 = (i0 + 1).min(size - 1);
        (i0, i1, f - i0 as f32)
    };
    for oy in 0..output.h {
        let (y0, y1, fy) = locate(oy, sy, input.h);
        for ox in 0..output.w {
            let (x0, x1, fx) = locate(ox, sx, input.w);
            let at = |y: usize, x: usize| (y * input.w + x) * c;
            let (a, b, cc, d) = (at(y0, x0), at(y0, x1), at(y1, x0), at(y1, x1));
            let to = (oy * output.w + ox) * c;
            for k in 0..c {
                let top = src[a + k] + (src[b + k] - src[a + k]) * fx;
                let bottom = src[cc + k] + (src[d + k] - src[cc + k]) * fx;
                out[to + k] = top + (bottom - top) * fy;
            }
        }
    }
}

/// Depth to space (TensorFlow's DCR order): each input pixel's channels become a `block` x
/// `block` patch of output pixels.
pub fn depth_to_space(src: &[f32], input: Dims, block: usize, out: &mut [f32], output: Dims) {
    let c = output.c;
    for y in 0..input.h {
        for x in 0..input.w {
            let from = (y * input.w + x) * input.c;
            for dy in 0..block {
                for dx in 0..block {
                    let to = ((y * block + dy) * output.w + x * block + dx) * c;
                    let at = from + (dy * block + dx) * c;
                    out[to..to + c].copy_from_slice(&src[at..at + c]);
                }
            }
        }
    }
}

/// Element-wise sum with the same shape.
pub fn add(a: &[f32], b: &[f32], out: &mut [f32]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = x + y;
    }
}

#[cfg(test)]
mod tests {
    use super::super::depthwise::depthwise;
    use super::super::gemm::{conv, Epilogue, Packed};
    use super::*;

    const LINEAR: Epilogue = Epilogue {
        residual: None,
        activation: Activation::Linear,
    };

    fn dims(h: usize, w: usize, c: usize) -> Dims {
        Dims { h, w, c }
    }

    #[test]
    fn a_3x3_convolution_with_same_padding_sums_neighbours() {
        // One channel in, two out: out0 = sum of the 3x3 neighbourhood, out1 = 2x centre.
        let src: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let mut weights = vec![0.0; 3 * 3 * 2];
        for tap in 0..9 {
            weights[tap * 2] = 1.0;
        }
        weights[4 * 2 + 1] = 2.0;
        let window = Window {
            kh: 3,
            kw: 3,
            stride: 1,
            pad_top: 1,
            pad_left: 1,
        };
        let mut out = vec![0.0; 9 * 2];
        conv(
            &src,
            dims(3, 3, 1),
            &Packed::new(&weights, &[0.0, 1.0], 9, 2),
            window,
            LINEAR,
            &mut Vec::new(),
            &mut out,
            dims(3, 3, 2),
        );
        assert_eq!(out[0], 1.0 + 2.0 + 4.0 + 5.0);
        assert_eq!(out[4 * 2], 45.0);
        assert_eq!(out[4 * 2 + 1], 11.0);
    }

    #[test]
    fn pointwise_convolution_uses_every_input_channel() {
        // Six input channels, two output channels: one partly filled panel.
        let src = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let weights: Vec<f32> = (0..6).flat_map(|i| [1.0, i as f32]).collect();
        let window = Window {
            kh: 1,
            kw: 1,
            stride: 1,
            pad_top: 0,
            pad_left: 0,
        };
        let mut out = [0.0; 2];
        conv(
            &src,
            dims(1, 1, 6),
            &Packed::new(&weights, &[0.5, 0.0], 6, 2),
            window,
            LINEAR,
            &mut Vec::new(),
            &mut out,
            dims(1, 1, 2),
        );
        assert_eq!(out, [21.5, 0.0 + 2.0 + 6.0 + 12.0 + 20.0 + 30.0]);
    }

    #[test]
    fn strided_depthwise_pads_bottom_right() {
        let src: Vec<f32> = (0..16).map(|v| v as f32).collect();
        let weights = vec![1.0; 9];
        let window = Window {
            kh: 3,
            kw: 3,
            stride: 2,
            pad_top: 0,
            pad_left: 0,
        };
        let mut out = vec![0.0; 4];
        depthwise(
            &src,
            dims(4, 4, 1),
            &weights,
            &[0.0],
            window,
            Activation::Linear,
            &mut out,
            dims(2, 2, 1),
        );
        assert_eq!(out[0], 0.0 + 1.0 + 2.0 + 4.0 + 5.0 + 6.0 + 8.0 + 9.0 + 10.0);
        assert_eq!(out[3], 10.0 + 11.0 + 14.0 + 15.0);
    }

    #[test]
    fn pooling_padding_and_resizing() {
        let src: Vec<f32> = (0..16).map(|v| v as f32).collect();
        let window = Window {
            kh: 2,
            kw: 2,
            stride: 2,
            pad_top: 0,
            pad_left: 0,
        };
        let mut pooled = vec![0.0; 4];
        max_pool(&src, dims(4, 4, 1), window, &mut pooled, dims(2, 2, 1));
        assert_eq!(pooled, [5.0, 7.0, 13.0, 15.0]);

        let mut padded = vec![9.0; 4 * 2];
        pad(
            &[1.0, 2.0],
            dims(1, 2, 1),
            [1, 0, 1],
            &mut padded,
            dims(2, 2, 2),
        );
        assert_eq!(padded, [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 2.0]);

        let mut resized = vec![0.0; 4];
        resize_bilinear(
            &[0.0, 4.0],
            dims(1, 2, 1),
            &mut resized,
            dims(1, 4, 1),
            true,
            false,
        );
        assert_eq!(resized, [0.0, 1.0, 3.0, 4.0]);

        let mut spread = vec![0.0; 4];
        depth_to_space(
            &[1.0, 2.0, 3.0, 4.0],
            dims(1, 1, 4),
            2,
            &mut spread,
            dims(2, 2, 1),
        );
        assert_eq!(spread, [1.0, 2.0, 3.0, 4.0]);

        let mut relu = [-1.0, 3.0, 7.0];
        Activation::Relu6.apply(&mut relu);
        assert_eq!(relu, [0.0, 3.0, 6.0]);
    }
}
