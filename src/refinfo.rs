//! `buildRefInfo`: pair face crops (from `cropFaces`) with new faces (URLs, or Blobs uploaded
//! through the proxy) into the `refInfo` of `multiVideoFaceSwap`. Built into the media helpers'
//! module (feature `ref-info`, with `media`): `FaceSwapClient.buildRefInfo` in every other build
//! loads it there and hands over its client's options.

use alloc::{boxed::Box, vec::Vec};

use faceswap_core::aifaceswap::{check_ref_count, RefInfo, Validate, CATALOG};
use js_sys::{Array, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::drive::run;
use crate::error::ClientError;
use crate::js;
use crate::media::{check_media, resolve_media, Medium};
use crate::media::{source_value, Kind};
use crate::provider_client::ProviderClient;

/// `FaceSwapClient.buildRefInfo(crops, faces, options)` for a client made with `client`'s
/// options (`ProviderClient::options`).
#[wasm_bindgen(js_name = buildRefInfo, skip_typescript)]
pub fn build_ref_info(
    client: JsValue,
    crops: JsValue,
    faces: JsValue,
    options: JsValue,
) -> Promise {
    run(Box::pin(async move {
        let client = ProviderClient::from_options(CATALOG.info, &client)?;
        pair(&client, &crops, &faces, &options).await
    }))
}

/// Builds `[{ faceRef, faceUrl }]` from `crops[i]` and `faces[i]`; refuses more than three pairs
/// or lists of different lengths, checks every crop and URL, then every Blob face by its magic
/// bytes, and then uploads them.
async fn pair(
    client: &ProviderClient,
    crops: &JsValue,
    faces: &JsValue,
    options: &JsValue,
) -> Result<JsValue, ClientError> {
    let crops: Array = crops.clone().dyn_into().map_err(|_| {
        ClientError::invalid_field(
            "crops",
            "crops must be an array of base64 images (from cropFaces)",
        )
    })?;
    let faces: Array = faces.clone().dyn_into().map_err(|_| {
        ClientError::invalid_field("faces", "faces must be an array of image URLs or Blobs")
    })?;
    check_ref_count(crops.length() as usize)
        .map_err(|e| ClientError::invalid_field("refInfo", e.message))?;
    if faces.length() != crops.length() {
        return Err(ClientError::invalid_field(
            "faces",
            faceswap_core::text!(
                "faces has ",
                faces.length(),
                " entries but crops has ",
                crops.length()
            ),
        ));
    }
    let mut refs = Vec::new();
    let mut media = Vec::new();
    for (i, (crop, face)) in crops.iter().zip(faces.iter()).enumerate() {
        let face_ref = crop.as_string().ok_or_else(|| {
            ClientError::invalid_field(
                &faceswap_core::text!("crops[", i, "]"),
                faceswap_core::text!("crops[", i, "] must be a base64 string"),
            )
        })?;
        let field = faceswap_core::text!("faces[", i, "]");
        let source = source_value(face, &field)?;
        let mut info = RefInfo {
            face_ref,
            face_url: source.url_for_validation("face_url"),
        };
        info.validate().map_err(|e| {
            let field = if e.field == "face_ref" {
                faceswap_core::text!("crops[", i, "]")
            } else {
                field.clone()
            };
            ClientError::invalid_field(
                &field,
                faceswap_core::replace_first(&e.message, &e.field, &field),
            )
        })?;
        refs.push(info.face_ref);
        media.push(Medium {
            source,
            kind: Kind::Image,
            field,
        });
    }
    check_media(&media).await?;
    let urls = resolve_media(client, &media, js::signal_option(options).as_ref()).await?;
    let list = Array::new();
    for (face_ref, url) in refs.iter().zip(&urls) {
        let item = Object::new();
        js::set(&item, "faceRef", &JsValue::from_str(face_ref));
        js::set(&item, "faceUrl", &JsValue::from_str(url));
        list.push(&item);
    }
    Ok(list.into())
}
