//! Buffers shared between tensors whose lives do not overlap, so a run works in a few buffers
//! that stay in the cache instead of one per tensor (about a hundred, most of them written once
//! and read once by the next layer).

use super::kernels::Dims;
use super::{Layer, Step};
use crate::error::ModelError;

/// The tensors `step` reads.
pub(super) fn reads(step: &Step) -> impl Iterator<Item = usize> {
    let other = match step.layer {
        Layer::Add(other) => Some(other),
        _ => None,
    };
    [Some(step.input), step.residual, other]
        .into_iter()
        .flatten()
}

/// Buffers for the tensors: for each tensor its buffer (buffer 0, empty, for the tensors no step
/// reads or writes), and each buffer's length. The input is live from the start, the outputs to
/// the end; a step's output never shares a buffer with what the step reads.
pub(super) fn assign(
    steps: &[Step],
    dims: &[Dims],
    input: usize,
    outputs: &[usize],
) -> Result<(Vec<usize>, Vec<usize>), ModelError> {
    let count = dims.len();
    let check = |t: usize| {
        if t < count {
            Ok(t)
        } else {
            Err(ModelError::Corrupt("tensor index out of range"))
        }
    };
    // The last step that reads each tensor (outputs: past the last step).
    let mut last = vec![None; count];
    last[check(input)?] = Some(0);
    for (n, step) in steps.iter().enumerate() {
        check(step.output)?;
        for t in reads(step) {
            last[check(t)?] = Some(n);
        }
    }
    for &o in outputs {
        last[check(o)?] = Some(steps.len());
    }
    // Buffer 0 is the empty one of the tensors no step touches.
    let mut slots = vec![0; count];
    let mut sizes = vec![0];
    let mut owner: Vec<Option<usize>> = vec![None];
    let take =
        |tensor: usize, now: usize, sizes: &mut Vec<usize>, owner: &mut Vec<Option<usize>>| {
            let free = |b: usize| b > 0 && owner[b].is_none_or(|t| last[t].is_none_or(|l| l < now));
            // The smallest free buffer big enough, else the biggest free one (it grows), else a new one.
            let need = dims[tensor].len();
            let fits = (0..sizes.len())
                .filter(|&b| free(b) && sizes[b] >= need)
                .min_by_key(|&b| sizes[b]);
            let buffer = fits
                .or_else(|| {
                    (0..sizes.len())
                        .filter(|&b| free(b))
                        .max_by_key(|&b| sizes[b])
                })
                .unwrap_or_else(|| {
                    sizes.push(0);
                    owner.push(None);
                    sizes.len() - 1
                });
            sizes[buffer] = sizes[buffer].max(need);
            owner[buffer] = Some(tensor);
            buffer
        };
    slots[input] = take(input, 0, &mut sizes, &mut owner);
    for (n, step) in steps.iter().enumerate() {
        slots[step.output] = take(step.output, n, &mut sizes, &mut owner);
    }
    Ok((slots, sizes))
}
