//! `estimateCost`: the price of any registered provider's operation, in that provider's unit,
//! before anything is sent; the catalog's price rule ([`Catalog::price`]), the one the adapters
//! price with.
//!
//! Providers are looked up in `faceswap_core::registry::CATALOG`, whose entries are data and one
//! price function each: holding them links no adapter method into the wasm (a `&dyn Adapter`
//! would link every method of every adapter, about 50 KB gzipped).

use alloc::string::String;

use faceswap_core::provider::{Catalog, Cost, OperationSpec, PriceInputs};
use faceswap_core::registry::CATALOG;
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
/// (seconds), `enhance`, `faces` (or `refInfo`, whose length counts the faces) and `frames`; a
/// request object can be passed as is. What a price depends on and has no default is required
/// (aifaceswap's video `duration`, its multi-video `refInfo`); other absent values take the
/// operation's default. Throws a `FaceSwapError` with `code: "invalid_parameter"` and `field`
/// (`provider`, `operation` or the parameter) when one is unknown, missing or malformed.
#[wasm_bindgen(js_name = estimateCost, unchecked_return_type = "Cost")]
pub fn estimate_cost(
    provider: &str,
    operation: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "CostParams")] params: JsValue,
) -> Result<JsValue, JsValue> {
    let entry = provider_entry(provider)?;
    let cost = price(entry, operation, &read_inputs(&params)?)?;
    Ok(cost_object(cost))
}

/// The catalog entry of `provider`, or an error naming the `provider` field and listing the ids.
pub(crate) fn provider_entry(provider: &str) -> Result<&'static Catalog, ClientError> {
    CATALOG
        .iter()
        .copied()
        .find(|entry| entry.id() == provider)
        .ok_or_else(|| {
            ClientError::invalid_field(
                "provider",
                faceswap_core::text!(
                    "provider \"",
                    provider,
                    "\" is not one of ",
                    comma_list(CATALOG.iter().map(|entry| entry.id()))
                ),
            )
        })
}

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

/// The price of `entry`'s operation `operation` (JS or wire name), by the catalog's one price
/// rule; the error names the input at fault in the JS API's terms.
pub(crate) fn price(
    entry: &Catalog,
    operation: &str,
    inputs: &PriceInputs,
) -> Result<Cost, ClientError> {
    entry
        .price_of(find_operation(entry, operation)?, inputs)
        .map_err(ClientError::invalid)
}

/// `entry`'s operation `operation` (JS or wire name).
fn find_operation(entry: &Catalog, operation: &str) -> Result<&'static OperationSpec, ClientError> {
    entry.operation_named(operation).ok_or_else(|| {
        let known = comma_list(entry.operations.iter().map(|op| op.js_name));
        ClientError::invalid_field(
            "operation",
            faceswap_core::text!(
                "operation \"",
                operation,
                "\" is not one of ",
                entry.id(),
                "'s: ",
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
            ClientError::invalid_field(
                name,
                faceswap_core::text!(name, " must be a whole number, 0 or more"),
            )
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
    use faceswap_core::provider::CostUnit;
    use faceswap_core::registry::{adapter, ADAPTERS};

    fn entry(id: &str) -> &'static Catalog {
        provider_entry(id).unwrap()
    }

    #[test]
    fn every_registered_provider_is_priced_as_its_adapter_prices() {
        let inputs = PriceInputs {
            duration: Some(7.5),
            enhance: Some(1),
            faces: Some(2),
            frames: Some(90),
        };
        assert_eq!(CATALOG.len(), ADAPTERS.len());
        for registered in ADAPTERS {
            let id = registered.info().id;
            for op in registered.operations() {
                assert_eq!(
                    price(entry(id), op.js_name, &inputs).unwrap(),
                    adapter(id).unwrap().price(op, &inputs),
                    "{id} {}",
                    op.js_name
                );
            }
        }
        assert_eq!(
            price(entry("acedata"), "faceSwap", &PriceInputs::default()).unwrap(),
            Cost::new(1.0, CostUnit::Requests)
        );
        assert_eq!(
            price(entry("aiphotocraft"), "basicSwap", &PriceInputs::default()).unwrap(),
            Cost::new(3.0, CostUnit::Requests),
            "a swap and the polls of a typical task"
        );
    }

    #[test]
    fn operations_are_found_by_either_name() {
        let aifaceswap = entry("aifaceswap");
        let spec = find_operation(aifaceswap, "videoFaceSwap").unwrap();
        assert_eq!(spec.name, "video_faceswap");
        assert_eq!(find_operation(aifaceswap, "video_faceswap").unwrap(), spec);
        let inputs = PriceInputs {
            duration: Some(5.0),
            ..PriceInputs::default()
        };
        assert_eq!(
            price(aifaceswap, "videoFaceSwap", &inputs).unwrap(),
            Cost::credits(10)
        );
    }

    #[test]
    fn a_video_without_its_duration_has_no_price() {
        let aifaceswap = entry("aifaceswap");
        let err = price(aifaceswap, "videoFaceSwap", &PriceInputs::default()).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("duration"));
        let inputs = PriceInputs {
            duration: Some(3.0),
            ..PriceInputs::default()
        };
        let err = price(aifaceswap, "multiVideoFaceSwap", &inputs).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("refInfo"));
        assert!(err.message.starts_with("refInfo "), "{}", err.message);
    }

    #[test]
    fn unknown_operations_and_providers_point_at_their_field() {
        let err = find_operation(entry("aifaceswap"), "video_swap").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("operation"));
        assert!(err.message.contains("\"video_swap\""), "{}", err.message);
        assert!(
            err.message.contains("multiVideoFaceSwap"),
            "{}",
            err.message
        );
        let err = provider_entry("nope").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("provider"));
        assert!(err.message.contains("aiphotocraft"), "{}", err.message);
    }
}
