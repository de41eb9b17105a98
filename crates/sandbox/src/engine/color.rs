//! sRGB and CIE L*a*b* (D65): the perceptual space the swap matches colours in.

use std::sync::OnceLock;

/// A colour in CIE L*a*b*.
pub type Lab = [f32; 3];

const WHITE: [f32; 3] = [0.950_47, 1.0, 1.088_83];
const LINEAR_STEPS: usize = 4096;

fn srgb_to_linear_table() -> &'static [f32; 256] {
    static TABLE: OnceLock<[f32; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = [0.0; 256];
        for (i, v) in table.iter_mut().enumerate() {
            let c = i as f32 / 255.0;
            *v = if c <= 0.040_45 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            };
        }
        table
    })
}

fn linear_to_srgb_table() -> &'static [u8] {
    static TABLE: OnceLock<Vec<u8>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (0..=LINEAR_STEPS)
            .map(|i| {
                let l = i as f32 / LINEAR_STEPS as f32;
                let c = if l <= 0.003_130_8 {
                    l * 12.92
                } else {
                    1.055 * l.powf(1.0 / 2.4) - 0.055
                };
                (c * 255.0).round().clamp(0.0, 255.0) as u8
            })
            .collect()
    })
}

fn f(t: f32) -> f32 {
    if t > 0.008_856 {
        t.cbrt()
    } else {
        7.787 * t + 16.0 / 116.0
    }
}

fn f_inv(t: f32) -> f32 {
    if t > 0.206_893 {
        t * t * t
    } else {
        (t - 16.0 / 116.0) / 7.787
    }
}

/// Converts an 8-bit sRGB pixel to L*a*b*.
pub fn rgb_to_lab(rgb: [u8; 3]) -> Lab {
    let table = srgb_to_linear_table();
    let [r, g, b] = rgb.map(|c| table[usize::from(c)]);
    let x = (0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b) / WHITE[0];
    let y = (0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b) / WHITE[1];
    let z = (0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b) / WHITE[2];
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// Converts L*a*b* back to 8-bit sRGB, clamping colours outside the gamut.
pub fn lab_to_rgb(lab: Lab) -> [u8; 3] {
    let fy = (lab[0] + 16.0) / 116.0;
    let fx = fy + lab[1] / 500.0;
    let fz = fy - lab[2] / 200.0;
    let x = f_inv(fx) * WHITE[0];
    let y = f_inv(fy) * WHITE[1];
    let z = f_inv(fz) * WHITE[2];
    let r = 3.240_454_2 * x - 1.537_138_5 * y - 0.498_531_4 * z;
    let g = -0.969_266 * x + 1.876_010_8 * y + 0.041_556 * z;
    let b = 0.055_643_4 * x - 0.204_025_9 * y + 1.057_225_2 * z;
    let table = linear_to_srgb_table();
    [r, g, b].map(|l| table[(l.clamp(0.0, 1.0) * LINEAR_STEPS as f32).round() as usize])
}

/// Weighted mean and standard deviation per channel.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stats {
    /// Mean of each channel.
    pub mean: Lab,
    /// Standard deviation of each channel.
    pub std: Lab,
}

/// Accumulates weighted channel statistics.
#[derive(Debug, Clone, Copy, Default)]
pub struct StatsBuilder {
    weight: f64,
    sum: [f64; 3],
    sum_sq: [f64; 3],
}

impl StatsBuilder {
    /// Adds one sample with weight `w`.
    pub fn add(&mut self, lab: Lab, w: f32) {
        let w = f64::from(w);
        self.weight += w;
        for (c, &value) in lab.iter().enumerate() {
            let v = f64::from(value);
            self.sum[c] += w * v;
            self.sum_sq[c] += w * v * v;
        }
    }

    /// The statistics so far; `None` when nothing was added.
    pub fn finish(&self) -> Option<Stats> {
        if self.weight <= f64::EPSILON {
            return None;
        }
        let mut stats = Stats::default();
        for c in 0..3 {
            let mean = self.sum[c] / self.weight;
            let var = (self.sum_sq[c] / self.weight - mean * mean).max(0.0);
            stats.mean[c] = mean as f32;
            stats.std[c] = var.sqrt() as f32;
        }
        Some(stats)
    }
}

/// Moves `lab` from the distribution `from` to the distribution `to` (Reinhard's transfer): the
/// same number of standard deviations from the mean. The spread ratio is bounded so a flat
/// source cannot blow noise up.
pub fn transfer(lab: Lab, from: &Stats, to: &Stats) -> Lab {
    let mut out = [0.0; 3];
    for c in 0..3 {
        let ratio = if from.std[c] > 1e-3 {
            (to.std[c] / from.std[c]).clamp(0.0, 3.0)
        } else {
            1.0
        };
        out[c] = (lab[c] - from.mean[c]) * ratio + to.mean[c];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_within_one_level() {
        for rgb in [
            [0, 0, 0],
            [255, 255, 255],
            [200, 120, 40],
            [13, 250, 99],
            [128, 128, 128],
        ] {
            let back = lab_to_rgb(rgb_to_lab(rgb));
            for c in 0..3 {
                assert!(back[c].abs_diff(rgb[c]) <= 1, "{rgb:?} -> {back:?}");
            }
        }
        let white = rgb_to_lab([255, 255, 255]);
        assert!((white[0] - 100.0).abs() < 0.1 && white[1].abs() < 0.1 && white[2].abs() < 0.1);
    }

    #[test]
    fn transfer_matches_mean_and_spread() {
        let mut a = StatsBuilder::default();
        let mut b = StatsBuilder::default();
        for v in [10.0, 20.0, 30.0] {
            a.add([v, v, v], 1.0);
            b.add([v * 2.0 + 5.0, 0.0, v], 1.0);
        }
        let (a, b) = (a.finish().expect("stats"), b.finish().expect("stats"));
        let moved = transfer([30.0, 30.0, 30.0], &a, &b);
        assert!((moved[0] - 65.0).abs() < 1e-3);
        assert!(moved[1].abs() < 1e-3);
        assert!((moved[2] - 30.0).abs() < 1e-3);
        assert!(StatsBuilder::default().finish().is_none());
    }
}
