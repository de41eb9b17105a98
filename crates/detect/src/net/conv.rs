//! Full convolutions on planar (CHW) activations, as a sparse matrix times the input: each
//! output channel is its bias plus, for each nonzero weight only, that weight times an input row
//! (an input channel's plane for a 1 x 1 convolution, a row of gathered patches otherwise). The
//! weights are kept as compressed rows of their nonzeros (MediaPipe's sparse BlazeFace drops 70%
//! of the 1 x 1 weights), and the product runs over blocks of [`BLOCK`] pixels held in registers
//! (fixed-size array loops, which LLVM turns into `f32x4` operations: simd128 in wasm, SSE
//! natively, without `unsafe`); the bias, a residual sum and the activation are applied as each
//! block is stored, so the output is written once.

use super::kernels::{Activation, Dims, Window};

/// Pixels per register block (four `f32x4`).
const BLOCK: usize = 16;

/// A convolution's weights as compressed rows: for each output channel its nonzero weights and
/// the input rows (taps x input channels, OHWI order) they multiply.
#[derive(Debug, Clone)]
pub struct SparseWeights {
    /// Output channel `o`'s nonzeros are `rows[starts[o]..starts[o + 1]]` and the same range of
    /// `values`.
    starts: Vec<usize>,
    rows: Vec<usize>,
    values: Vec<f32>,
    bias: Vec<f32>,
    /// Rows per output channel: taps x input channels.
    k: usize,
    /// Whether every weight is nonzero (then four output channels share each input load).
    dense: bool,
}

impl SparseWeights {
    /// The nonzeros of `weights` (`[n][k]`, OHWI) with `bias` (`n`).
    pub fn new(weights: &[f32], bias: &[f32], k: usize) -> Self {
        let mut starts = vec![0];
        let (mut rows, mut values) = (Vec::new(), Vec::new());
        for row in weights.chunks_exact(k.max(1)) {
            for (i, &w) in row.iter().enumerate() {
                if w != 0.0 {
                    rows.push(i);
                    values.push(w);
                }
            }
            starts.push(rows.len());
        }
        let dense = rows.len() == k * bias.len();
        Self {
            starts,
            rows,
            values,
            bias: bias.to_vec(),
            k,
            dense,
        }
    }
}

/// What happens to each block before it is stored: the residual to add (laid out as the output)
/// and the activation.
#[derive(Debug, Clone, Copy)]
pub struct Epilogue<'a> {
    /// Values added to the output (a residual connection), if any.
    pub residual: Option<&'a [f32]>,
    /// The activation applied last.
    pub activation: Activation,
}

/// Rows of `len` values `stride` apart, starting at `offset`: a view of an input, output or
/// residual as the product sees it.
#[derive(Debug, Clone, Copy)]
pub struct Rows {
    /// Position of row 0's first value.
    pub offset: usize,
    /// Distance between rows.
    pub stride: usize,
    /// Values per row.
    pub len: usize,
}

/// `out[o] = act(bias[o] + sum_k w[o][k] * input[k] (+ residual[o]))`, row by row: `input`
/// rows as `from` describes, output (and residual) rows as `to` does, both `from.len` long.
/// Bands of pixels whose input rows fit in the cache run one after the other, each output
/// channel along the whole band (outputs are written in long runs, not a few values in each of
/// many planes).
pub fn multiply(
    input: &[f32],
    from: Rows,
    w: &SparseWeights,
    epilogue: Epilogue,
    out: &mut [f32],
    to: Rows,
) {
    // About 16 KiB of input per band.
    let band = (4096 / w.k.max(1)).max(BLOCK) / BLOCK * BLOCK;
    let mut start = 0;
    while start < from.len {
        let end = (start + band).min(from.len);
        let mut o = 0;
        while o < w.bias.len() {
            if w.dense && o + 4 <= w.bias.len() {
                columns::<4>(input, from, w, epilogue, out, to, o, start..end);
                o += 4;
            } else {
                columns::<1>(input, from, w, epilogue, out, to, o, start..end);
                o += 1;
            }
        }
        start = end;
    }
}

/// Output channels `o..o + G` (of the same nonzero rows when `G` > 1) over pixels `pixels`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn columns<const G: usize>(
    input: &[f32],
    from: Rows,
    w: &SparseWeights,
    epilogue: Epilogue,
    out: &mut [f32],
    to: Rows,
    o: usize,
    pixels: std::ops::Range<usize>,
) {
    let (start, count) = (w.starts[o], w.starts[o + 1] - w.starts[o]);
    let channels = Channels::<G> {
        rows: &w.rows[start..start + count],
        values: &w.values[start..start + G * count],
        bias: std::array::from_fn(|g| w.bias[o + g]),
        count,
    };
    let mut p = pixels.start;
    // Registers hold 4 x 8 pixels for four channels, 32 for one.
    if G > 1 {
        while p + 8 <= pixels.end {
            channels.block::<8>(input, from, epilogue, out, to, o, p);
            p += 8;
        }
    } else {
        while p + 2 * BLOCK <= pixels.end {
            channels.block::<{ 2 * BLOCK }>(input, from, epilogue, out, to, o, p);
            p += 2 * BLOCK;
        }
    }
    while p + BLOCK <= pixels.end {
        channels.block::<BLOCK>(input, from, epilogue, out, to, o, p);
        p += BLOCK;
    }
    while p + 4 <= pixels.end {
        channels.block::<4>(input, from, epilogue, out, to, o, p);
        p += 4;
    }
    while p < pixels.end {
        channels.block::<1>(input, from, epilogue, out, to, o, p);
        p += 1;
    }
}

