//! Depthwise convolution (multiplier 1) on planar (CHW) activations: each channel's plane on
//! its own, row by row. The window may hang over the input by its padding (zeros: those taps are
//! skipped), so a `PAD` before the layer needs no copy of its own. A 3 x 3 window (stride 1 or
//! 2) sums its nine taps in one pass along each output row where they all fall inside the input
//! (loops over consecutive columns, which LLVM turns into `f32x4` operations: simd128 in wasm,
//! SSE natively, without `unsafe`); the edges and other windows add tap by tap, each tap along
//! the columns it reaches.

use super::kernels::{Activation, Dims, Window};

/// The widest window supported (the model loader refuses wider ones).
pub const MAX_WIDTH: usize = 7;

/// A depthwise convolution. `weights` is `[c][kh * kw]` (per channel, its window row-major),
/// `bias` `[c]`; `window.kw` is at most [`MAX_WIDTH`].
#[allow(clippy::too_many_arguments)]
pub fn depthwise(
    src: &[f32],
    input: Dims,
    weights: &[f32],
    bias: &[f32],
    window: Window,
    activation: Activation,
    out: &mut [f32],
    output: Dims,
) {
    let taps = window.kh * window.kw;
    let (in_plane, out_plane) = (input.h * input.w, output.h * output.w);
    let three = window.kh == 3 && window.kw == 3 && (window.stride == 1 || window.stride == 2);
    // The output columns each column tap reaches, the same for every row and channel.
    let spans: [std::ops::Range<usize>; MAX_WIDTH] = std::array::from_fn(|kx| {
        if kx < window.kw {
            window.span(kx, window.pad_left, input.w, output.w)
        } else {
            0..0
        }
    });
    let spans = &spans[..window.kw.min(MAX_WIDTH)];
    // Columns where all three taps of a 3 x 3 window fall inside the input.
    let interior = if three {
        let start = spans.iter().map(|s| s.start).max().unwrap_or(0);
        let end = spans.iter().map(|s| s.end).min().unwrap_or(0);
        if start < end {
            start..end
        } else {
            0..0
        }
    } else {
        0..0
    };
    for (((plane_in, plane_out), w), &b) in src
        .chunks_exact(in_plane.max(1))
        .zip(out.chunks_exact_mut(out_plane.max(1)))
        .zip(weights.chunks_exact(taps.max(1)))
        .zip(bias)
    {
        for (oy, row) in plane_out.chunks_exact_mut(output.w.max(1)).enumerate() {
            if three {
                let rows: [Option<&[f32]>; 3] = std::array::from_fn(|ky| {
                    window
                        .source(oy, ky, window.pad_top, input.h)
                        .map(|iy| &plane_in[iy * input.w..(iy + 1) * input.w])
                });
                if window.stride == 1 {
                    row3::<1>(row, rows, w, b, interior.clone(), window.pad_left);
                } else {
                    row3::<2>(row, rows, w, b, interior.clone(), window.pad_left);
                }
            } else {
                row.fill(b);
                taps_into(row, plane_in, input, w, window, spans, oy);
            }
            activation.apply(row);
        }
    }
}

/// One output row of a 3 x 3 window with stride `S` (missing input rows count as zeros): the
/// `interior` columns in one pass (over the three rows at once when all are there), the few
/// others tap by tap.
fn row3<const S: usize>(
    row: &mut [f32],
    rows: [Option<&[f32]>; 3],
    w: &[f32],
    b: f32,
    interior: std::ops::Range<usize>,
    pad_left: usize,
) {
    let Ok(w) = <&[f32; 9]>::try_from(w) else {
        row.fill(b);
        return;
    };
    let n = interior.len();
    if n > 0 {
        // Output column interior.start + j reads input columns base + j * S ..= base + j * S + 2.
        let (base, len) = (interior.start * S - pad_left, (n - 1) * S + 3);
        let out = &mut row[interior.clone()];
        if let [Some(r0), Some(r1), Some(r2)] = rows {
            let (r0, r1, r2) = (&r0[base..][..len], &r1[base..][..len], &r2[base..][..len]);
            for (j, o) in out.iter_mut().enumerate() {
                let i = j * S;
                *o = b
                    + (w[0] * r0[i] + w[1] * r0[i + 1] + w[2] * r0[i + 2])
                    + (w[3] * r1[i] + w[4] * r1[i + 1] + w[5] * r1[i + 2])
                    + (w[6] * r2[i] + w[7] * r2[i + 1] + w[8] * r2[i + 2]);
            }
        } else {
            out.fill(b);
            for (ky, line) in rows.iter().enumerate() {
                let Some(line) = line else { continue };
                let line = &line[base..][..len];
                let (w0, w1, w2) = (w[ky * 3], w[ky * 3 + 1], w[ky * 3 + 2]);
                for (j, o) in out.iter_mut().enumerate() {
                    let i = j * S;
                    *o += w0 * line[i] + w1 * line[i + 1] + w2 * line[i + 2];
                }
            }
        }
    }
    let edges = (0..interior.start).chain(interior.end..row.len());
    for ox in edges {
        let mut sum = b;
        for (ky, line) in rows.iter().enumerate() {
            let Some(line) = line else { continue };
            for kx in 0..3 {
                let ix = (ox * S + kx).checked_sub(pad_left);
                if let Some(&x) = ix.and_then(|ix| line.get(ix)) {
                    sum += w[ky * 3 + kx] * x;
                }
            }
        }
        row[ox] = sum;
    }
}

