//! Convolution as a matrix product: each output pixel is a row of `k` inputs (its input channels
//! for a 1 x 1 convolution, its patch of taps x channels otherwise) times the `k x n` weight
//! matrix. The product runs in register blocks of [`ROWS`] pixels x [`LANES`] output channels,
//! with the weights packed at load into panels of [`LANES`] columns read in order; the bias, a
//! residual sum and the activation are applied as each block is stored, so the output is written
//! once. Fixed-size array loops, which LLVM turns into `f32x4` operations (simd128 in wasm,
//! SSE natively) without `unsafe`.

use super::kernels::{Activation, Dims, Window};

/// Output channels per panel: two `f32x4` lanes.
pub const LANES: usize = 8;
/// Output pixels per register block.
pub const ROWS: usize = 4;

/// The weights of a convolution as `k x n` panels of [`LANES`] columns (zero past `n`), with the
/// bias padded the same way.
#[derive(Debug, Clone)]
pub struct Packed {
    /// Rows: taps x input channels.
    pub k: usize,
    /// Columns: output channels.
    pub n: usize,
    /// Panel `p` holds rows `0..k` of columns `p * LANES ..`.
    panels: Vec<[f32; LANES]>,
    bias: Vec<[f32; LANES]>,
}

impl Packed {
    /// Packs `weights` (`[k][n]`, row-major: HWIO for a convolution) and `bias` (`n`).
    pub fn new(weights: &[f32], bias: &[f32], k: usize, n: usize) -> Self {
        let count = n.div_ceil(LANES);
        let mut panels = vec![[0.0; LANES]; count * k];
        let mut padded = vec![[0.0; LANES]; count];
        for (row, values) in weights.chunks_exact(n.max(1)).take(k).enumerate() {
            for (col, &w) in values.iter().enumerate() {
                panels[(col / LANES) * k + row][col % LANES] = w;
            }
        }
        for (col, &b) in bias.iter().take(n).enumerate() {
            padded[col / LANES][col % LANES] = b;
        }
        Self {
            k,
            n,
            panels,
            bias: padded,
        }
    }

    fn panel(&self, p: usize) -> &[[f32; LANES]] {
        &self.panels[p * self.k..(p + 1) * self.k]
    }
}

/// What happens to each block before it is stored: the residual to add (same layout as the
/// output) and the activation.
#[derive(Debug, Clone, Copy)]
pub struct Epilogue<'a> {
    /// Values added to the output (a residual connection), if any.
    pub residual: Option<&'a [f32]>,
    /// The activation applied last.
    pub activation: Activation,
}

/// `out[r][..n] = act(bias + a[r] * w (+ residual[r]))` for the `rows` rows of `a` (each `w.k`
/// values, `lda` apart); `out` and the residual are `rows x w.n`, row-major.
pub fn gemm(a: &[f32], lda: usize, rows: usize, w: &Packed, epilogue: Epilogue, out: &mut [f32]) {
    let k = w.k;
    let row = |r: usize| &a[r * lda..r * lda + k];
    let mut r = 0;
    while r + ROWS <= rows {
        let block = [row(r), row(r + 1), row(r + 2), row(r + 3)];
        for p in 0..w.bias.len() {
            let acc = block4(block, w.panel(p));
            for (i, acc) in acc.iter().enumerate() {
                store(acc, w, p, r + i, epilogue, out);
            }
        }
        r += ROWS;
    }
    while r < rows {
        let single = row(r);
        for p in 0..w.bias.len() {
            let acc = block1(single, w.panel(p));
            store(&acc, w, p, r, epilogue, out);
        }
        r += 1;
    }
}

/// Four rows of `a` times one panel.
#[inline(always)]
fn block4(a: [&[f32]; ROWS], panel: &[[f32; LANES]]) -> [[f32; LANES]; ROWS] {
    let mut acc = [[0.0f32; LANES]; ROWS];
    for ((((b, &x0), &x1), &x2), &x3) in panel.iter().zip(a[0]).zip(a[1]).zip(a[2]).zip(a[3]) {
        for j in 0..LANES {
            acc[0][j] += x0 * b[j];
            acc[1][j] += x1 * b[j];
            acc[2][j] += x2 * b[j];
            acc[3][j] += x3 * b[j];
        }
    }
    acc
}

