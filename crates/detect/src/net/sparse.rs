//! `DENSIFY`: a sparse constant (TensorFlow Lite's block-sparse format, as in MediaPipe's
//! `face_detection_full_range_sparse.tflite`) made dense, once, at load.

use crate::error::ModelError;
use crate::tflite::{SparseDim, Sparsity};

/// The dense values (row-major over `shape`) of the stored `values`.
pub fn densify(
    values: &[f32],
    shape: &[usize],
    sparsity: &Sparsity,
) -> Result<Vec<f32>, ModelError> {
    let rank = shape.len();
    let levels = sparsity.traversal_order.len();
    if sparsity.dims.len() != levels || levels != rank + sparsity.block_map.len() {
        return Err(ModelError::Corrupt(
            "sparsity does not match the tensor's rank",
        ));
    }
    // Size of each block dimension, by block number.
    let mut block_sizes = vec![1; sparsity.block_map.len()];
    for (level, &dim) in sparsity.traversal_order.iter().enumerate() {
        if let (Some(size), SparseDim::Dense(n)) = (
            dim.checked_sub(rank).and_then(|b| block_sizes.get_mut(b)),
            &sparsity.dims[level],
        ) {
            *size = *n;
        }
    }
    let mut walk = Walk {
        values,
        next: 0,
        shape,
        sparsity,
        block_sizes,
        at: vec![0; levels],
        dense: vec![0.0; shape.iter().product()],
    };
    walk.level(0, 0)?;
    Ok(walk.dense)
}

/// The state of the depth-first walk over the stored dimensions.
struct Walk<'a> {
    values: &'a [f32],
    next: usize,
    shape: &'a [usize],
    sparsity: &'a Sparsity,
    block_sizes: Vec<usize>,
    /// The index along each dimension (tensor dimensions, then block dimensions).
    at: Vec<usize>,
    dense: Vec<f32>,
}

impl Walk<'_> {
    fn level(&mut self, level: usize, parent: usize) -> Result<(), ModelError> {
        let Some(&dim) = self.sparsity.traversal_order.get(level) else {
            return self.store();
        };
        if dim >= self.at.len() {
            return Err(ModelError::Corrupt("sparse dimension out of range"));
        }
        match &self.sparsity.dims[level] {
            SparseDim::Dense(size) => {
                for i in 0..*size {
                    self.at[dim] = i;
                    self.level(level + 1, parent * size + i)?;
                }
            }
            SparseDim::Compressed { segments, indices } => {
                let (Some(&start), Some(&end)) = (segments.get(parent), segments.get(parent + 1))
                else {
                    return Err(ModelError::Corrupt("sparse segment out of range"));
                };
                for position in start..end {
                    self.at[dim] = *indices
                        .get(position)
                        .ok_or(ModelError::Corrupt("sparse index out of range"))?;
                    self.level(level + 1, position)?;
                }
            }
        }
        Ok(())
    }

    /// Stores the next value at the current position.
    fn store(&mut self) -> Result<(), ModelError> {
        let rank = self.shape.len();
        let mut offset = 0;
        for (d, &size) in self.shape.iter().enumerate() {
            let mut index = self.at[d];
            if let Some(block) = self.sparsity.block_map.iter().position(|&m| m == d) {
                index = index * self.block_sizes[block] + self.at[rank + block];
            }
            if index >= size {
                return Err(ModelError::Corrupt("sparse position out of the tensor"));
            }
            offset = offset * size + index;
        }
        let value = *self
            .values
            .get(self.next)
            .ok_or(ModelError::Corrupt("too few sparse values"))?;
        self.next += 1;
        self.dense[offset] = value;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_sparse_matrix_densifies() {
        // 2 x 4 with 1 x 2 blocks: row 0 keeps block 1, row 1 keeps block 0.
        let sparsity = Sparsity {
            traversal_order: vec![0, 1, 2],
            block_map: vec![1],
            dims: vec![
                SparseDim::Dense(2),
                SparseDim::Compressed {
                    segments: vec![0, 1, 2],
                    indices: vec![1, 0],
                },
                SparseDim::Dense(2),
            ],
        };
        let dense = densify(&[1.0, 2.0, 3.0, 4.0], &[2, 4], &sparsity).expect("densify");
        assert_eq!(dense, [0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 0.0]);
    }
}
