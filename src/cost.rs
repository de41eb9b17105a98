//! `estimateCost`: the price of any registered provider's operation, in that provider's unit,
//! before anything is sent; the same [`Adapter::price`] the proxy's spend cap uses.
//!
//! The adapters are called directly, each by its own type, not through
//! `faceswap_core::registry::adapter`: its `&dyn Adapter` would link every method of every
//! adapter into the wasm (request parsing, upstream requests, callbacks: about 50 KB gzipped,
//! over the bundle budget). [`PROVIDERS`] lists them in the registry's order; a test checks that
//! it names exactly the registry's adapters and that both price alike.

use faceswap_core::acedata::AceData;
use faceswap_core::aifaceswap::Aifaceswap;
use faceswap_core::aiphotocraft::AiPhotoCraft;
use faceswap_core::piapi::PiApi;
use faceswap_core::provider::{Adapter, Cost, OperationSpec, PriceInputs};
use faceswap_core::FieldError;
use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::ClientError;
use crate::js;

/// What `operation` of `provider` costs for `params`: `{ amount, unit }` in the provider's unit
/// (`credits`, `usd` or `requests`).
///
/// Where a provider counts every request against the key's budget (AIPhotoCraft: "per-API-key
/// basis, not per-endpoint"), the price counts the polls of a typical task too: one submit and
/// two task-status polls, 3 requests (the proxy waits a typical task's time before the first
/// poll). A slower task polls more, each poll one more request; the price is the typical one.
///
/// `provider` is a provider id (`aifaceswap`); `operation` the client method's name
/// (`videoFaceSwap`) or the provider's wire name (`video_faceswap`). `params` may hold `duration`
/// (seconds), `enhance`, `faces` (or `refInfo`, whose length counts the faces) and `frames`;
/// absent values take the operation's default, and a request object can be passed as is. Throws
/// a `FaceSwapError` with `code: "invalid_parameter"` and `field` (`provider`, `operation` or the
/// parameter) when one is unknown or malformed.
#[wasm_bindgen(js_name = estimateCost, unchecked_return_type = "Cost")]
pub fn estimate_cost(
    provider: &str,
    operation: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "CostParams")] params: JsValue,
) -> Result<JsValue, JsValue> {
    let inputs = read_inputs(&params)?;
    let cost = match provider {
        id if id == Aifaceswap.info().id => price(&Aifaceswap, operation, &inputs),
        id if id == PiApi.info().id => price(&PiApi, operation, &inputs),
        id if id == AiPhotoCraft.info().id => price(&AiPhotoCraft, operation, &inputs),
        id if id == AceData.info().id => price(&AceData, operation, &inputs),
        _ => Err(FieldError::new(
            "provider",
            format!(
                "provider \"{provider}\" is not one of {}",
                comma_list(PROVIDERS.iter().copied())
            ),
        )),
    }
    .map_err(|err| ClientError::invalid_field(&err.field, err.message))?;
    Ok(cost_object(cost))
}

/// The ids of the providers [`estimate_cost`] prices: every adapter of
/// `faceswap_core::registry`, in its order.
const PROVIDERS: [&str; 4] = [
    faceswap_core::aifaceswap::PROVIDER.id,
    faceswap_core::piapi::PROVIDER.id,
    faceswap_core::aiphotocraft::PROVIDER.id,
    faceswap_core::acedata::PROVIDER.id,
];

/// `words` separated by commas, without `[T]::join`'s generic machinery (about 1 KB of wasm).
pub(crate) fn comma_list<'a>(words: impl Iterator<Item = &'a str>) -> String {
    let mut list = String::new();
    for word in words {
        if !list.is_empty() {
            list.push_str(", ");
        }
        list.push_str(word);
    }
    list
}

/// The price of `adapter`'s operation `operation` (JS or wire name).
fn price<A: Adapter>(
    adapter: &A,
    operation: &str,
    inputs: &PriceInputs,
) -> Result<Cost, FieldError> {
    Ok(adapter.price(find_operation(adapter, operation)?, inputs))
}

/// `adapter`'s operation `operation` (JS or wire name).
fn find_operation<A: Adapter>(
    adapter: &A,
    operation: &str,
) -> Result<&'static OperationSpec, FieldError> {
    adapter.operation_named(operation).ok_or_else(|| {
        let known = comma_list(adapter.operations().iter().map(|op| op.js_name));
        FieldError::new(
            "operation",
            format!(
                "operation \"{operation}\" is not one of {}'s: {}",
                adapter.info().id,
                known
            ),
        )
    })
}

