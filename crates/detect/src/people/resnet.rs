//! face-api.js's face recognition network (`face_recognition_model`, shipped in the npm package
//! `@vladmandic/face-api`, MIT): a ResNet-34-like network ported from dlib's
//! `dlib_face_recognition_resnet_model_v1`, which maps a 150 x 150 face to a 128-value
//! descriptor; two faces of one person lie closer than about 0.6 (Euclidean distance), faces of
//! two people farther.

use super::layers::{pool, Conv, Map, Padding};
use super::weights::Weights;
use crate::ModelError;

/// Side of the network's input in pixels.
pub const INPUT: usize = 150;
/// Values in a descriptor.
pub const DESCRIPTOR: usize = 128;
/// The mean the network subtracts from each of R, G, B before dividing by 256.
const MEAN_RGB: [f32; 3] = [122.782, 117.001, 104.298];

/// Two convolutions of a residual block.
#[derive(Debug, Clone)]
struct Block {
    first: Conv,
    second: Conv,
    /// A block that halves the size (and may double the channels).
    down: bool,
}

/// The face recognition network with its weights.
#[derive(Debug, Clone)]
pub struct FaceRecognizer {
    stem: Conv,
    blocks: Vec<Block>,
    /// `[256, 128]`.
    fc: Vec<f32>,
}

/// The blocks in order: name, input channels, output channels, halves the size.
const BLOCKS: [(&str, usize, usize, bool); 14] = [
    ("conv32_1", 32, 32, false),
    ("conv32_2", 32, 32, false),
    ("conv32_3", 32, 32, false),
    ("conv64_down", 32, 64, true),
    ("conv64_1", 64, 64, false),
    ("conv64_2", 64, 64, false),
    ("conv64_3", 64, 64, false),
    ("conv128_down", 64, 128, true),
    ("conv128_1", 128, 128, false),
    ("conv128_2", 128, 128, false),
    ("conv256_down", 128, 256, true),
    ("conv256_1", 256, 256, false),
    ("conv256_2", 256, 256, false),
    ("conv256_down_out", 256, 256, true),
];

impl FaceRecognizer {
    /// The network from face-api.js's `face_recognition_model-weights_manifest.json` (`manifest`)
    /// and `face_recognition_model.bin` (`bin`).
    pub fn new(manifest: &str, bin: &[u8]) -> Result<Self, ModelError> {
        let weights = Weights::parse(manifest, bin)?;
        let stem = conv(&weights, "conv32_down", 7, 3, 32)?;
        let blocks = BLOCKS
            .iter()
            .map(|&(name, cin, cout, down)| {
                Ok(Block {
                    first: conv(&weights, &format!("{name}/conv1"), 3, cin, cout)?,
                    second: conv(&weights, &format!("{name}/conv2"), 3, cout, cout)?,
                    down,
                })
            })
            .collect::<Result<_, ModelError>>()?;
        let fc = weights.get("fc", &[256, DESCRIPTOR])?.to_vec();
        Ok(Self { stem, blocks, fc })
    }

    /// The descriptor of a face: `rgb` holds `INPUT x INPUT` pixels, 3 bytes each, the face
    /// centred and upright, filling the square about as a face detector's box does.
    pub fn describe(&self, rgb: &[u8]) -> Result<[f32; DESCRIPTOR], ModelError> {
        if rgb.len() != INPUT * INPUT * 3 {
            return Err(ModelError::Unsupported(format!(
                "a face to describe must be {INPUT} x {INPUT} RGB pixels"
            )));
        }
        let data = rgb
            .iter()
            .enumerate()
            .map(|(i, &v)| (f32::from(v) - MEAN_RGB[i % 3]) / 256.0)
            .collect();
        let input = Map {
            height: INPUT,
            width: INPUT,
            channels: 3,
            data,
        };
        let mut x = self.stem.apply(&input, 2, Padding::Valid, true);
        x = pool(&x, 3, 2, true);
        for block in &self.blocks {
            x = residual(&x, block);
        }
        // The mean over the remaining pixels, then the fully connected layer.
        let pixels = (x.height * x.width) as f32;
        let mut mean = vec![0.0f32; x.channels];
        for pixel in x.data.chunks_exact(x.channels) {
            mean.iter_mut()
                .zip(pixel)
                .for_each(|(m, &v)| *m += v / pixels);
        }
        let mut out = [0.0f32; DESCRIPTOR];
        for (i, &m) in mean.iter().enumerate() {
            let row = &self.fc[i * DESCRIPTOR..(i + 1) * DESCRIPTOR];
            out.iter_mut().zip(row).for_each(|(o, &w)| *o += m * w);
        }
        Ok(out)
    }
}

