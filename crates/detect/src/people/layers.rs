//! The layers of the face recognition network on NHWC feature maps of one image: convolution
//! (weights `[kh, kw, in, out]`, as TensorFlow.js stores them), max and average pooling, ReLU.
//! Plain loops whose innermost runs over output channels, so the compiler vectorises them
//! (SIMD in the wasm build).

/// A feature map: `height x width x channels`, channels fastest.
#[derive(Debug, Clone, PartialEq)]
pub struct Map {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Values per pixel.
    pub channels: usize,
    /// `height * width * channels` values.
    pub data: Vec<f32>,
}

impl Map {
    /// A map of zeros.
    pub fn zeros(height: usize, width: usize, channels: usize) -> Self {
        Self {
            height,
            width,
            channels,
            data: vec![0.0; height * width * channels],
        }
    }
}

/// A convolution with its bias and the per-channel scale and shift folded in: `out = conv(x, w)
/// + b` per output channel.
#[derive(Debug, Clone)]
pub struct Conv {
    /// Kernel side (square kernels).
    pub size: usize,
    /// Input channels.
    pub inputs: usize,
    /// Output channels.
    pub outputs: usize,
    /// `[size, size, inputs, outputs]`.
    pub weights: Vec<f32>,
    /// `[outputs]`.
    pub bias: Vec<f32>,
}

/// How a convolution or pooling window walks the input.
#[derive(Debug, Clone, Copy)]
pub enum Padding {
    /// TensorFlow's `same` with stride 1: one output per input pixel, zeros around.
    Same,
    /// TensorFlow's `valid`: windows entirely inside the input only.
    Valid,
}

impl Conv {
    /// Applies the convolution with `stride`, then ReLU when `relu`.
    pub fn apply(&self, input: &Map, stride: usize, padding: Padding, relu: bool) -> Map {
        debug_assert_eq!(input.channels, self.inputs);
        let (out_h, out_w, pad) = match padding {
            Padding::Same => (input.height, input.width, self.size / 2),
            Padding::Valid => (
                (input.height.saturating_sub(self.size)) / stride + 1,
                (input.width.saturating_sub(self.size)) / stride + 1,
                0,
            ),
        };
        let mut out = Map::zeros(out_h, out_w, self.outputs);
        let (cin, cout) = (self.inputs, self.outputs);
        let mut acc = vec![0.0f32; cout];
        for oy in 0..out_h {
            for ox in 0..out_w {
                acc.copy_from_slice(&self.bias);
                for ky in 0..self.size {
                    let iy = (oy * stride + ky) as isize - pad as isize;
                    if iy < 0 || iy >= input.height as isize {
                        continue;
                    }
                    for kx in 0..self.size {
                        let ix = (ox * stride + kx) as isize - pad as isize;
                        if ix < 0 || ix >= input.width as isize {
                            continue;
                        }
                        let pixel = (iy as usize * input.width + ix as usize) * cin;
                        let x = &input.data[pixel..pixel + cin];
                        let taps = (ky * self.size + kx) * cin * cout;
                        let w = &self.weights[taps..taps + cin * cout];
                        for (ci, &v) in x.iter().enumerate() {
                            let row = &w[ci * cout..ci * cout + cout];
                            for (a, &k) in acc.iter_mut().zip(row) {
                                *a += v * k;
                            }
                        }
                    }
                }
                let at = (oy * out_w + ox) * cout;
                let dst = &mut out.data[at..at + cout];
                if relu {
                    for (d, &a) in dst.iter_mut().zip(&acc) {
                        *d = a.max(0.0);
                    }
                } else {
                    dst.copy_from_slice(&acc);
                }
            }
        }
        out
    }
}

/// Max (`max` true) or average pooling of `size x size` windows with `stride`, `valid` padding.
pub fn pool(input: &Map, size: usize, stride: usize, max: bool) -> Map {
    let out_h = input.height.saturating_sub(size) / stride + 1;
    let out_w = input.width.saturating_sub(size) / stride + 1;
    let c = input.channels;
    let mut out = Map::zeros(out_h, out_w, c);
    for oy in 0..out_h {
        for ox in 0..out_w {
            let at = (oy * out_w + ox) * c;
            let dst = &mut out.data[at..at + c];
            dst.fill(if max { f32::NEG_INFINITY } else { 0.0 });
            for ky in 0..size {
                for kx in 0..size {
                    let p = ((oy * stride + ky) * input.width + ox * stride + kx) * c;
                    for (d, &v) in dst.iter_mut().zip(&input.data[p..p + c]) {
                        *d = if max { d.max(v) } else { *d + v };
                    }
                }
            }
            if !max {
                let n = (size * size) as f32;
                dst.iter_mut().for_each(|d| *d /= n);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(height: usize, width: usize, channels: usize) -> Map {
        let data = (0..height * width * channels).map(|i| i as f32).collect();
        Map {
            height,
            width,
            channels,
            data,
        }
    }

    #[test]
    fn a_same_convolution_sums_the_neighbourhood_with_zeros_outside() {
        let conv = Conv {
            size: 3,
            inputs: 1,
            outputs: 1,
            weights: vec![1.0; 9],
            bias: vec![0.5],
        };
        let out = conv.apply(&map(2, 2, 1), 1, Padding::Same, false);
        assert_eq!(out.data, vec![6.5; 4]);
    }

    #[test]
    fn a_valid_strided_convolution_has_tensorflows_output_size() {
        let conv = Conv {
            size: 3,
            inputs: 2,
            outputs: 3,
            weights: vec![0.0; 54],
            bias: vec![-1.0, 0.0, 1.0],
        };
        let out = conv.apply(&map(17, 17, 2), 2, Padding::Valid, true);
        assert_eq!((out.height, out.width, out.channels), (8, 8, 3));
        assert_eq!(&out.data[..3], &[0.0, 0.0, 1.0]);
    }

    #[test]
    fn pools_take_the_max_or_the_mean() {
        let input = map(4, 4, 1);
        assert_eq!(pool(&input, 2, 2, true).data, vec![5.0, 7.0, 13.0, 15.0]);
        assert_eq!(pool(&input, 2, 2, false).data, vec![2.5, 4.5, 10.5, 12.5]);
        assert_eq!(pool(&map(72, 72, 1), 3, 2, true).height, 35);
    }
}
