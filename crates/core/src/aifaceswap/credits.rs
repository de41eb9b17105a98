//! Credit prices, from the provider's price table.

use super::{check_duration, check_enhance, check_ref_count, Operation};
use crate::provider::{Cost, OperationSpec, PriceInputs};
use crate::FieldError;

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

/// The catalog's price rule: an image operation's fixed price; a video needs its `duration`
/// (seconds above 0) and may give `enhance` (0 to 2); a multi-video swap needs its `faces` (the
/// length of `ref_info`, 1 to 3).
pub(super) fn price(operation: &OperationSpec, inputs: &PriceInputs) -> Result<Cost, FieldError> {
    let op = Operation::of_spec(operation).ok_or_else(|| {
        FieldError::new(
            "operation",
            crate::text!("aifaceswap has no operation ", operation.name),
        )
    })?;
    let mut credit = CreditInputs::default();
    if matches!(op, Operation::VideoFaceSwap | Operation::MultiVideoFaceSwap) {
        let duration = inputs
            .duration
            .ok_or_else(|| FieldError::required("duration"))?;
        check_duration(duration)?;
        credit.duration = duration;
        credit.enhance = check_enhance(inputs.enhance.map(i64::from))?;
    }
    if op == Operation::MultiVideoFaceSwap {
        let faces = inputs.faces.unwrap_or(0);
        check_ref_count(faces)?;
        credit.faces = faces;
    }
    Ok(Cost::credits(credits(op, &credit)))
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
        crate::float::ceil(duration) as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_video_price_needs_its_duration_and_a_multi_video_its_faces() {
        let video = Operation::VideoFaceSwap.spec();
        let err = price(video, &PriceInputs::default()).unwrap_err();
        assert_eq!(err.field, "duration");
        let five_seconds = PriceInputs {
            duration: Some(5.0),
            ..PriceInputs::default()
        };
        assert_eq!(price(video, &five_seconds), Ok(Cost::credits(10)));
        let multi = Operation::MultiVideoFaceSwap.spec();
        assert_eq!(price(multi, &five_seconds).unwrap_err().field, "ref_info");
        let enhanced = PriceInputs {
            enhance: Some(3),
            ..five_seconds
        };
        assert_eq!(price(video, &enhanced).unwrap_err().field, "enhance");
        assert_eq!(
            price(Operation::FaceSwap.spec(), &PriceInputs::default()),
            Ok(Cost::credits(2))
        );
    }
}
