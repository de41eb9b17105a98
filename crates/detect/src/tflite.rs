//! A minimal reader of TensorFlow Lite model files (a FlatBuffer, schema `tensorflow/lite/schema/
//! schema.fbs`): only the tables and fields the BlazeFace models use (tensors with their shapes,
//! types and buffers; operators with their options). Every offset is bounds-checked, so a corrupt
//! file is an error, never a panic. The `flatbuffers` crate would need the schema's ~10k lines of
//! generated code for the same few fields.

use crate::error::ModelError;

/// The element type of a tensor (`TensorType` in the schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorType {
    /// 32-bit float.
    F32,
    /// 16-bit float (weights dequantized by a `DEQUANTIZE` operator).
    F16,
    /// 32-bit integer (shapes).
    I32,
    /// 8-bit signed integer.
    I8,
    /// Any other type, by its schema number.
    Other(u8),
}

/// One tensor of the graph.
#[derive(Debug, Clone)]
pub struct Tensor {
    /// Its name in the file.
    pub name: String,
    /// Its shape (NHWC for activations, OHWI for convolution filters).
    pub shape: Vec<usize>,
    /// Its element type.
    pub kind: TensorType,
    /// Its constant data (little-endian bytes), empty for activations.
    pub data: Vec<u8>,
    /// Quantization scale per channel (empty when not quantized).
    pub scale: Vec<f32>,
    /// Quantization zero point per channel.
    pub zero_point: Vec<i64>,
    /// How `data` is stored when the tensor is sparse (`DENSIFY` makes it dense).
    pub sparsity: Option<Sparsity>,
}

/// A sparse tensor's layout (`SparsityParameters`): the dimensions in storage order, blocked
/// dimensions appended after the tensor's own.
#[derive(Debug, Clone, Default)]
pub struct Sparsity {
    /// Storage order of the dimensions (tensor dimensions, then block dimensions).
    pub traversal_order: Vec<usize>,
    /// Which tensor dimension each block dimension splits.
    pub block_map: Vec<usize>,
    /// One entry per stored dimension, in traversal order.
    pub dims: Vec<SparseDim>,
}

/// One stored dimension of a sparse tensor.
#[derive(Debug, Clone)]
pub enum SparseDim {
    /// Every index, `0..size`.
    Dense(usize),
    /// Compressed: for parent position `p`, the indices `indices[segments[p]..segments[p + 1]]`.
    Compressed {
        /// Start of each parent's run in `indices`.
        segments: Vec<usize>,
        /// The indices present.
        indices: Vec<usize>,
    },
}

/// One operator: its builtin code, tensor indices, and its options table read as plain numbers.
#[derive(Debug, Clone)]
pub struct Operator {
    /// `BuiltinOperator` number (3 = CONV_2D, 4 = DEPTHWISE_CONV_2D, ...).
    pub code: i32,
    /// Input tensor indices (-1 for an absent optional input).
    pub inputs: Vec<i32>,
    /// Output tensor indices.
    pub outputs: Vec<i32>,
    /// The scalar fields of the options table, by field number (absent fields are `None`).
    pub options: Vec<Option<i64>>,
    /// A vector of ints in the options (`ReshapeOptions.new_shape`), if any.
    pub option_ints: Vec<i32>,
}

/// The first subgraph of a model.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Every tensor.
    pub tensors: Vec<Tensor>,
    /// Operators in execution order.
    pub operators: Vec<Operator>,
    /// Input tensor indices.
    pub inputs: Vec<usize>,
    /// Output tensor indices.
    pub outputs: Vec<usize>,
}

/// A byte slice read as FlatBuffer tables.
#[derive(Clone, Copy)]
struct Buf<'a>(&'a [u8]);

/// A table: its position and its vtable's position.
#[derive(Clone, Copy)]
struct Table {
    pos: usize,
    vtable: usize,
    vtable_len: usize,
}

