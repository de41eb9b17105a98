//! Depthwise convolution (multiplier 1) on NHWC: for each output pixel, four channels at a time
//! summed over the window's taps in registers, then the bias and activation, stored once. The
//! window may hang over the input by its padding (zeros: the taps outside are skipped), so a
//! `PAD` before the layer needs no copy of its own. Fixed-size array loops, which LLVM turns into
//! `f32x4` operations (simd128 in wasm, SSE natively) without `unsafe`.

use super::kernels::{Activation, Dims, Window};

/// The most taps a window may have here (5 x 5); larger ones use [`depthwise_any`].
const MAX_TAPS: usize = 25;

/// A depthwise convolution. `weights` is `[kh][kw][c]`, `bias` `[c]`.
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
    let c = input.c;
    if c % 4 != 0 || window.kh * window.kw > MAX_TAPS {
        depthwise_any(src, input, weights, bias, window, out, output);
        activation.apply(out);
        return;
    }
    // Each tap's weights, as slices of exactly `c`.
    let mut tap_weights: [&[f32]; MAX_TAPS] = [&[]; MAX_TAPS];
    for (t, w) in weights.chunks_exact(c).take(MAX_TAPS).enumerate() {
        tap_weights[t] = w;
    }
    let mut taps: [(&[f32], &[f32]); MAX_TAPS] = [(&[], &[]); MAX_TAPS];
    for (p, dst) in out.chunks_exact_mut(c).enumerate() {
        let (oy, ox) = (p / output.w, p % output.w);
        let mut n = 0;
        for ky in 0..window.kh {
            let Some(iy) = window.source(oy, ky, window.pad_top, input.h) else {
                continue;
            };
            for kx in 0..window.kw {
                let Some(ix) = window.source(ox, kx, window.pad_left, input.w) else {
                    continue;
                };
                let at = (iy * input.w + ix) * c;
                taps[n] = (&src[at..at + c], tap_weights[ky * window.kw + kx]);
                n += 1;
            }
        }
        if n == 9 {
            pixel::<9>(dst, bias, &taps[..9], activation);
        } else {
            pixel_any(dst, bias, &taps[..n], activation);
        }
    }
}

/// One output pixel from exactly `N` taps (the compiler unrolls them).
#[inline(always)]
fn pixel<const N: usize>(
    dst: &mut [f32],
    bias: &[f32],
    taps: &[(&[f32], &[f32])],
    activation: Activation,
) {
    let Ok(taps): Result<&[(&[f32], &[f32]); N], _> = taps.try_into() else {
        return;
    };
    for (q, (d, b)) in dst
        .chunks_exact_mut(4)
        .zip(bias.chunks_exact(4))
        .enumerate()
    {
        let mut acc = [b[0], b[1], b[2], b[3]];
        let at = q * 4;
        for (x, w) in taps {
            let (x, w) = (&x[at..at + 4], &w[at..at + 4]);
            for i in 0..4 {
                acc[i] += x[i] * w[i];
            }
        }
        activation.apply(&mut acc);
        d.copy_from_slice(&acc);
    }
}

/// One output pixel from any number of taps (the window's edges).
fn pixel_any(dst: &mut [f32], bias: &[f32], taps: &[(&[f32], &[f32])], activation: Activation) {
    for (q, (d, b)) in dst
        .chunks_exact_mut(4)
        .zip(bias.chunks_exact(4))
        .enumerate()
    {
        let mut acc = [b[0], b[1], b[2], b[3]];
        let at = q * 4;
        for (x, w) in taps {
            let (x, w) = (&x[at..at + 4], &w[at..at + 4]);
            for i in 0..4 {
                acc[i] += x[i] * w[i];
            }
        }
        activation.apply(&mut acc);
        d.copy_from_slice(&acc);
    }
}

/// The plain loop, for channel counts not a multiple of four and windows above [`MAX_TAPS`].
fn depthwise_any(
    src: &[f32],
    input: Dims,
    weights: &[f32],
    bias: &[f32],
    window: Window,
    out: &mut [f32],
    output: Dims,
) {
    let c = input.c;
    for (p, dst) in out.chunks_exact_mut(c).enumerate() {
        let (oy, ox) = (p / output.w, p % output.w);
        dst.copy_from_slice(bias);
        for ky in 0..window.kh {
            let Some(iy) = window.source(oy, ky, window.pad_top, input.h) else {
                continue;
            };
            for kx in 0..window.kw {
                let Some(ix) = window.source(ox, kx, window.pad_left, input.w) else {
                    continue;
                };
                let at = (iy * input.w + ix) * c;
                let tap = (ky * window.kw + kx) * c;
                for ((d, &x), &w) in dst
                    .iter_mut()
                    .zip(&src[at..at + c])
                    .zip(&weights[tap..tap + c])
                {
                    *d += x * w;
                }
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

    #[test]
    fn the_fast_path_matches_the_plain_loop_with_padding_and_strides() {
        for (stride, pad, size) in [(1, 1, 5), (2, 0, 2), (2, 1, 3), (1, 0, 3)] {
            let (input, c) = (dims(5, 6, 8), 8);
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
            let mut plain = vec![0.0; output.len()];
            depthwise(
                &src,
                input,
                &weights,
                &bias,
                window,
                Activation::Relu6,
                &mut fast,
                output,
            );
            depthwise_any(&src, input, &weights, &bias, window, &mut plain, output);
            Activation::Relu6.apply(&mut plain);
            assert_eq!(fast, plain, "stride {stride}, padding {pad}");
        }
    }
}
