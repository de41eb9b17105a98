//! The model's input: the whole frame scaled to fit the input (aspect ratio kept, centred, black
//! bars), each input pixel the mean of the frame pixels it covers, values in -1..1.

/// How input coordinates map back to the frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    /// Input pixels per frame pixel.
    pub scale: f32,
    /// Left bar width, in input pixels.
    pub pad_x: f32,
    /// Top bar height, in input pixels.
    pub pad_y: f32,
}

impl Letterbox {
    /// The letterbox of a `width` x `height` frame in an `in_width` x `in_height` input.
    pub fn new(width: u32, height: u32, in_width: usize, in_height: usize) -> Self {
        let (iw, ih) = (in_width as f32, in_height as f32);
        let scale = (iw / width.max(1) as f32).min(ih / height.max(1) as f32);
        Self {
            scale,
            pad_x: (iw - width as f32 * scale) / 2.0,
            pad_y: (ih - height as f32 * scale) / 2.0,
        }
    }

    /// A point in input pixels, in frame pixels.
    pub fn to_frame(self, [x, y]: [f32; 2]) -> [f32; 2] {
        [(x - self.pad_x) / self.scale, (y - self.pad_y) / self.scale]
    }
}

/// For each input pixel along one axis, the frame pixels `start..end` it covers (empty in bars).
fn spans(frame: u32, size: usize, scale: f32, pad: f32) -> Vec<(usize, usize)> {
    let frame = frame as usize;
    (0..size)
        .map(|o| {
            let from = (o as f32 - pad) / scale;
            let to = (o as f32 + 1.0 - pad) / scale;
            if to <= 0.0 || from >= frame as f32 {
                return (0, 0);
            }
            let start = (from.max(0.0) as usize).min(frame - 1);
            let end = (to.ceil() as usize).clamp(start + 1, frame);
            (start, end)
        })
        .collect()
}

/// Fills `input` (`in_width * in_height * 3`, planar: the red plane, then green, then blue) from
/// `pixels` (`channels` bytes per pixel, RGB first).
pub fn fill(
    pixels: &[u8],
    channels: usize,
    (width, height): (u32, u32),
    (in_width, in_height): (usize, usize),
    input: &mut [f32],
) -> Letterbox {
    let letterbox = Letterbox::new(width, height, in_width, in_height);
    input.fill(-1.0);
    if width == 0 || height == 0 || pixels.len() < width as usize * height as usize * channels {
        return letterbox;
    }
    let columns = spans(width, in_width, letterbox.scale, letterbox.pad_x);
    let rows = spans(height, in_height, letterbox.scale, letterbox.pad_y);
    let stride = width as usize * channels;
    let mut sums = vec![[0u32; 3]; in_width];
    let (mut short, mut long) = (Vec::new(), Vec::new());
    for (oy, &(y0, y1)) in rows.iter().enumerate() {
        if y0 == y1 {
            continue;
        }
        let under = &pixels[y0 * stride..y1 * stride];
        // 16-bit sums (eight lanes at a time) while they cannot overflow: up to 257 rows of 255.
        if y1 - y0 <= usize::from(u16::MAX / 255) {
            span_sums::<u16>(under, stride, channels, &columns, &mut short, &mut sums);
        } else {
            span_sums::<u32>(under, stride, channels, &columns, &mut long, &mut sums);
        }
        let plane = in_width * in_height;
        for (k, channel) in input.chunks_exact_mut(plane.max(1)).take(3).enumerate() {
            let line = &mut channel[oy * in_width..(oy + 1) * in_width];
            for ((out, sum), &(x0, x1)) in line.iter_mut().zip(&sums).zip(&columns) {
                let count = ((x1 - x0) * (y1 - y0)) as f32;
                if count > 0.0 {
                    *out = sum[k] as f32 / count / 127.5 - 1.0;
                }
            }
        }
    }
    letterbox
}

/// Each input pixel's sums of red, green and blue over the frame rows `under` it (`stride`
/// bytes each): the rows summed column by column into `column_sums` first (a pass over
/// contiguous bytes, many lanes at a time), then each pixel's span of columns.
fn span_sums<T>(
    under: &[u8],
    stride: usize,
    channels: usize,
    columns: &[(usize, usize)],
    column_sums: &mut Vec<T>,
    sums: &mut [[u32; 3]],
) where
    T: Copy + Default + From<u8> + Into<u32> + std::ops::AddAssign,
{
    column_sums.clear();
    column_sums.resize(stride, T::default());
    for row in under.chunks_exact(stride) {
        for (s, &v) in column_sums.iter_mut().zip(row) {
            *s += T::from(v);
        }
    }
    for (sum, &(x0, x1)) in sums.iter_mut().zip(columns) {
        *sum = [0; 3];
        for p in column_sums[x0 * channels..x1 * channels].chunks_exact(channels) {
            for (s, &v) in sum.iter_mut().zip(&p[..3]) {
                *s += v.into();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wide_frame_gets_bars_above_and_below() {
        let (w, h) = (8, 4);
        let pixels = vec![255u8; w * h * 4];
        let mut input = vec![0.0; 4 * 4 * 3];
        let letterbox = fill(&pixels, 4, (w as u32, h as u32), (4, 4), &mut input);
        assert_eq!(letterbox.scale, 0.5);
        assert_eq!((letterbox.pad_x, letterbox.pad_y), (0.0, 1.0));
        for plane in input.chunks_exact(16) {
            assert_eq!(plane[0], -1.0, "top bar");
            assert_eq!(plane[4], 1.0, "second row is the frame");
            assert_eq!(plane[3 * 4], -1.0, "bottom bar");
        }
        assert_eq!(letterbox.to_frame([2.0, 2.0]), [4.0, 2.0]);
    }

    #[test]
    fn a_very_tall_frame_sums_without_overflow() {
        // 15,000 frame rows per input row: past what 16-bit sums hold.
        let (w, h) = (2, 60_000);
        let pixels = vec![255u8; w * h * 4];
        let mut input = vec![0.0; 4 * 4 * 3];
        fill(&pixels, 4, (w as u32, h as u32), (4, 4), &mut input);
        for plane in input.chunks_exact(16) {
            for row in plane.chunks_exact(4) {
                assert_eq!(row[0], -1.0, "left bar");
                assert!(
                    (row[1] - 1.0).abs() < 1e-6,
                    "the frame is white: {}",
                    row[1]
                );
            }
        }
    }
}
