//! Image operations: `faceSwap`, `extractFace`, `multiFaceSwap`, `extractBase64Face`.

use faceswap_core::aifaceswap::{
    ExtractBase64FaceRequest, ExtractFaceRequest, FaceSwapRequest, MultiFaceSwapRequest, Operation,
    Validate,
};
use js_sys::Object;
use wasm_bindgen::JsValue;
use web_sys::FormData;

use super::submit::{string_array, submit_form, submit_json, task_created, CallOptions};
use crate::error::ClientError;
use crate::js;
use crate::media::{
    any_blob, append_to_form, check_blob, check_blobs, source_field, source_list, Kind, Source,
};
use crate::provider_client::ProviderClient;

/// `faceSwap({ sourceImage, faceImage })`: Blobs go as multipart files, strings as URLs.
pub async fn face_swap(
    client: &ProviderClient,
    request: &JsValue,
    options: &JsValue,
) -> Result<JsValue, ClientError> {
    let request = js::request_object(request, "faceSwap")?;
    let options = CallOptions::read(options)?;
    let source = source_field(&request, "sourceImage")?;
    let face = source_field(&request, "faceImage")?;
    FaceSwapRequest {
        source_image: source.url_for_validation("source_image"),
        face_image: face.url_for_validation("face_image"),
        webhook: None,
    }
    .validate()
    .map_err(ClientError::invalid)?;

    let data = if any_blob(&[&source, &face]) {
        let form = FormData::new().map_err(|_| ClientError::network("FormData unavailable"))?;
        for (name, input, field) in [
            ("source_image", &source, "sourceImage"),
            ("face_image", &face, "faceImage"),
        ] {
            let media = match input {
                Source::Blob(blob) => Some(check_blob(blob, Kind::Image, field).await?),
                Source::Url(_) => None,
            };
            append_to_form(&form, name, input, media)?;
        }
        submit_form(client, Operation::FaceSwap, form, &options).await?
    } else {
        let fields = [
            (
                "source_image",
                source.url_for_validation("source_image").into(),
            ),
            ("face_image", face.url_for_validation("face_image").into()),
        ];
        submit_json(client, Operation::FaceSwap, &fields, &options).await?
    };
    task_created(&data)
}

/// `extractFace({ img })`: the face boxes of an image; a Blob goes as a multipart file.
pub async fn extract_face(
    client: &ProviderClient,
    request: &JsValue,
    options: &JsValue,
) -> Result<JsValue, ClientError> {
    let request = js::request_object(request, "extractFace")?;
    let options = CallOptions::read(options)?;
    let img = source_field(&request, "img")?;
    ExtractFaceRequest {
        img: img.url_for_validation("img"),
    }
    .validate()
    .map_err(ClientError::invalid)?;

    let data = match &img {
        Source::Blob(blob) => {
            let media = check_blob(blob, Kind::Image, "img").await?;
            let form = FormData::new().map_err(|_| ClientError::network("FormData unavailable"))?;
            append_to_form(&form, "img", &img, Some(media))?;
            submit_form(client, Operation::ExtractFace, form, &options).await?
        }
        Source::Url(url) => {
            submit_json(
                client,
                Operation::ExtractFace,
                &[("img", url.into())],
                &options,
            )
            .await?
        }
    };
    let result = Object::new();
    js::set(&result, "faces", &js::get(&data, "faces"));
    js::set(&result, "points", &js::get(&data, "points"));
    Ok(result.into())
}