/// Adds every tap that falls inside the input to output row `oy`, each tap along the columns
/// it reaches (`spans`, by column tap).
fn taps_into(
    row: &mut [f32],
    plane: &[f32],
    input: Dims,
    w: &[f32],
    window: Window,
    spans: &[std::ops::Range<usize>],
    oy: usize,
) {
    for ky in 0..window.kh {
        let Some(iy) = window.source(oy, ky, window.pad_top, input.h) else {
            continue;
        };
        let line = &plane[iy * input.w..(iy + 1) * input.w];
        for (kx, span) in spans.iter().enumerate() {
            if span.is_empty() {
                continue;
            }
            let weight = w[ky * window.kw + kx];
            let first = (span.start * window.stride + kx).saturating_sub(window.pad_left);
            for (o, &x) in row[span.clone()]
                .iter_mut()
                .zip(line[first..].iter().step_by(window.stride.max(1)))
            {
                *o += weight * x;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(h: usize, w: usize, c: usize) -> Dims {
        Dims { h, w, c }
    }

    /// The definition, pixel by pixel.
    fn plain(
        src: &[f32],
        input: Dims,
        w: &[f32],
        b: &[f32],
        window: Window,
        output: Dims,
    ) -> Vec<f32> {
        let mut out = vec![0.0; output.len()];
        for c in 0..input.c {
            for oy in 0..output.h {
                for ox in 0..output.w {
                    let mut sum = b[c];
                    for ky in 0..window.kh {
                        for kx in 0..window.kw {
                            let (Some(iy), Some(ix)) = (
                                window.source(oy, ky, window.pad_top, input.h),
                                window.source(ox, kx, window.pad_left, input.w),
                            ) else {
                                continue;
                            };
                            sum += w[c * 9 + ky * 3 + kx] * src[(c * input.h + iy) * input.w + ix];
                        }
                    }
                    out[(c * output.h + oy) * output.w + ox] = sum;
                }
            }
        }
        out
    }

    #[test]
    fn rows_match_the_definition_with_padding_and_strides() {
        for (stride, pad, size) in [(1, 1, 5), (2, 0, 2), (2, 1, 3), (1, 0, 3), (1, 1, 4)] {
            let (input, c) = (dims(5, 6, 3), 3);
            let output = dims(size, size + 1, c);
            let src: Vec<f32> = (0..input.len()).map(|i| (i % 11) as f32 - 5.0).collect();
            let weights: Vec<f32> = (0..9 * c).map(|i| (i % 7) as f32 * 0.25).collect();
            let bias: Vec<f32> = (0..c).map(|i| i as f32).collect();
            let window = Window {
                kh: 3,
                kw: 3,
                stride,
                pad_top: pad,
                pad_left: pad,
            };
            let mut fast = vec![0.0; output.len()];
            depthwise(
                &src,
                input,
                &weights,
                &bias,
                window,
                Activation::Linear,
                &mut fast,
                output,
            );
            let expected = plain(&src, input, &weights, &bias, window, output);
            for (i, (a, b)) in fast.iter().zip(&expected).enumerate() {
                assert!(
                    (a - b).abs() < 1e-4,
                    "stride {stride}, padding {pad}, value {i}: {a} vs {b}"
                );
            }
        }
    }
}
