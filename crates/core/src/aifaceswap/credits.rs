//! Credit prices, from the provider's price table.

use super::Operation;

/// What the price of an operation depends on. Image operations ignore all three.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CreditInputs {
    /// Video length in seconds; charged per started second (`ceil`).
    pub duration: f64,
    /// Enhancement level 0, 1 or 2.
    pub enhance: u8,
    /// Number of faces replaced in a multi-video swap (`ref_info` length).
    pub faces: usize,
}

impl Default for CreditInputs {
    fn default() -> Self {
        Self {
            duration: 0.0,
            enhance: 0,
            faces: 1,
        }
    }
}

pub(super) fn credits(op: Operation, inputs: &CreditInputs) -> u64 {
    let enhance = u64::from(inputs.enhance.min(2));
    match op {
        Operation::FaceSwap | Operation::ExtractFace | Operation::ExtractBase64Face => 2,
        Operation::MultiFaceSwap => 5,
        Operation::VideoFaceSwap => seconds(inputs.duration).saturating_mul(2 * (1 + enhance)),
        Operation::MultiVideoFaceSwap => {
            let faces = inputs.faces as u64;
            seconds(inputs.duration).saturating_mul(2 * (faces + 1 + enhance))
        }
    }
}

/// Started seconds; the float-to-int cast saturates, so a huge duration cannot wrap.
fn seconds(duration: f64) -> u64 {
    if duration.is_finite() && duration > 0.0 {
        duration.ceil() as u64
    } else {
        0
    }
}