impl<'a> Buf<'a> {
    fn bytes<const N: usize>(&self, at: usize) -> Result<[u8; N], ModelError> {
        self.0
            .get(
                at..at
                    .checked_add(N)
                    .ok_or(ModelError::Corrupt("offset overflow"))?,
            )
            .and_then(|s| s.try_into().ok())
            .ok_or(ModelError::Corrupt("offset out of the file"))
    }
    fn u16(&self, at: usize) -> Result<u16, ModelError> {
        Ok(u16::from_le_bytes(self.bytes(at)?))
    }
    fn u32(&self, at: usize) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(self.bytes(at)?))
    }
    fn i32(&self, at: usize) -> Result<i32, ModelError> {
        Ok(i32::from_le_bytes(self.bytes(at)?))
    }
    fn at_offset(&self, at: usize) -> Result<usize, ModelError> {
        at.checked_add(self.u32(at)? as usize)
            .ok_or(ModelError::Corrupt("offset overflow"))
    }
    fn table(&self, pos: usize) -> Result<Table, ModelError> {
        let soffset = i64::from(self.i32(pos)?);
        let vtable = usize::try_from(pos as i64 - soffset)
            .map_err(|_| ModelError::Corrupt("vtable before the file"))?;
        let vtable_len = usize::from(self.u16(vtable)?);
        Ok(Table {
            pos,
            vtable,
            vtable_len,
        })
    }
    /// Absolute position of field `n` of `t`, if present.
    fn field(&self, t: Table, n: usize) -> Result<Option<usize>, ModelError> {
        let entry = 4 + 2 * n;
        if entry + 2 > t.vtable_len {
            return Ok(None);
        }
        let off = usize::from(self.u16(t.vtable + entry)?);
        Ok((off != 0).then_some(t.pos + off))
    }
    fn sub_table(&self, t: Table, n: usize) -> Result<Option<Table>, ModelError> {
        match self.field(t, n)? {
            Some(at) => Ok(Some(self.table(self.at_offset(at)?)?)),
            None => Ok(None),
        }
    }
    /// Position and length of the vector in field `n`.
    fn vector(&self, t: Table, n: usize) -> Result<(usize, usize), ModelError> {
        match self.field(t, n)? {
            Some(at) => {
                let start = self.at_offset(at)?;
                Ok((start + 4, self.u32(start)? as usize))
            }
            None => Ok((0, 0)),
        }
    }
    fn tables(&self, t: Table, n: usize) -> Result<Vec<Table>, ModelError> {
        let (start, len) = self.vector(t, n)?;
        (0..len)
            .map(|i| self.table(self.at_offset(start + 4 * i)?))
            .collect()
    }
    fn ints(&self, t: Table, n: usize) -> Result<Vec<i32>, ModelError> {
        let (start, len) = self.vector(t, n)?;
        (0..len).map(|i| self.i32(start + 4 * i)).collect()
    }
    fn byte_vec(&self, t: Table, n: usize) -> Result<&'a [u8], ModelError> {
        let (start, len) = self.vector(t, n)?;
        self.0
            .get(start..start + len)
            .ok_or(ModelError::Corrupt("vector out of the file"))
    }
    /// A `SparseIndexVector` union (Int32Vector, Uint16Vector, Uint8Vector) as indices.
    fn index_vector(&self, t: Table, type_field: usize) -> Result<Vec<usize>, ModelError> {
        let kind = self.scalar(t, type_field, 1)?.unwrap_or(0);
        let Some(table) = self.sub_table(t, type_field + 1)? else {
            return Ok(Vec::new());
        };
        let (start, len) = self.vector(table, 0)?;
        (0..len)
            .map(|i| match kind {
                1 => self.u32(start + 4 * i).map(|v| v as usize),
                2 => self.u16(start + 2 * i).map(usize::from),
                3 => self.bytes::<1>(start + i).map(|b| usize::from(b[0])),
                _ => Err(ModelError::Corrupt("unknown sparse index vector type")),
            })
            .collect()
    }
    fn sparsity(&self, t: Table) -> Result<Sparsity, ModelError> {
        let unsigned = |v: Vec<i32>| {
            v.into_iter()
                .map(|i| {
                    usize::try_from(i).map_err(|_| ModelError::Corrupt("negative sparse index"))
                })
                .collect::<Result<Vec<usize>, ModelError>>()
        };
        let dims = self
            .tables(t, 2)?
            .into_iter()
            .map(|d| {
                // DimensionMetadata: format, dense_size, array_segments (type, value),
                // array_indices (type, value).
                if self.scalar(d, 0, 1)?.unwrap_or(0) == 0 {
                    Ok(SparseDim::Dense(
                        self.scalar(d, 1, 4)?.unwrap_or(0).max(0) as usize
                    ))
                } else {
                    Ok(SparseDim::Compressed {
                        segments: self.index_vector(d, 2)?,
                        indices: self.index_vector(d, 4)?,
                    })
                }
            })
            .collect::<Result<Vec<SparseDim>, ModelError>>()?;
        Ok(Sparsity {
            traversal_order: unsigned(self.ints(t, 0)?)?,
            block_map: unsigned(self.ints(t, 1)?)?,
            dims,
        })
    }
    fn string(&self, t: Table, n: usize) -> Result<String, ModelError> {
        Ok(String::from_utf8_lossy(self.byte_vec(t, n)?).into_owned())
    }
    fn scalar(&self, t: Table, n: usize, size: usize) -> Result<Option<i64>, ModelError> {
        let Some(at) = self.field(t, n)? else {
            return Ok(None);
        };
        Ok(Some(match size {
            1 => i64::from(self.bytes::<1>(at)?[0] as i8),
            2 => i64::from(i16::from_le_bytes(self.bytes(at)?)),
            4 => i64::from(self.i32(at)?),
            _ => i64::from_le_bytes(self.bytes(at)?),
        }))
    }
}

