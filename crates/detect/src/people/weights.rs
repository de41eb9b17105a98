//! Reads a TensorFlow.js weights manifest (`*-weights_manifest.json`) and its weight file
//! (`*.bin`): each named tensor's shape and values, float32 or uint8-quantised (`value = q *
//! scale + min`), laid out one after the other in the manifest's order.

use std::collections::HashMap;

use crate::ModelError;

/// The tensors of a model, by name: shape and values (row-major, last dimension fastest).
#[derive(Debug, Default)]
pub struct Weights {
    tensors: HashMap<String, (Vec<usize>, Vec<f32>)>,
}

impl Weights {
    /// Parses `manifest` (the JSON text) and the concatenated weight files `bin`.
    pub fn parse(manifest: &str, bin: &[u8]) -> Result<Self, ModelError> {
        let groups: serde_json::Value = serde_json::from_str(manifest)
            .map_err(|_| ModelError::Corrupt("the weights manifest is not JSON"))?;
        let groups = groups
            .as_array()
            .ok_or(ModelError::Corrupt("the weights manifest is not a list"))?;
        let mut tensors = HashMap::new();
        let mut offset = 0usize;
        for group in groups {
            let weights = group["weights"]
                .as_array()
                .ok_or(ModelError::Corrupt("a manifest group has no weights"))?;
            for weight in weights {
                let (name, shape, values, used) =
                    read_tensor(weight, &bin[offset.min(bin.len())..])?;
                offset += used;
                tensors.insert(name, (shape, values));
            }
        }
        if offset != bin.len() {
            return Err(ModelError::Corrupt(
                "the weight file's size does not match its manifest",
            ));
        }
        Ok(Self { tensors })
    }

    /// The values of tensor `name`, checked to have `shape`.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<&[f32], ModelError> {
        match self.tensors.get(name) {
            Some((found, values)) if found == shape => Ok(values),
            Some((found, _)) => Err(ModelError::Unsupported(format!(
                "tensor {name} has shape {found:?}, expected {shape:?}"
            ))),
            None => Err(ModelError::Unsupported(format!("tensor {name} is missing"))),
        }
    }
}

/// One manifest entry read from the start of `bin`: name, shape, values and bytes used.
fn read_tensor(
    weight: &serde_json::Value,
    bin: &[u8],
) -> Result<(String, Vec<usize>, Vec<f32>, usize), ModelError> {
    let name = weight["name"]
        .as_str()
        .ok_or(ModelError::Corrupt("a weight has no name"))?
        .to_owned();
    let shape = weight["shape"]
        .as_array()
        .ok_or(ModelError::Corrupt("a weight has no shape"))?
        .iter()
        .map(|d| d.as_u64().map(|d| d as usize))
        .collect::<Option<Vec<_>>>()
        .ok_or(ModelError::Corrupt(
            "a weight's shape is not a list of sizes",
        ))?;
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or(ModelError::Corrupt("a weight's shape is too large"))?;
    if weight["dtype"].as_str() != Some("float32") {
        return Err(ModelError::Unsupported(format!("{name} is not float32")));
    }
    let quantization = &weight["quantization"];
    if quantization.is_null() {
        let bytes = bin
            .get(..count * 4)
            .ok_or(ModelError::Corrupt("the weight file is too short"))?;
        let values = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        return Ok((name, shape, values, count * 4));
    }
    if quantization["dtype"].as_str() != Some("uint8") {
        return Err(ModelError::Unsupported(format!(
            "{name} is quantised to something other than uint8"
        )));
    }
    let (Some(scale), Some(min)) = (quantization["scale"].as_f64(), quantization["min"].as_f64())
    else {
        return Err(ModelError::Corrupt(
            "a quantised weight has no scale or min",
        ));
    };
    let bytes = bin
        .get(..count)
        .ok_or(ModelError::Corrupt("the weight file is too short"))?;
    let values = bytes
        .iter()
        .map(|&q| (f64::from(q) * scale + min) as f32)
        .collect();
    Ok((name, shape, values, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"[{"paths":["m.bin"],"weights":[
        {"name":"a","shape":[2],"dtype":"float32"},
        {"name":"b","shape":[1,3],"dtype":"float32","quantization":{"dtype":"uint8","scale":0.5,"min":-1}}]}]"#;

    fn bin() -> Vec<u8> {
        let mut bin = Vec::new();
        bin.extend(1.5f32.to_le_bytes());
        bin.extend((-2.0f32).to_le_bytes());
        bin.extend([0, 2, 4]);
        bin
    }

    #[test]
    fn reads_float_and_quantised_tensors_in_order() {
        let weights = Weights::parse(MANIFEST, &bin()).unwrap();
        assert_eq!(weights.get("a", &[2]).unwrap(), &[1.5, -2.0]);
        assert_eq!(weights.get("b", &[1, 3]).unwrap(), &[-1.0, 0.0, 1.0]);
    }

    #[test]
    fn wrong_shapes_missing_tensors_and_short_files_are_errors() {
        let weights = Weights::parse(MANIFEST, &bin()).unwrap();
        assert!(weights
            .get("a", &[3])
            .unwrap_err()
            .to_string()
            .contains("shape"));
        assert!(weights
            .get("c", &[1])
            .unwrap_err()
            .to_string()
            .contains("missing"));
        assert!(Weights::parse(MANIFEST, &bin()[..9]).is_err());
        assert!(Weights::parse(MANIFEST, &[bin(), vec![0]].concat()).is_err());
        assert!(Weights::parse("{", &[]).is_err());
        assert!(Weights::parse("[{}]", &[]).is_err());
    }
}
