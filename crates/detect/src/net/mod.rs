//! A small network runner for the layer kinds of MediaPipe's BlazeFace models: convolution,
//! depthwise convolution, add, ReLU, max pooling, pad, bilinear resize, depth to space, reshape,
//! and the `DENSIFY` and `DEQUANTIZE` of sparse float16 weights (done once, at load, with the
//! weights packed for their kernels). Layers are fused at load where the graph allows: a `RELU`
//! into the layer before it, a `PAD` into the convolution after it (its window hangs over the
//! input instead), an `ADD` into the convolution that feeds it (the residual is summed as the
//! output is stored). Activations are kept between runs, so a run allocates nothing.

mod buffers;
mod conv;
mod depthwise;
mod fuse;
mod kernels;
mod sparse;

use crate::error::ModelError;
use crate::tflite::{Graph, Operator, Tensor, TensorType};
use conv::{Epilogue, SparseWeights};
use kernels::{Activation, Dims, Window};

/// TensorFlow Lite builtin operator codes used here.
mod code {
    pub const ADD: i32 = 0;
    pub const CONV_2D: i32 = 3;
    pub const DEPTHWISE_CONV_2D: i32 = 4;
    pub const DEPTH_TO_SPACE: i32 = 5;
    pub const DEQUANTIZE: i32 = 6;
    pub const DENSIFY: i32 = 124;
    pub const MAX_POOL_2D: i32 = 17;
    pub const RELU: i32 = 19;
    pub const RELU6: i32 = 21;
    pub const RESHAPE: i32 = 22;
    pub const RESIZE_BILINEAR: i32 = 23;
    pub const PAD: i32 = 34;
}

/// One layer, with its weights laid out for its kernel.
#[derive(Debug, Clone)]
enum Layer {
    /// A full convolution (1 x 1 ones included), its nonzero weights.
    Conv {
        weights: SparseWeights,
        window: Window,
    },
    /// A depthwise convolution: weights `[c][kh * kw]`.
    Depthwise {
        weights: Vec<f32>,
        bias: Vec<f32>,
        window: Window,
    },
    Add(usize),
    Activate,
    MaxPool(Window),
    Pad([usize; 3]),
    Resize {
        half_pixel: bool,
        align_corners: bool,
    },
    DepthToSpace(usize),
    Copy,
}

/// A layer with its input and output tensors, fused activation and (convolutions only) a fused
/// residual: a tensor added to the output before the activation.
#[derive(Debug, Clone)]
struct Step {
    layer: Layer,
    input: usize,
    output: usize,
    activation: Activation,
    residual: Option<usize>,
}

/// A loaded network: its steps in order and a buffer per tensor, planar (CHW).
#[derive(Debug, Clone)]
pub struct Network {
    steps: Vec<Step>,
    dims: Vec<Dims>,
    /// The buffers, shared by tensors whose lives do not overlap.
    values: Vec<Vec<f32>>,
    /// Each tensor's buffer.
    slots: Vec<usize>,
    /// Patches gathered for the convolutions wider than 1 x 1.
    scratch: Vec<f32>,
    input: usize,
    outputs: Vec<usize>,
    /// The outputs after a run in TensorFlow Lite's order (HWC).
    results: Vec<Vec<f32>>,
}

/// IEEE half precision to single.
fn f16_to_f32(bits: u16) -> f32 {
    let sign = u32::from(bits >> 15) << 31;
    let exponent = u32::from((bits >> 10) & 0x1f);
    let mantissa = u32::from(bits & 0x3ff);
    let magnitude = match exponent {
        0 => {
            let value = mantissa as f32 * 2.0f32.powi(-24);
            return if sign == 0 { value } else { -value };
        }
        31 => 0xff << 23 | mantissa << 13,
        _ => (exponent + 112) << 23 | mantissa << 13,
    };
    f32::from_bits(sign | magnitude)
}

/// The constant values of a tensor as `f32`.
fn constant(tensor: &Tensor) -> Result<Vec<f32>, ModelError> {
    match tensor.kind {
        TensorType::F32 => Ok(tensor
            .data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()),
        TensorType::F16 => Ok(tensor
            .data
            .chunks_exact(2)
            .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
            .collect()),
        TensorType::I8 => {
            let scale = tensor.scale.first().copied().unwrap_or(1.0);
            let zero = tensor.zero_point.first().copied().unwrap_or(0) as f32;
            Ok(tensor
                .data
                .iter()
                .map(|&b| (f32::from(b as i8) - zero) * scale)
                .collect())
        }
        other => Err(ModelError::Unsupported(format!(
            "constant tensor {} of type {other:?}",
            tensor.name
        ))),
    }
}