/// A residual block as face-api.js computes it: `relu(conv2(conv1(x)) + x)`, where a block that
/// halves the size adds `x` average-pooled, padded with zero channels (and a zero row and
/// column when the two differ in size).
fn residual(x: &Map, block: &Block) -> Map {
    let (stride, padding) = if block.down {
        (2, Padding::Valid)
    } else {
        (1, Padding::Same)
    };
    let mid = block.first.apply(x, stride, padding, true);
    let mut out = block.second.apply(&mid, 1, Padding::Same, false);
    let shortcut = if block.down {
        pool(x, 2, 2, false)
    } else {
        x.clone()
    };
    if shortcut.height != out.height || shortcut.width != out.width {
        out = grow(&out, shortcut.height, shortcut.width);
    }
    let (c_out, c_in) = (out.channels, shortcut.channels);
    for (o, s) in out
        .data
        .chunks_exact_mut(c_out)
        .zip(shortcut.data.chunks_exact(c_in))
    {
        o.iter_mut().zip(s).for_each(|(o, &s)| *o += s);
    }
    out.data.iter_mut().for_each(|v| *v = v.max(0.0));
    out
}

/// `map` with zero rows and columns added at the bottom and right up to `height x width`.
fn grow(map: &Map, height: usize, width: usize) -> Map {
    let mut out = Map::zeros(height, width, map.channels);
    let row = map.width * map.channels;
    for y in 0..map.height.min(height) {
        let at = y * width * map.channels;
        out.data[at..at + row.min(width * map.channels)]
            .copy_from_slice(&map.data[y * row..y * row + row.min(width * map.channels)]);
    }
    out
}

/// The convolution `name` (`name/conv/filters`, `/conv/bias`, `/scale/weights`,
/// `/scale/biases`) with its bias and scale folded in: `(conv + bias) * scale + shift`.
fn conv(
    weights: &Weights,
    name: &str,
    size: usize,
    inputs: usize,
    outputs: usize,
) -> Result<Conv, ModelError> {
    let filters = weights.get(
        &format!("{name}/conv/filters"),
        &[size, size, inputs, outputs],
    )?;
    let bias = weights.get(&format!("{name}/conv/bias"), &[outputs])?;
    let scale = weights.get(&format!("{name}/scale/weights"), &[outputs])?;
    let shift = weights.get(&format!("{name}/scale/biases"), &[outputs])?;
    let folded = filters
        .iter()
        .enumerate()
        .map(|(i, &w)| w * scale[i % outputs])
        .collect();
    let bias = (0..outputs)
        .map(|o| bias[o] * scale[o] + shift[o])
        .collect();
    Ok(Conv {
        size,
        inputs,
        outputs,
        weights: folded,
        bias,
    })
}

/// Euclidean distance between two descriptors.
pub fn distance(a: &[f32; DESCRIPTOR], b: &[f32; DESCRIPTOR]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f32>()
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grow_pads_with_zeros_at_the_bottom_and_right() {
        let map = Map {
            height: 1,
            width: 1,
            channels: 2,
            data: vec![1.0, 2.0],
        };
        assert_eq!(
            grow(&map, 2, 2).data,
            vec![1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        );
    }

    #[test]
    fn a_missing_tensor_is_named() {
        let err = FaceRecognizer::new("[]", &[]).unwrap_err().to_string();
        assert!(err.contains("conv32_down/conv/filters"), "{err}");
    }

    #[test]
    fn the_distance_is_euclidean() {
        let mut a = [0.0; DESCRIPTOR];
        let b = [0.0; DESCRIPTOR];
        a[0] = 3.0;
        a[1] = 4.0;
        assert_eq!(distance(&a, &b), 5.0);
    }
}