/// One row of `a` times one panel.
#[inline(always)]
fn block1(a: &[f32], panel: &[[f32; LANES]]) -> [f32; LANES] {
    let mut acc = [0.0f32; LANES];
    for (b, &x) in panel.iter().zip(a) {
        for j in 0..LANES {
            acc[j] += x * b[j];
        }
    }
    acc
}

/// Stores row `r`'s columns of panel `p` after the bias, residual and activation.
#[inline(always)]
fn store(acc: &[f32; LANES], w: &Packed, p: usize, r: usize, epilogue: Epilogue, out: &mut [f32]) {
    let mut v = [0.0f32; LANES];
    let bias = &w.bias[p];
    for j in 0..LANES {
        v[j] = acc[j] + bias[j];
    }
    let start = r * w.n + p * LANES;
    let width = LANES.min(w.n - p * LANES);
    if let Some(residual) = epilogue.residual {
        for (v, &s) in v.iter_mut().zip(&residual[start..start + width]) {
            *v += s;
        }
    }
    epilogue.activation.apply(&mut v);
    out[start..start + width].copy_from_slice(&v[..width]);
}

/// A convolution of any window: each output row's patches gathered into `scratch` (`ow x k`,
/// zeros where the window leaves the input), then multiplied; a 1 x 1 convolution with stride 1
/// multiplies the input directly.
#[allow(clippy::too_many_arguments)]
pub fn conv(
    src: &[f32],
    input: Dims,
    w: &Packed,
    window: Window,
    epilogue: Epilogue,
    scratch: &mut Vec<f32>,
    out: &mut [f32],
    output: Dims,
) {
    let pixels = output.h * output.w;
    let direct = window.kh == 1
        && window.kw == 1
        && window.stride == 1
        && window.pad_top == 0
        && window.pad_left == 0
        && (input.h, input.w) == (output.h, output.w);
    if direct {
        gemm(src, input.c, pixels, w, epilogue, out);
        return;
    }
    let (k, cin) = (w.k, input.c);
    scratch.resize(output.w * k, 0.0);
    for oy in 0..output.h {
        for ox in 0..output.w {
            let patch = &mut scratch[ox * k..(ox + 1) * k];
            for ky in 0..window.kh {
                let iy = window.source(oy, ky, window.pad_top, input.h);
                for kx in 0..window.kw {
                    let at = (ky * window.kw + kx) * cin;
                    let to = &mut patch[at..at + cin];
                    match (iy, window.source(ox, kx, window.pad_left, input.w)) {
                        (Some(iy), Some(ix)) => {
                            let from = (iy * input.w + ix) * cin;
                            to.copy_from_slice(&src[from..from + cin]);
                        }
                        _ => to.fill(0.0),
                    }
                }
            }
        }
        let rows = oy * output.w * output.c..(oy + 1) * output.w * output.c;
        let epilogue = Epilogue {
            residual: epilogue.residual.map(|r| &r[rows.clone()]),
            ..epilogue
        };
        gemm(scratch, k, output.w, w, epilogue, &mut out[rows]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blocked_product_matches_the_plain_one() {
        // 7 rows (a block of four and three single rows), k = 5, n = 12 (a full and a half panel).
        let (rows, k, n) = (7, 5, 12);
        let a: Vec<f32> = (0..rows * k).map(|i| (i % 7) as f32 - 3.0).collect();
        let w: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.5 - 1.0).collect();
        let bias: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let residual: Vec<f32> = (0..rows * n).map(|i| (i % 3) as f32).collect();
        let mut out = vec![0.0; rows * n];
        let epilogue = Epilogue {
            residual: Some(&residual),
            activation: Activation::Relu,
        };
        gemm(
            &a,
            k,
            rows,
            &Packed::new(&w, &bias, k, n),
            epilogue,
            &mut out,
        );
        for r in 0..rows {
            for j in 0..n {
                let sum: f32 = (0..k).map(|i| a[r * k + i] * w[i * n + j]).sum();
                let expected = (sum + bias[j] + residual[r * n + j]).max(0.0);
                assert_eq!(out[r * n + j], expected, "row {r} column {j}");
            }
        }
    }
}
