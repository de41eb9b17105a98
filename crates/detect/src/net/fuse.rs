//! Layer fusion at load: steps folded into their neighbours where the graph allows, so a run
//! makes fewer passes over the activations.

use super::kernels::{Activation, Dims};
use super::{Layer, Step};
use crate::tflite::Graph;

/// How many operators (and graph outputs) read `tensor`.
fn uses(graph: &Graph, tensor: usize) -> usize {
    graph
        .operators
        .iter()
        .flat_map(|op| &op.inputs)
        .filter(|&&i| usize::try_from(i).is_ok_and(|i| i == tensor))
        .count()
        + usize::from(graph.outputs.contains(&tensor))
}

/// Folds each `RELU` into the layer before it when that layer's output feeds nothing else.
pub(super) fn activations(steps: Vec<Step>, graph: &Graph) -> Vec<Step> {
    let mut fused: Vec<Step> = Vec::with_capacity(steps.len());
    for step in steps {
        if let (Layer::Activate, Some(last)) = (&step.layer, fused.last_mut()) {
            if last.output == step.input
                && last.activation == Activation::Linear
                && !matches!(last.layer, Layer::Copy)
                && uses(graph, step.input) == 1
            {
                last.output = step.output;
                last.activation = step.activation;
                continue;
            }
        }
        fused.push(step);
    }
    fused
}

/// Folds a spatial `PAD` (zeros) into the convolution that alone reads it: the convolution's
/// window then starts that far above and left of the unpadded input, and the taps outside it are
/// skipped (they would read zeros).
pub(super) fn pads(steps: Vec<Step>, graph: &Graph, dims: &[Dims]) -> Vec<Step> {
    let mut steps: Vec<Option<Step>> = steps.into_iter().map(Some).collect();
    for n in 0..steps.len() {
        let Some(Step {
            layer: Layer::Pad([top, left, 0]),
            input,
            output,
            activation: Activation::Linear,
            ..
        }) = steps[n]
        else {
            continue;
        };
        if uses(graph, output) != 1 || dims[input].c != dims[output].c {
            continue;
        }
        let consumer = steps
            .iter_mut()
            .skip(n + 1)
            .flatten()
            .find(|s| s.input == output);
        let Some(consumer) = consumer else { continue };
        let window = match &mut consumer.layer {
            Layer::Conv { window, .. } | Layer::Depthwise { window, .. } => window,
            _ => continue,
        };
        if window.pad_top != 0 || window.pad_left != 0 {
            continue;
        }
        window.pad_top = top;
        window.pad_left = left;
        consumer.input = input;
        steps[n] = None;
    }
    steps.into_iter().flatten().collect()
}

/// Folds an `ADD` into the convolution that feeds one of its operands (when nothing else reads
/// that convolution's output and the other operand is ready before it runs): the convolution adds
/// the other operand as it stores its output, then applies the add's activation.
pub(super) fn residuals(steps: Vec<Step>, graph: &Graph) -> Vec<Step> {
    let mut steps: Vec<Option<Step>> = steps.into_iter().map(Some).collect();
    // The step that writes each tensor (graph inputs and constants have none).
    let producer = |steps: &[Option<Step>], tensor: usize| {
        steps
            .iter()
            .position(|s| s.as_ref().is_some_and(|s| s.output == tensor))
    };
    for n in 0..steps.len() {
        let Some(Step {
            layer: Layer::Add(second),
            input: first,
            output,
            activation,
            ..
        }) = steps[n]
        else {
            continue;
        };
        for (operand, other) in [(first, second), (second, first)] {
            let Some(conv) = producer(&steps, operand) else {
                continue;
            };
            let ready = producer(&steps, other).is_none_or(|p| p < conv);
            let Some(step) = steps[conv].as_mut() else {
                continue;
            };
            let fusable = matches!(step.layer, Layer::Conv { .. })
                && step.activation == Activation::Linear
                && step.residual.is_none()
                && uses(graph, operand) == 1
                && operand != other;
            if fusable && ready {
                step.output = output;
                step.activation = activation;
                step.residual = Some(other);
                steps[n] = None;
                break;
            }
        }
    }
    steps.into_iter().flatten().collect()
}
