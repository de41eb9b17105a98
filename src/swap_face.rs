//! `swapFace(provider, { target, face })`: the one operation all four providers share (one face
//! onto one picture), so an app can switch providers by configuration. Each provider's own
//! operation does the work (aifaceswap `faceswap`, PiAPI `face-swap`, AIPhotoCraft `basicswap`,
//! AceData `face/swap`); the task is followed with that provider's client.

use faceswap_core::replace_first;
use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;

use crate::error::ClientError;
use crate::js::{self, run};
use crate::provider_client::ProviderClient;

/// The providers' one-face swaps.
#[derive(Clone, Copy)]
enum Swap {
    Aifaceswap,
    PiApi,
    AiPhotoCraft,
    AceData,
}

/// Each provider's one-face swap: which, the provider's id, then the JS fields of its request
/// that take the picture receiving the face and the face.
const SWAPS: [(Swap, &str, &str, &str); 4] = [
    (
        Swap::Aifaceswap,
        faceswap_core::aifaceswap::PROVIDER.id,
        "sourceImage",
        "faceImage",
    ),
    (
        Swap::PiApi,
        faceswap_core::piapi::PROVIDER.id,
        "targetImage",
        "swapImage",
    ),
    (
        Swap::AiPhotoCraft,
        faceswap_core::aiphotocraft::PROVIDER.id,
        "targetImage",
        "srcImage",
    ),
    (
        Swap::AceData,
        faceswap_core::acedata::PROVIDER.id,
        "targetImageUrl",
        "sourceImageUrl",
    ),
];

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
        let Some(&(swap, id, target_field, face_field)) =
            SWAPS.iter().find(|(_, id, ..)| *id == provider)
        else {
            return Err(ClientError::invalid_field(
                "provider",
                format!(
                    "provider \"{provider}\" is not one of {}",
                    crate::cost::comma_list(SWAPS.iter().map(|(_, id, ..)| *id))
                ),
            ));
        };
        let request = js::request_object(&request, "swapFace")?;
        let own = Object::new();
        js::set(&own, target_field, &js::required(&request, "target")?);
        js::set(&own, face_field, &js::required(&request, "face")?);
        let own = JsValue::from(own);
        let client = ProviderClient::from_options(id, &options)?;
        let created = match swap {
            Swap::Aifaceswap => crate::ops::images::face_swap(&client, &own, &options).await,
            Swap::PiApi => {
                let op = faceswap_core::piapi::Operation::FaceSwap;
                crate::piapi::submit_operation(&client, op, &own, &options).await
            }
            Swap::AiPhotoCraft => {
                let op = faceswap_core::aiphotocraft::Operation::BasicSwap;
                crate::aiphotocraft::submit_operation(&client, op, &own, &options).await
            }
            Swap::AceData => crate::acedata::face_swap(&client, &own, &options).await,
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