/// `multiFaceSwap({ sourceImage, faceImage: [...], index: [...] })`: with a Blob among the
/// images, a multipart form with the Blobs as files (the provider's file form); else JSON.
pub async fn multi_face_swap(
    client: &ProviderClient,
    request: &JsValue,
    options: &JsValue,
) -> Result<JsValue, ClientError> {
    let request = js::request_object(request, "multiFaceSwap")?;
    let options = CallOptions::read(options)?;
    let source = source_field(&request, "sourceImage")?;
    let faces = source_list(&request, "faceImage")?;
    let index = integer_list(&request, "index")?;
    let mut core = MultiFaceSwapRequest {
        source_image: source.url_for_validation("source_image"),
        face_image: faces
            .iter()
            .map(|face| face.url_for_validation("face_image"))
            .collect(),
        index,
        webhook: None,
    };
    core.validate().map_err(ClientError::invalid)?;

    let mut checks = vec![(&source, Kind::Image, "sourceImage".to_owned())];
    checks.extend(
        faces
            .iter()
            .enumerate()
            .map(|(i, f)| (f, Kind::Image, faceswap_core::text!("faceImage[", i, "]"))),
    );
    check_blobs(&checks).await?;

    // With a Blob among the images, the provider's own file form ("Method2"): files
    // `source_image` and one `face_image` per face (URL strings as text parts), `index` one
    // text part per entry. All URLs: its JSON body.
    let all: Vec<&Source> = std::iter::once(&source).chain(faces.iter()).collect();
    if any_blob(&all) {
        let form = FormData::new().map_err(|_| ClientError::network("FormData unavailable"))?;
        for (name, input, field) in
            std::iter::once(("source_image", &source, "sourceImage".to_owned())).chain(
                faces.iter().enumerate().map(|(i, face)| {
                    (
                        "face_image",
                        face,
                        faceswap_core::text!("faceImage[", i, "]"),
                    )
                }),
            )
        {
            let media = match input {
                Source::Blob(blob) => Some(check_blob(blob, Kind::Image, &field).await?),
                Source::Url(_) => None,
            };
            append_to_form(&form, name, input, media)?;
        }
        for i in &core.index {
            form.append_with_str("index", &faceswap_core::text!(i))
                .map_err(|_| {
                    ClientError::invalid_field("index", "index cannot be added to the form")
                })?;
        }
        let data = submit_form(client, Operation::MultiFaceSwap, form, &options).await?;
        return task_created(&data);
    }
    let index: js_sys::Array = core
        .index
        .iter()
        .map(|&i| JsValue::from_f64(i as f64))
        .collect();
    let fields = [
        ("source_image", core.source_image.as_str().into()),
        ("face_image", string_array(&core.face_image)),
        ("index", index.into()),
    ];
    let data = submit_json(client, Operation::MultiFaceSwap, &fields, &options).await?;
    task_created(&data)
}

/// `extractBase64Face({ base64Img })`: face boxes of a base64 image (a `data:` prefix is fine).
pub async fn extract_base64_face(
    client: &ProviderClient,
    request: &JsValue,
    options: &JsValue,
) -> Result<JsValue, ClientError> {
    let request = js::request_object(request, "extractBase64Face")?;
    let options = CallOptions::read(options)?;
    let mut core = ExtractBase64FaceRequest {
        base64_img: js::string_field(&request, "base64Img")?,
    };
    core.validate().map_err(ClientError::invalid)?;
    let fields = [("base64_img", core.base64_img.as_str().into())];
    let data = submit_json(client, Operation::ExtractBase64Face, &fields, &options).await?;
    let result = Object::new();
    js::set(&result, "pos", &js::get(&data, "pos"));
    Ok(result.into())
}

/// Reads `field` as an array of whole numbers; a fraction or a non-number names its entry.
fn integer_list(object: &JsValue, field: &str) -> Result<Vec<i64>, ClientError> {
    // A loop rather than collecting into a `Result`: each such `collect` adds an iterator adapter
    // to the wasm.
    let mut list = Vec::new();
    for (i, value) in js::array_field(object, field)?.iter().enumerate() {
        match value.as_f64() {
            Some(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => list.push(n as i64),
            _ => {
                return Err(ClientError::invalid_field(
                    field,
                    faceswap_core::text!(
                        field,
                        "[",
                        i,
                        "] must be a whole number (a face index from extractFace)"
                    ),
                ))
            }
        }
    }
    Ok(list)
}
