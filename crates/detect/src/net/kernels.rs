//! The small layer kernels (pooling, padding, resizing, depth to space, add, activations, layout
//! changes) and the geometry the convolutions share, on planar `f32` tensors of one image (CHW:
//! each channel's plane, row by row); the convolutions themselves are in `conv.rs` and
//! `depthwise.rs`.

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
            // Comparisons and selects, not `f32::max`: wasm has no instruction with Rust's NaN
            // rule for `max`, so LLVM would call a function per value; these become f32x4.pmax
            // and f32x4.pmin (NaN still gives 0, as with `max`).
            Activation::Relu => values
                .iter_mut()
                .for_each(|v| *v = if *v > 0.0 { *v } else { 0.0 }),
            Activation::Relu6 => values.iter_mut().for_each(|v| {
                let positive = if *v > 0.0 { *v } else { 0.0 };
                *v = if positive < 6.0 { positive } else { 6.0 };
            }),
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

    /// The outputs `o` (of `outputs`) whose tap `k` falls inside the input (`size`) along one
    /// axis: those for which `source` is `Some`.
    pub fn span(
        &self,
        k: usize,
        pad: usize,
        size: usize,
        outputs: usize,
    ) -> std::ops::Range<usize> {
        let stride = self.stride.max(1);
        let start = pad.saturating_sub(k).div_ceil(stride);
        // o * stride + k - pad <= size - 1
        let end = match (size + pad).checked_sub(k + 1) {
            Some(last) => (last / stride + 1).min(outputs),
            None => 0,
        };
        start.min(end)..end
    }
}

/// Max pooling; padded positions are skipped.
pub fn max_pool(src: &[f32], input: Dims, window: Window, out: &mut [f32], output: Dims) {
    let (in_plane, out_plane) = (input.h * input.w, output.h * output.w);
    for (plane_in, plane_out) in src
        .chunks_exact(in_plane.max(1))
        .zip(out.chunks_exact_mut(out_plane.max(1)))
    {
        for (p, dst) in plane_out.iter_mut().enumerate() {
            let (oy, ox) = (p / output.w, p % output.w);
            *dst = f32::NEG_INFINITY;
            for ky in 0..window.kh {
                let Some(iy) = window.source(oy, ky, window.pad_top, input.h) else {
                    continue;
                };
                for kx in 0..window.kw {
                    if let Some(ix) = window.source(ox, kx, window.pad_left, input.w) {
                        *dst = dst.max(plane_in[iy * input.w + ix]);
                    }
                }
            }
        }
    }
}

/// Zero padding of the spatial and channel axes: `before` is (rows, columns, channels).
pub fn pad(src: &[f32], input: Dims, before: [usize; 3], out: &mut [f32], output: Dims) {
    out.fill(0.0);
    let (in_plane, out_plane) = (input.h * input.w, output.h * output.w);
    for (c, plane) in src.chunks_exact(in_plane.max(1)).enumerate() {
        let to = (c + before[2]) * out_plane;
        for (y, line) in plane.chunks_exact(input.w.max(1)).enumerate() {
            let at = to + (y + before[0]) * output.w + before[1];
            out[at..at + input.w].copy_from_slice(line);
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
    let columns: Vec<(usize, usize, f32)> =
        (0..output.w).map(|ox| locate(ox, sx, input.w)).collect();
    let (in_plane, out_plane) = (input.h * input.w, output.h * output.w);
    for (plane_in, plane_out) in src
        .chunks_exact(in_plane.max(1))
        .zip(out.chunks_exact_mut(out_plane.max(1)))
    {
        for (oy, line) in plane_out.chunks_exact_mut(output.w.max(1)).enumerate() {
            let (y0, y1, fy) = locate(oy, sy, input.h);
            let (r0, r1) = (&plane_in[y0 * input.w..], &plane_in[y1 * input.w..]);
            for (o, &(x0, x1, fx)) in line.iter_mut().zip(&columns) {
                let top = r0[x0] + (r0[x1] - r0[x0]) * fx;
                let bottom = r1[x0] + (r1[x1] - r1[x0]) * fx;
                *o = top + (bottom - top) * fy;
            }
        }
    }
}

/// Depth to space (TensorFlow's DCR order): each input pixel's channels become a `block` x
/// `block` patch of output pixels; input channel `(dy * block + dx) * c + k` goes to channel `k`.
pub fn depth_to_space(src: &[f32], input: Dims, block: usize, out: &mut [f32], output: Dims) {
    let (c, in_plane) = (output.c, input.h * input.w);
    for (channel, plane) in src.chunks_exact(in_plane.max(1)).enumerate() {
        let (k, offset) = (channel % c.max(1), channel / c.max(1));
        let (dy, dx) = (offset / block, offset % block);
        for (y, line) in plane.chunks_exact(input.w.max(1)).enumerate() {
            let at = (k * output.h + y * block + dy) * output.w + dx;
            for (x, &v) in line.iter().enumerate() {
                out[at + x * block] = v;
            }
        }
    }
}

/// A CHW tensor in HWC order (TensorFlow Lite's): `out[(y * w + x) * c + k] = src[k][y][x]`.
pub fn to_hwc(src: &[f32], dims: Dims, out: &mut [f32]) {
    let plane = dims.h * dims.w;
    for (k, values) in src.chunks_exact(plane.max(1)).enumerate() {
        for (p, &v) in values.iter().enumerate() {
            out[p * dims.c + k] = v;
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
    use super::super::conv::{conv, Epilogue, SparseWeights};
    use super::super::depthwise::depthwise;
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
        let mut weights = vec![0.0; 2 * 3 * 3];
        weights[..9].fill(1.0);
        weights[9 + 4] = 2.0;
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
            &SparseWeights::new(&weights, &[0.0, 1.0], 9),
            window,
            LINEAR,
            &mut Vec::new(),
            &mut out,
            dims(3, 3, 2),
        );
        assert_eq!(out[0], 1.0 + 2.0 + 4.0 + 5.0);
        assert_eq!(out[4], 45.0);
        assert_eq!(out[9 + 4], 11.0);
    }

    #[test]
    fn pointwise_convolution_uses_every_input_channel() {
        // Six input channels, two output channels (the second skips its zero weight).
        let src = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let weights: Vec<f32> = [1.0; 6]
            .into_iter()
            .chain((0..6).map(|i| i as f32))
            .collect();
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
            &SparseWeights::new(&weights, &[0.5, 0.0], 6),
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
        assert_eq!(padded, [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0]);

        let mut hwc = [0.0; 6];
        to_hwc(&[1.0, 2.0, 3.0, 10.0, 20.0, 30.0], dims(1, 3, 2), &mut hwc);
        assert_eq!(hwc, [1.0, 10.0, 2.0, 20.0, 3.0, 30.0]);

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
