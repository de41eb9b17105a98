//! `estimateCredits`: the price of an aifaceswap operation in credits, before anything is sent;
//! `estimateCost("aifaceswap", ...)`'s amount, by the same catalog price rule.

use wasm_bindgen::prelude::*;

use crate::cost::{price, read_inputs};

/// Credits an operation will cost, computed with the same rules as the proxy's spend cap.
///
/// `operation` is the endpoint name in either spelling (`multiVideoFaceSwap` or
/// `multi_video_faceswap`); `params` holds `duration` and `enhance` for videos and `refInfo` (or
/// `faces`) for multi-video swaps (the request itself can be passed). Throws an `Error` with
/// `code: "invalid_parameter"` and `field` when an input is missing or out of range, exactly
/// as `estimateCost("aifaceswap", operation, params)` does.
#[wasm_bindgen(js_name = estimateCredits)]
pub fn estimate_credits(
    operation: &str,
    #[wasm_bindgen(unchecked_param_type = "PriceParams")] params: JsValue,
) -> Result<f64, JsValue> {
    let cost = price(
        &faceswap_core::aifaceswap::CATALOG,
        operation,
        &read_inputs(&params)?,
    )?;
    Ok(cost.amount)
}
