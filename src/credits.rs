//! `estimateCredits`: the price of an operation before anything is sent.

use faceswap_core::aifaceswap::{
    check_duration, check_enhance, check_ref_count, CreditInputs, Operation,
};
use faceswap_core::provider::ProviderOperation;
use faceswap_core::FieldError;
use serde::de::IgnoredAny;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use crate::error::ClientError;

/// The parameters that decide a price, in the JS API's camelCase.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PriceParams {
    duration: Option<f64>,
    enhance: Option<i64>,
    ref_info: Option<Vec<IgnoredAny>>,
}

/// Credits an operation will cost, computed with the same rules as the proxy's spend cap.
///
/// `operation` is the endpoint name in either spelling (`multi_video_faceswap` or
/// `multiVideoFaceSwap`); `params` holds `duration` and `enhance` for videos and `refInfo` for
/// multi-video swaps. Throws an `Error` with `code: "invalid_parameter"` and `field` when an input
/// is missing or out of range.
#[wasm_bindgen(js_name = estimateCredits)]
pub fn estimate_credits(operation: &str, params: JsValue) -> Result<f64, JsValue> {
    let op = parse_operation(operation).map_err(ClientError::invalid)?;
    let params: PriceParams = if params.is_undefined() || params.is_null() {
        PriceParams::default()
    } else {
        faceswap_core::parse::deserialize_with_path(serde_wasm_bindgen::Deserializer::from(params))
            .map_err(ClientError::invalid)?
    };
    let inputs = price_inputs(op, &params).map_err(ClientError::invalid)?;
    Ok(op.credits(&inputs) as f64)
}

fn parse_operation(name: &str) -> Result<Operation, FieldError> {
    let canonical: String = name
        .chars()
        .filter(|c| *c != '_')
        .collect::<String>()
        .to_ascii_lowercase();
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

fn price_inputs(op: Operation, params: &PriceParams) -> Result<CreditInputs, FieldError> {
    let mut inputs = CreditInputs::default();
    if matches!(op, Operation::VideoFaceSwap | Operation::MultiVideoFaceSwap) {
        let duration = params
            .duration
            .ok_or_else(|| FieldError::required("duration"))?;
        check_duration(duration)?;
        inputs.duration = duration;
        inputs.enhance = check_enhance(params.enhance)?;
    }
    if op == Operation::MultiVideoFaceSwap {
        let faces = params.ref_info.as_ref().map_or(0, Vec::len);
        check_ref_count(faces)?;
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
        let err = price_inputs(Operation::VideoFaceSwap, &PriceParams::default()).unwrap_err();
        assert_eq!(err.field, "duration");
        let params = PriceParams {
            duration: Some(5.0),
            enhance: None,
            ref_info: None,
        };
        assert_eq!(
            Operation::VideoFaceSwap
                .credits(&price_inputs(Operation::VideoFaceSwap, &params).unwrap()),
            10
        );
    }
}