/// The options tables' field sizes, by `BuiltinOptions` union type: which fields are 1-byte
/// enums and which are 4-byte ints, so they can be read as plain numbers.
fn option_sizes(options_type: u8) -> &'static [usize] {
    match options_type {
        // Conv2DOptions: padding, stride_w, stride_h, activation, dilation_w, dilation_h.
        1 => &[1, 4, 4, 1, 4, 4],
        // DepthwiseConv2DOptions: padding, stride_w, stride_h, depth_multiplier, activation,
        // dilation_w, dilation_h.
        2 => &[1, 4, 4, 4, 1, 4, 4],
        // ConcatenationOptions: axis, activation.
        10 => &[4, 1],
        // AddOptions: activation, pot_scale_int16.
        11 => &[1, 1],
        // Pool2DOptions: padding, stride_w, stride_h, filter_w, filter_h, activation.
        5 => &[1, 4, 4, 4, 4, 1],
        // ResizeBilinearOptions: new_height, new_width (deprecated), align_corners, half_pixel.
        15 => &[4, 4, 1, 1],
        _ => &[],
    }
}

fn tensor_type(code: i64) -> TensorType {
    match code {
        0 => TensorType::F32,
        1 => TensorType::F16,
        2 => TensorType::I32,
        9 => TensorType::I8,
        other => TensorType::Other(other as u8),
    }
}

