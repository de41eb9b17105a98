//! `swapFace(provider, { target, face })`: the one operation every provider has (one face onto
//! one picture), so an app can switch providers by configuration. The provider's catalog entry
//! names the operation and its two fields (`swap_face`); the provider's runner
//! ([`crate::providers`]) does the work, and the task is followed with that provider's client.

use alloc::{borrow::ToOwned, boxed::Box, string::String};

use faceswap_core::replace_first;
use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;

use crate::cost::provider_entry;
use crate::drive::run;
use crate::error::ClientError;
use crate::js;
use crate::provider_client::ProviderClient;
use crate::providers::runner;

/// Puts the face of `request.face` onto `request.target` (each a URL or a Blob) with
/// `provider` (`aifaceswap`, `piapi`, `aiphotocraft` or `acedata`), through the proxy at
/// `options.baseUrl` (default `"/api"`). Resolves `{ provider, taskId }`; follow the task with
/// that provider's client (`waitForResult`). Errors name `target` or `face`, as the request
/// does. Which face is replaced differs: aifaceswap and PiAPI replace the target's largest
/// face, AIPhotoCraft and AceData expect one face in each image.
#[wasm_bindgen(js_name = swapFace, unchecked_return_type = "Promise<SwapFaceResult>")]
pub fn swap_face(
    #[wasm_bindgen(unchecked_param_type = "ProviderId")] provider: String,
    #[wasm_bindgen(unchecked_param_type = "SwapFaceRequest")] request: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "SwapFaceOptions")] options: JsValue,
) -> Promise {
    run(Box::pin(async move {
        let entry = provider_entry(&provider)?;
        let submit = runner(entry).ok_or_else(|| {
            ClientError::internal(faceswap_core::text!(
                "this build has no client for ",
                entry.id()
            ))
        })?;
        let swap = entry.swap_face;
        let operation = entry.operation_named(swap.operation).ok_or_else(|| {
            ClientError::internal(faceswap_core::text!(entry.id(), " has no ", swap.operation))
        })?;
        let (id, target_field, face_field) = (entry.id(), swap.target, swap.face);
        let request = js::request_object(&request, "swapFace")?;
        let own = Object::new();
        js::set(&own, target_field, &js::required(&request, "target")?);
        js::set(&own, face_field, &js::required(&request, "face")?);
        let client = ProviderClient::from_options(entry.info, &options)?;
        let created = submit(entry, client, operation, own.into(), options)
            .await
            .map_err(|err| {
                in_swap_face_terms(err, [(target_field, "target"), (face_field, "face")])
            })?;
        let result = Object::new();
        js::set(&result, "provider", &JsValue::from_str(id));
        js::set(&result, "taskId", &js::get(&created, "taskId"));
        Ok(result.into())
    }))
}

/// An error of the provider's operation with its field named as `swapFace`'s request names it.
fn in_swap_face_terms(mut err: ClientError, renames: [(&str, &str); 2]) -> ClientError {
    for (own, neutral) in renames {
        if err.field.as_deref() == Some(own) {
            err.field = Some(neutral.to_owned());
            err.message = replace_first(&err.message, own, neutral);
        }
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_swap_is_an_operation_of_its_provider() {
        for entry in faceswap_core::registry::CATALOG {
            assert!(
                entry.operation_named(entry.swap_face.operation).is_some(),
                "{}",
                entry.id()
            );
        }
    }

    #[test]
    fn errors_take_swap_face_terms() {
        let err = ClientError::invalid_field("srcImage", "srcImage must be an image");
        let err = in_swap_face_terms(err, [("targetImage", "target"), ("srcImage", "face")]);
        assert_eq!(err.field.as_deref(), Some("face"));
        assert_eq!(err.message, "face must be an image");
    }
}