/// Reads `duration`, `enhance`, `faces` (or `refInfo.length`) and `frames` from `params`, which
/// may be undefined; each must be a number of 0 or more, whole but for `duration`.
pub fn read_inputs(params: &JsValue) -> Result<PriceInputs, ClientError> {
    let duration = js::optional_number(params, "duration")?;
    if duration.is_some_and(|s| !(s.is_finite() && s >= 0.0)) {
        return Err(ClientError::invalid_field(
            "duration",
            "duration must be seconds, 0 or more",
        ));
    }
    let enhance = match whole_number(params, "enhance")? {
        Some(level) => Some(u8::try_from(level).map_err(|_| {
            ClientError::invalid_field("enhance", "enhance must be a level from 0 to 255")
        })?),
        None => None,
    };
    let faces = match whole_number(params, "faces")? {
        Some(faces) => Some(faces as usize),
        None => {
            let ref_info = js::get(params, "refInfo");
            if js::is_absent(&ref_info) {
                None
            } else {
                let list = ref_info.dyn_into::<Array>().map_err(|_| {
                    ClientError::invalid_field("refInfo", "refInfo must be an array")
                })?;
                Some(list.length() as usize)
            }
        }
    };
    Ok(PriceInputs {
        duration,
        enhance,
        faces,
        frames: whole_number(params, "frames")?,
    })
}

/// An optional whole number of 0 or more.
fn whole_number(params: &JsValue, name: &str) -> Result<Option<u64>, ClientError> {
    match js::optional_integer(params, name)? {
        Some(n) => u64::try_from(n).map(Some).map_err(|_| {
            ClientError::invalid_field(name, format!("{name} must be a whole number, 0 or more"))
        }),
        None => Ok(None),
    }
}

/// `{ amount, unit }`.
fn cost_object(cost: Cost) -> JsValue {
    let object = Object::new();
    js::set(&object, "amount", &cost.amount.into());
    js::set(&object, "unit", &cost.unit.as_str().into());
    object.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceswap_core::registry::{adapter, ADAPTERS};

    #[test]
    fn the_providers_are_the_registrys_and_price_alike() {
        let registered: Vec<&str> = ADAPTERS.iter().map(|a| a.info().id).collect();
        assert_eq!(registered, PROVIDERS);
        let inputs = PriceInputs {
            duration: Some(7.5),
            enhance: Some(1),
            faces: Some(2),
            frames: Some(90),
        };
        // Each adapter called by its own type, as `estimate_cost` does, against the registry's.
        type Typed = fn(&str, &PriceInputs) -> Result<Cost, FieldError>;
        let typed: [(&str, Typed); 4] = [
            ("aifaceswap", |op, inputs| price(&Aifaceswap, op, inputs)),
            ("piapi", |op, inputs| price(&PiApi, op, inputs)),
            ("aiphotocraft", |op, inputs| {
                price(&AiPhotoCraft, op, inputs)
            }),
            ("acedata", |op, inputs| price(&AceData, op, inputs)),
        ];
        for (id, typed_price) in typed {
            let dynamic = adapter(id).unwrap();
            for op in dynamic.operations() {
                assert_eq!(
                    typed_price(op.js_name, &inputs).unwrap(),
                    dynamic.price(op, &inputs),
                    "{id} {}",
                    op.js_name
                );
            }
        }
        assert_eq!(
            price(&AceData, "faceSwap", &PriceInputs::default()).unwrap(),
            Cost::new(1.0, faceswap_core::provider::CostUnit::Requests)
        );
        assert_eq!(
            price(&AiPhotoCraft, "basicSwap", &PriceInputs::default()).unwrap(),
            Cost::new(3.0, faceswap_core::provider::CostUnit::Requests),
            "a swap and the polls of a typical task"
        );
    }

    #[test]
    fn operations_are_found_by_either_name() {
        let spec = find_operation(&Aifaceswap, "videoFaceSwap").unwrap();
        assert_eq!(spec.name, "video_faceswap");
        assert_eq!(find_operation(&Aifaceswap, "video_faceswap").unwrap(), spec);
        let inputs = PriceInputs {
            duration: Some(5.0),
            ..PriceInputs::default()
        };
        assert_eq!(
            price(&Aifaceswap, "videoFaceSwap", &inputs).unwrap(),
            Cost::credits(10)
        );
    }

    #[test]
    fn unknown_operations_point_at_their_field() {
        let err = find_operation(&Aifaceswap, "swap").unwrap_err();
        assert_eq!(err.field, "operation");
        assert!(
            err.message.contains("multiVideoFaceSwap"),
            "{}",
            err.message
        );
    }
}