fn ints(tensor: &Tensor) -> Vec<i32> {
    tensor
        .data
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn activation(code: Option<i64>) -> Result<Activation, ModelError> {
    match code.unwrap_or(0) {
        0 => Ok(Activation::Linear),
        1 => Ok(Activation::Relu),
        3 => Ok(Activation::Relu6),
        other => Err(ModelError::Unsupported(format!("fused activation {other}"))),
    }
}

/// Dimensions of an NHWC tensor (batch 1), or of a flat one as 1 x 1 x n.
fn dims_of(shape: &[usize]) -> Dims {
    match *shape {
        [1, h, w, c] => Dims { h, w, c },
        [.., h, c] => Dims { h: 1, w: h, c },
        [c] => Dims { h: 1, w: 1, c },
        _ => Dims { h: 1, w: 1, c: 1 },
    }
}

fn option(op: &Operator, field: usize) -> Option<i64> {
    op.options.get(field).copied().flatten()
}

/// Window of a convolution or pool: `same` is TensorFlow's SAME padding.
fn window(kh: usize, kw: usize, stride: usize, same: bool, input: Dims, output: Dims) -> Window {
    let pad = |k: usize, i: usize, o: usize| {
        if same {
            ((o.saturating_sub(1)) * stride + k).saturating_sub(i) / 2
        } else {
            0
        }
    };
    Window {
        kh,
        kw,
        stride,
        pad_top: pad(kh, input.h, output.h),
        pad_left: pad(kw, input.w, output.w),
    }
}

impl Network {
    /// Loads the first subgraph of a TensorFlow Lite model.
    pub fn new(graph: &Graph) -> Result<Self, ModelError> {
        let tensors = &graph.tensors;
        let tensor = |i: i32| -> Result<&Tensor, ModelError> {
            usize::try_from(i)
                .ok()
                .and_then(|i| tensors.get(i))
                .ok_or(ModelError::Corrupt("tensor index out of range"))
        };
        let index = |i: i32| usize::try_from(i).map_err(|_| ModelError::Corrupt("negative index"));
        // Float versions of constants, including the outputs of DEQUANTIZE.
        let mut constants: Vec<Option<Vec<f32>>> = vec![None; tensors.len()];
        let mut steps = Vec::new();
        for op in &graph.operators {
            let input = *op
                .inputs
                .first()
                .ok_or(ModelError::Corrupt("operator without input"))?;
            let output = *op
                .outputs
                .first()
                .ok_or(ModelError::Corrupt("operator without output"))?;
            let (input_dims, output_dims) = (
                dims_of(&tensor(input)?.shape),
                dims_of(&tensor(output)?.shape),
            );
            let weight =
                |n: usize, constants: &[Option<Vec<f32>>]| -> Result<Vec<f32>, ModelError> {
                    let i = *op
                        .inputs
                        .get(n)
                        .ok_or(ModelError::Corrupt("missing weights"))?;
                    match constants.get(index(i)?).cloned().flatten() {
                        Some(values) => Ok(values),
                        None => constant(tensor(i)?),
                    }
                };
            let step = |layer, activation| Step {
                layer,
                input: input as usize,
                output: output as usize,
                activation,
                residual: None,
            };
            match op.code {
                code::DEQUANTIZE => {
                    let values = match constants.get(index(input)?).cloned().flatten() {
                        Some(values) => values,
                        None => constant(tensor(input)?)?,
                    };
                    constants[index(output)?] = Some(values);
                }
                code::DENSIFY => {
                    let sparse = tensor(input)?;
                    let sparsity = sparse
                        .sparsity
                        .as_ref()
                        .ok_or(ModelError::Corrupt("DENSIFY of a dense tensor"))?;
                    let dense =
                        sparse::densify(&constant(sparse)?, &tensor(output)?.shape, sparsity)?;
                    constants[index(output)?] = Some(dense);
                }
                code::CONV_2D | code::DEPTHWISE_CONV_2D => {
                    let depthwise = op.code == code::DEPTHWISE_CONV_2D;
                    let filter = weight(1, &constants)?;
                    let shape = &tensor(op.inputs[1])?.shape;
                    let &[o, kh, kw, i] = shape.as_slice() else {
                        return Err(ModelError::Corrupt("filter is not 4-D"));
                    };
                    let bias = if op.inputs.get(2).is_some_and(|&b| b >= 0) {
                        weight(2, &constants)?
                    } else {
                        vec![0.0; output_dims.c]
                    };
                    let (stride, dilation, act) = if depthwise {
                        (option(op, 1), option(op, 5), option(op, 4))
                    } else {
                        (option(op, 1), option(op, 4), option(op, 3))
                    };
                    if dilation.unwrap_or(1) != 1 || stride != option(op, 2) {
                        return Err(ModelError::Unsupported("dilated or uneven strides".into()));
                    }
                    if depthwise && kw > depthwise::MAX_WIDTH {
                        return Err(ModelError::Unsupported(format!(
                            "depthwise window {kh}x{kw}"
                        )));
                    }
                    if depthwise && (o != 1 || i != output_dims.c || input_dims.c != i) {
                        return Err(ModelError::Unsupported(
                            "depth multiplier other than 1".into(),
                        ));
                    }
                    if filter.len() != o * kh * kw * i || bias.len() != output_dims.c {
                        return Err(ModelError::Corrupt("weights do not match their shape"));
                    }
                    let stride = stride.unwrap_or(1).max(1) as usize;
                    let same = option(op, 0).unwrap_or(0) == 0;
                    let window = window(kh, kw, stride, same, input_dims, output_dims);
                    let layer = if depthwise {
                        // 1HWC, each channel's window wanted together: C(HW).
                        let taps = kh * kw;
                        let mut planar = vec![0.0; filter.len()];
                        for (n, &w) in filter.iter().enumerate() {
                            planar[(n % i) * taps + n / i] = w;
                        }
                        Layer::Depthwise {
                            weights: planar,
                            bias,
                            window,
                        }
                    } else {
                        if i != input_dims.c || o != output_dims.c {
                            return Err(ModelError::Corrupt("filter does not match its tensors"));
                        }
                        // OHWI: each output channel's row of taps x input channels.
                        Layer::Conv {
                            weights: SparseWeights::new(&filter, &bias, kh * kw * i),
                            window,
                        }
                    };
                    steps.push(step(layer, activation(act)?));
                }
                code::ADD => {
                    let other = index(*op.inputs.get(1).ok_or(ModelError::Corrupt("add of one"))?)?;
                    if dims_of(&tensors[other].shape) != input_dims || input_dims != output_dims {
                        return Err(ModelError::Unsupported("broadcasting add".into()));
                    }
                    steps.push(step(Layer::Add(other), activation(option(op, 0))?));
                }
                code::RELU => steps.push(step(Layer::Activate, Activation::Relu)),
                code::RELU6 => steps.push(step(Layer::Activate, Activation::Relu6)),
                code::MAX_POOL_2D => {
                    let (kw, kh) = (
                        option(op, 3).unwrap_or(1) as usize,
                        option(op, 4).unwrap_or(1) as usize,
                    );
                    let stride = option(op, 1).unwrap_or(1).max(1) as usize;
                    let same = option(op, 0).unwrap_or(0) == 0;
                    steps.push(step(
                        Layer::MaxPool(window(kh, kw, stride, same, input_dims, output_dims)),
                        activation(option(op, 5))?,
                    ));
                }
                code::PAD => {
                    let pads = ints(tensor(
                        *op.inputs
                            .get(1)
                            .ok_or(ModelError::Corrupt("pad without paddings"))?,
                    )?);
                    let &[0, 0, top, _, left, _, front, _] = pads.as_slice() else {
                        return Err(ModelError::Unsupported("padding of the batch axis".into()));
                    };
                    let before = [top, left, front].map(|p| p.max(0) as usize);
                    steps.push(step(Layer::Pad(before), Activation::Linear));
                }
                code::RESIZE_BILINEAR => steps.push(step(
                    Layer::Resize {
                        align_corners: option(op, 2).unwrap_or(0) != 0,
                        half_pixel: option(op, 3).unwrap_or(0) != 0,
                    },
                    Activation::Linear,
                )),
                code::DEPTH_TO_SPACE => {
                    let block = output_dims.h / input_dims.h.max(1);
                    if block == 0
                        || output_dims.w != input_dims.w * block
                        || input_dims.c != output_dims.c * block * block
                    {
                        return Err(ModelError::Corrupt("DEPTH_TO_SPACE shapes disagree"));
                    }
                    steps.push(step(Layer::DepthToSpace(block), Activation::Linear));
                }
                code::RESHAPE => {
                    // Planar tensors reshape by copying only while the channels stay.
                    if input_dims.c != output_dims.c {
                        return Err(ModelError::Unsupported("reshape across channels".into()));
                    }
                    steps.push(step(Layer::Copy, Activation::Linear))
                }
                other => return Err(ModelError::Unsupported(format!("operator {other}"))),
            }
        }
        let dims: Vec<Dims> = tensors.iter().map(|t| dims_of(&t.shape)).collect();
        let steps = fuse::residuals(
            fuse::pads(fuse::activations(steps, graph), graph, &dims),
            graph,
        );
        let input = *graph
            .inputs
            .first()
            .ok_or(ModelError::Corrupt("no input"))?;
        let (slots, sizes) = buffers::assign(&steps, &dims, input, &graph.outputs)?;
        let values = sizes.iter().map(|&n| vec![0.0; n]).collect();
        let results = graph
            .outputs
            .iter()
            .map(|&o| vec![0.0; dims[o].len()])
            .collect();
        Ok(Self {
            steps,
            dims,
            values,
            slots,
            scratch: Vec::new(),
            input,
            results,
            outputs: graph.outputs.clone(),
        })
    }

    /// Height, width and channels of the input.
    pub fn input_dims(&self) -> Dims {
        self.dims[self.input]
    }

    /// The input buffer, to fill before `run`: planar, each channel's plane row by row (CHW).
    pub fn input_mut(&mut self) -> &mut [f32] {
        let len = self.dims[self.input].len();
        &mut self.values[self.slots[self.input]][..len]
    }

    /// Runs every layer; then `output(n)` holds the results.
    pub fn run(&mut self) {
        for step in &self.steps {
            execute(
                step,
                &mut self.values,
                &self.slots,
                &self.dims,
                &mut self.scratch,
            );
        }
        for (&tensor, result) in self.outputs.iter().zip(&mut self.results) {
            let values = &self.values[self.slots[tensor]][..self.dims[tensor].len()];
            kernels::to_hwc(values, self.dims[tensor], result);
        }
    }

    /// Output `n` of the graph (in the file's order), in TensorFlow Lite's order (HWC), and its
    /// last dimension.
    pub fn output(&self, n: usize) -> Option<(&[f32], usize)> {
        let index = *self.outputs.get(n)?;
        Some((self.results.get(n)?, self.dims[index].c))
    }

    /// Number of outputs.
    pub fn output_count(&self) -> usize {
        self.outputs.len()
    }
}

/// Runs one step: reads its input tensors from `values`, writes its output there.
fn execute(
    step: &Step,
    values: &mut [Vec<f32>],
    slots: &[usize],
    dims: &[Dims],
    scratch: &mut Vec<f32>,
) {
    // Take the output buffer out so the inputs can be borrowed beside it (a step never writes a
    // buffer it reads: `buffers::assign`).
    let mut buffer = std::mem::take(&mut values[slots[step.output]]);
    let (input, output) = (dims[step.input], dims[step.output]);
    let read = |t: usize| &values[slots[t]][..dims[t].len()];
    let src = read(step.input);
    let out = &mut buffer[..output.len()];
    let activation = step.activation;
    match &step.layer {
        Layer::Conv { weights, window } => {
            let epilogue = Epilogue {
                residual: step.residual.map(read),
                activation,
            };
            conv::conv(src, input, weights, *window, epilogue, scratch, out, output);
        }
        Layer::Depthwise {
            weights,
            bias,
            window,
        } => depthwise::depthwise(src, input, weights, bias, *window, activation, out, output),
        Layer::Add(other) => {
            kernels::add(src, read(*other), out);
            activation.apply(out);
        }
        Layer::MaxPool(window) => {
            kernels::max_pool(src, input, *window, out, output);
            activation.apply(out);
        }
        Layer::Pad(before) => {
            kernels::pad(src, input, *before, out, output);
            activation.apply(out);
        }
        Layer::Resize {
            half_pixel,
            align_corners,
        } => {
            kernels::resize_bilinear(src, input, out, output, *half_pixel, *align_corners);
            activation.apply(out);
        }
        Layer::DepthToSpace(block) => {
            kernels::depth_to_space(src, input, *block, out, output);
            activation.apply(out);
        }
        Layer::Activate | Layer::Copy => {
            out.copy_from_slice(src);
            activation.apply(out);
        }
    }
    values[slots[step.output]] = buffer;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_floats_convert() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        assert_eq!(f16_to_f32(0x8001), -5.960_464_5e-8);
        assert!(f16_to_f32(0x7c00).is_infinite());
    }
}