/// The weights of `G` output channels that share their nonzero rows.
struct Channels<'a, const G: usize> {
    /// The input rows of the nonzero weights.
    rows: &'a [usize],
    /// Their weights, channel by channel (`count` each).
    values: &'a [f32],
    bias: [f32; G],
    count: usize,
}

impl<const G: usize> Channels<'_, G> {
    /// Pixels `p..p + B` of output channels `o..o + G`: each input value loaded once for the
    /// `G` channels.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn block<const B: usize>(
        &self,
        input: &[f32],
        from: Rows,
        epilogue: Epilogue,
        out: &mut [f32],
        to: Rows,
        o: usize,
        p: usize,
    ) {
        let base = from.offset + p;
        let mut acc: [[f32; B]; G] = std::array::from_fn(|g| [self.bias[g]; B]);
        for (n, &k) in self.rows.iter().enumerate() {
            let at = base + k * from.stride;
            let x = &input[at..at + B];
            for (g, acc) in acc.iter_mut().enumerate() {
                let weight = self.values[g * self.count + n];
                for j in 0..B {
                    acc[j] += weight * x[j];
                }
            }
        }
        for (g, acc) in acc.iter_mut().enumerate() {
            let at = to.offset + (o + g) * to.stride + p;
            if let Some(residual) = epilogue.residual {
                for (a, &r) in acc.iter_mut().zip(&residual[at..at + B]) {
                    *a += r;
                }
            }
            epilogue.activation.apply(acc);
            out[at..at + B].copy_from_slice(acc);
        }
    }
}

/// A convolution of any window on CHW activations. A 1 x 1 convolution with stride 1 multiplies
/// the input planes directly; any other gathers each output row's patches into `scratch` (one row
/// of `output.w` values per tap and input channel, zeros where the window leaves the input) and
/// multiplies those.
#[allow(clippy::too_many_arguments)]
pub fn conv(
    src: &[f32],
    input: Dims,
    w: &SparseWeights,
    window: Window,
    epilogue: Epilogue,
    scratch: &mut Vec<f32>,
    out: &mut [f32],
    output: Dims,
) {
    let plane = output.h * output.w;
    let direct = window.kh == 1
        && window.kw == 1
        && window.stride == 1
        && window.pad_top == 0
        && window.pad_left == 0
        && (input.h, input.w) == (output.h, output.w);
    if direct {
        let rows = Rows {
            offset: 0,
            stride: plane,
            len: plane,
        };
        multiply(src, rows, w, epilogue, out, rows);
        return;
    }
    let (ow, cin) = (output.w, input.c);
    scratch.resize(w.k * ow, 0.0);
    let in_plane = input.h * input.w;
    for oy in 0..output.h {
        // Row (ky, kx, c), OHWI order: the input values under that tap for each output column.
        for ky in 0..window.kh {
            let iy = window.source(oy, ky, window.pad_top, input.h);
            for kx in 0..window.kw {
                for c in 0..cin {
                    let k = (ky * window.kw + kx) * cin + c;
                    let row = &mut scratch[k * ow..(k + 1) * ow];
                    let Some(iy) = iy else {
                        row.fill(0.0);
                        continue;
                    };
                    let line = &src[c * in_plane + iy * input.w..][..input.w];
                    let span = window.span(kx, window.pad_left, input.w, ow);
                    if span.is_empty() {
                        row.fill(0.0);
                        continue;
                    }
                    row[..span.start].fill(0.0);
                    row[span.end..].fill(0.0);
                    let first = (span.start * window.stride + kx).saturating_sub(window.pad_left);
                    for (value, &x) in row[span]
                        .iter_mut()
                        .zip(line[first..].iter().step_by(window.stride.max(1)))
                    {
                        *value = x;
                    }
                }
            }
        }
        let from = Rows {
            offset: 0,
            stride: ow,
            len: ow,
        };
        let to = Rows {
            offset: oy * ow,
            stride: plane,
            len: ow,
        };
        multiply(scratch, from, w, epilogue, out, to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sparse_and_dense_products_match_the_plain_one() {
        // 29 pixels (blocks of 16, 8, 4 and single ones), 5 input rows, 6 outputs (a group of
        // four and two single ones when dense).
        let (len, k, n) = (29, 5, 6);
        let input: Vec<f32> = (0..len * k).map(|i| (i % 7) as f32 - 3.0).collect();
        let residual: Vec<f32> = (0..len * n).map(|i| (i % 3) as f32).collect();
        let bias = [1.0, -2.0, 0.5, 0.0, 3.0, -1.0];
        for sparse in [true, false] {
            let w: Vec<f32> = (0..n * k)
                .map(|i| {
                    if sparse && i % 3 == 0 {
                        0.0
                    } else {
                        (i % 5) as f32 * 0.5 - 0.75
                    }
                })
                .collect();
            let mut out = vec![0.0; len * n];
            let rows = Rows {
                offset: 0,
                stride: len,
                len,
            };
            let epilogue = Epilogue {
                residual: Some(&residual),
                activation: Activation::Relu,
            };
            let weights = SparseWeights::new(&w, &bias, k);
            assert_eq!(weights.dense, !sparse);
            multiply(&input, rows, &weights, epilogue, &mut out, rows);
            for o in 0..n {
                for p in 0..len {
                    let sum: f32 = (0..k).map(|i| w[o * k + i] * input[i * len + p]).sum();
                    let expected = (bias[o] + sum + residual[o * len + p]).max(0.0);
                    let got = out[o * len + p];
                    assert!((got - expected).abs() < 1e-5, "output {o} pixel {p}: {got}");
                }
            }
        }
    }
}
