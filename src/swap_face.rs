//! `swapFace(provider, { target, face })`: the one operation all four providers share (one face
//! onto one picture), so an app can switch providers by configuration. Each provider's own
//! operation does the work (aifaceswap `faceswap`, PiAPI `face-swap`, AIPhotoCraft `basicswap`,
//! AceData `face/swap`); the task is followed with that provider's client.

use faceswap_core::provider::Catalog;
use faceswap_core::replace_first;
use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;

use crate::cost::provider_entry;
use crate::error::ClientError;
use crate::js::{self, run};
use crate::provider_client::ProviderClient;

/// The library's client code of each provider, which runs its one-face swap.
#[derive(Clone, Copy)]
enum Client {
    Aifaceswap,
    PiApi,
    AiPhotoCraft,
    AceData,
}

/// Each registered provider's catalog entry (which names its swap operation and the JS fields
/// of the picture and the face) with its client, one line per provider; a test checks that it
/// covers `faceswap_core::registry::CATALOG`.
static CLIENTS: [(&Catalog, Client); 4] = [
    (&faceswap_core::aifaceswap::CATALOG, Client::Aifaceswap),
    (&faceswap_core::piapi::CATALOG, Client::PiApi),
    (&faceswap_core::aiphotocraft::CATALOG, Client::AiPhotoCraft),
    (&faceswap_core::acedata::CATALOG, Client::AceData),
];

/// PiAPI's client operation that runs the swap its catalog entry's `swap_face` names (a test
/// checks that they agree; a typed constant keeps the name lookup out of the wasm).
const PIAPI_SWAP: faceswap_core::piapi::Operation = faceswap_core::piapi::Operation::FaceSwap;

/// AIPhotoCraft's, likewise.
const AIPHOTOCRAFT_SWAP: faceswap_core::aiphotocraft::Operation =
    faceswap_core::aiphotocraft::Operation::BasicSwap;

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
        let Some(&(_, client_code)) = CLIENTS.iter().find(|(known, _)| known.id() == entry.id())
        else {
            return Err(ClientError::internal(format!(
                "this build has no client for {}",
                entry.id()
            )));
        };
        let swap = entry.swap_face;
        let (id, target_field, face_field) = (entry.id(), swap.target, swap.face);
        let request = js::request_object(&request, "swapFace")?;
        let own = Object::new();
        js::set(&own, target_field, &js::required(&request, "target")?);
        js::set(&own, face_field, &js::required(&request, "face")?);
        let own = JsValue::from(own);
        let client = ProviderClient::from_options(id, &options)?;
        let created = match client_code {
            Client::Aifaceswap => crate::ops::images::face_swap(&client, &own, &options).await,
            Client::PiApi => {
                crate::piapi::submit_operation(&client, PIAPI_SWAP, &own, &options).await
            }
            Client::AiPhotoCraft => {
                let op = AIPHOTOCRAFT_SWAP;
                crate::aiphotocraft::submit_operation(&client, op, &own, &options).await
            }
            Client::AceData => crate::acedata::face_swap(&client, &own, &options).await,
        }
        .map_err(|err| in_swap_face_terms(err, [(target_field, "target"), (face_field, "face")]))?;
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
    use faceswap_core::registry::CATALOG;

    #[test]
    fn every_registered_provider_has_its_client() {
        assert_eq!(CLIENTS.len(), CATALOG.len());
        for (entry, (known, _)) in CATALOG.iter().zip(&CLIENTS) {
            assert!(std::ptr::eq(*entry, *known), "{}", entry.id());
        }
    }

    #[test]
    fn the_typed_swaps_are_the_catalogs() {
        use faceswap_core::{aifaceswap, aiphotocraft, piapi};
        let named = |entry: &'static Catalog| entry.operation_named(entry.swap_face.operation);
        assert_eq!(named(&piapi::CATALOG), Some(PIAPI_SWAP.spec()));
        assert_eq!(
            named(&aiphotocraft::CATALOG),
            Some(AIPHOTOCRAFT_SWAP.spec())
        );
        // `face_swap` of the other two clients runs their `faceSwap`.
        assert_eq!(
            named(&aifaceswap::CATALOG),
            Some(aifaceswap::Operation::FaceSwap.spec())
        );
        assert_eq!(
            named(&faceswap_core::acedata::CATALOG).map(|op| op.js_name),
            Some("faceSwap")
        );
    }

    #[test]
    fn errors_take_swap_face_terms() {
        let err = ClientError::invalid_field("srcImage", "srcImage must be an image");
        let err = in_swap_face_terms(err, [("targetImage", "target"), ("srcImage", "face")]);
        assert_eq!(err.field.as_deref(), Some("face"));
        assert_eq!(err.message, "face must be an image");
    }
}
