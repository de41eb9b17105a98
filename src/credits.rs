//! `estimateCredits`: the price of an operation before anything is sent.

use faceswap_core::aifaceswap::{
    check_duration, check_enhance, check_ref_count, CreditInputs, Operation,
};
use faceswap_core::provider::{PriceInputs, ProviderOperation};
use faceswap_core::FieldError;
use wasm_bindgen::prelude::*;

use crate::cost::read_inputs;
use crate::error::ClientError;

/// The parameters that decide a price, read as `estimateCost` reads them.
type PriceParams = PriceInputs;

/// Credits an operation will cost, computed with the same rules as the proxy's spend cap.
///
/// `operation` is the endpoint name in either spelling (`multiVideoFaceSwap` or
/// `multi_video_faceswap`); `params` holds `duration` and `enhance` for videos and `refInfo` for
/// multi-video swaps (the request itself can be passed). Throws an `Error` with
/// `code: "invalid_parameter"` and `field` when an input is missing or out of range.
#[wasm_bindgen(js_name = estimateCredits)]
pub fn estimate_credits(
    operation: &str,
    #[wasm_bindgen(unchecked_param_type = "PriceParams")] params: JsValue,
) -> Result<f64, JsValue> {
    let op = parse_operation(operation).map_err(ClientError::invalid)?;
    let params = read_inputs(&params)?;
    let inputs = price_inputs(op, params).map_err(ClientError::invalid)?;
    Ok(op.credits(&inputs) as f64)
}

fn parse_operation(name: &str) -> Result<Operation, FieldError> {
    let canonical = name.replace('_', "").to_ascii_lowercase();
    Operation::ALL
        .iter()
        .copied()
        .find(|op| op.name().replace('_', "") == canonical)
        .ok_or_else(|| {
            FieldError::new(
                "operation",
                format!("operation \"{name}\" is not one of faceSwap, extractFace, multiFaceSwap, videoFaceSwap, extractBase64Face, multiVideoFaceSwap"),
            )
        })
}

fn price_inputs(op: Operation, params: PriceParams) -> Result<CreditInputs, FieldError> {
    let mut inputs = CreditInputs::default();
    if matches!(op, Operation::VideoFaceSwap | Operation::MultiVideoFaceSwap) {
        let duration = params
            .duration
            .ok_or_else(|| FieldError::required("duration"))?;
        check_duration(duration)?;
        inputs.duration = duration;
        inputs.enhance = check_enhance(params.enhance.map(i64::from))?;
    }
    if op == Operation::MultiVideoFaceSwap {
        let faces = params.faces.unwrap_or(0);
        check_ref_count(faces).map_err(|e| FieldError::new("ref_info", e.message))?;
        inputs.faces = faces;
    }
    Ok(inputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_name_the_same_operation() {
        assert_eq!(
            parse_operation("multiVideoFaceSwap"),
            Ok(Operation::MultiVideoFaceSwap)
        );
        assert_eq!(
            parse_operation("multi_video_faceswap"),
            Ok(Operation::MultiVideoFaceSwap)
        );
        assert_eq!(parse_operation("faceSwap"), Ok(Operation::FaceSwap));
        assert_eq!(parse_operation("swapFaces").unwrap_err().field, "operation");
    }

    #[test]
    fn video_prices_need_a_duration() {
        let err = price_inputs(Operation::VideoFaceSwap, PriceParams::default()).unwrap_err();
        assert_eq!(err.field, "duration");
        let params = PriceParams {
            duration: Some(5.0),
            ..PriceParams::default()
        };
        let inputs = price_inputs(Operation::VideoFaceSwap, params).unwrap();
        assert_eq!(Operation::VideoFaceSwap.credits(&inputs), 10);
    }
}