/// Reads the first subgraph of a `.tflite` file.
pub fn read(file: &[u8]) -> Result<Graph, ModelError> {
    let buf = Buf(file);
    if file.get(4..8) != Some(b"TFL3") {
        return Err(ModelError::Corrupt("not a TensorFlow Lite file (no TFL3)"));
    }
    let model = buf.table(buf.at_offset(0)?)?;
    let codes = buf
        .tables(model, 1)?
        .into_iter()
        .map(|c| {
            let deprecated = buf.scalar(c, 0, 1)?.unwrap_or(0);
            let builtin = buf.scalar(c, 3, 4)?.unwrap_or(0);
            Ok(builtin.max(deprecated) as i32)
        })
        .collect::<Result<Vec<i32>, ModelError>>()?;
    let buffers = buf.tables(model, 4)?;
    let graph = *buf
        .tables(model, 2)?
        .first()
        .ok_or(ModelError::Corrupt("no subgraph"))?;
    let tensors = buf
        .tables(graph, 0)?
        .into_iter()
        .map(|t| {
            let shape = buf
                .ints(t, 0)?
                .into_iter()
                .map(|d| usize::try_from(d).map_err(|_| ModelError::Corrupt("negative dimension")))
                .collect::<Result<Vec<usize>, ModelError>>()?;
            let buffer = buf.scalar(t, 2, 4)?.unwrap_or(0) as usize;
            let data = match buffers.get(buffer) {
                Some(&b) => buf.byte_vec(b, 0)?.to_vec(),
                None => Vec::new(),
            };
            let (scale, zero_point) = match buf.sub_table(t, 4)? {
                Some(q) => {
                    let (s, n) = buf.vector(q, 2)?;
                    let scale = (0..n)
                        .map(|i| buf.bytes::<4>(s + 4 * i).map(f32::from_le_bytes))
                        .collect::<Result<Vec<f32>, ModelError>>()?;
                    let (z, n) = buf.vector(q, 3)?;
                    let zero = (0..n)
                        .map(|i| buf.bytes::<8>(z + 8 * i).map(i64::from_le_bytes))
                        .collect::<Result<Vec<i64>, ModelError>>()?;
                    (scale, zero)
                }
                None => (Vec::new(), Vec::new()),
            };
            Ok(Tensor {
                name: buf.string(t, 3)?,
                shape,
                kind: tensor_type(buf.scalar(t, 1, 1)?.unwrap_or(0)),
                data,
                scale,
                zero_point,
                sparsity: buf.sub_table(t, 6)?.map(|s| buf.sparsity(s)).transpose()?,
            })
        })
        .collect::<Result<Vec<Tensor>, ModelError>>()?;
    let operators = buf
        .tables(graph, 3)?
        .into_iter()
        .map(|op| {
            let index = buf.scalar(op, 0, 4)?.unwrap_or(0) as usize;
            let code = *codes
                .get(index)
                .ok_or(ModelError::Corrupt("operator code out of range"))?;
            let options_type = buf.scalar(op, 3, 1)?.unwrap_or(0) as u8;
            let (options, option_ints) = match buf.sub_table(op, 4)? {
                Some(o) => {
                    let options = option_sizes(options_type)
                        .iter()
                        .enumerate()
                        .map(|(n, &size)| buf.scalar(o, n, size))
                        .collect::<Result<Vec<_>, ModelError>>()?;
                    // ReshapeOptions (17): new_shape is field 0, a vector of ints.
                    let ints = if options_type == 17 {
                        buf.ints(o, 0)?
                    } else {
                        Vec::new()
                    };
                    (options, ints)
                }
                None => (Vec::new(), Vec::new()),
            };
            Ok(Operator {
                code,
                inputs: buf.ints(op, 1)?,
                outputs: buf.ints(op, 2)?,
                options,
                option_ints,
            })
        })
        .collect::<Result<Vec<Operator>, ModelError>>()?;
    let indices = |v: Vec<i32>| {
        v.into_iter()
            .map(|i| usize::try_from(i).map_err(|_| ModelError::Corrupt("negative tensor index")))
            .collect::<Result<Vec<usize>, ModelError>>()
    };
    Ok(Graph {
        inputs: indices(buf.ints(graph, 1)?)?,
        outputs: indices(buf.ints(graph, 2)?)?,
        tensors,
        operators,
    })
}
