//! SSD anchors of BlazeFace, as MediaPipe's `SsdAnchorsCalculator` makes them with the options of
//! its face detection graphs (`fixed_anchor_size: true`, so every anchor is 1 x 1 and only its
//! centre matters): consecutive layers with the same stride share one grid, each layer adding
//! two anchors per cell (short range: `interpolated_scale_aspect_ratio: 1.0`) or one (full range:
//! `0.0`).

/// The anchor grid of one model.
#[derive(Debug, Clone, Copy)]
pub struct AnchorSpec {
    /// Input side in pixels (square).
    pub input_size: usize,
    /// Stride of each SSD layer.
    pub strides: &'static [usize],
    /// Anchors each layer adds per grid cell.
    pub per_layer: usize,
}

/// Short range (128 x 128): strides 8, 16, 16, 16; 2 anchors per layer: 16x16x2 + 8x8x6 = 896.
pub const SHORT_RANGE: AnchorSpec = AnchorSpec {
    input_size: 128,
    strides: &[8, 16, 16, 16],
    per_layer: 2,
};

/// Full range (192 x 192): one stride-4 layer, 1 anchor per cell: 48x48 = 2304.
pub const FULL_RANGE: AnchorSpec = AnchorSpec {
    input_size: 192,
    strides: &[4],
    per_layer: 1,
};

/// Anchor centres `[x, y]` in pixels of an input of `height` x `width`, in the models' output
/// order (layer group, row, column, anchor).
pub fn anchors(spec: AnchorSpec, height: usize, width: usize) -> Vec<[f32; 2]> {
    let mut out = Vec::new();
    let mut layer = 0;
    while layer < spec.strides.len() {
        let stride = spec.strides[layer];
        let same = spec.strides[layer..]
            .iter()
            .take_while(|&&s| s == stride)
            .count();
        let (rows, columns) = (height.div_ceil(stride), width.div_ceil(stride));
        for y in 0..rows {
            for x in 0..columns {
                let centre = [
                    (x as f32 + 0.5) / columns as f32 * width as f32,
                    (y as f32 + 0.5) / rows as f32 * height as f32,
                ];
                out.extend(std::iter::repeat_n(centre, same * spec.per_layer));
            }
        }
        layer += same;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_counts_match_the_models() {
        assert_eq!(anchors(SHORT_RANGE, 128, 128).len(), 896);
        let full = anchors(FULL_RANGE, 192, 192);
        assert_eq!(full.len(), 2304);
        assert_eq!(full[0], [2.0, 2.0]);
        assert_eq!(full[49], [6.0, 6.0]);
        assert_eq!(anchors(FULL_RANGE, 96, 384).len(), 24 * 96);
        let short = anchors(SHORT_RANGE, 128, 128);
        assert_eq!(short[0], short[1]);
        assert_eq!(short[512], [8.0, 8.0]);
        assert_eq!(short[512 + 5], short[512]);
        assert_ne!(short[512 + 6], short[512]);
    }
}
