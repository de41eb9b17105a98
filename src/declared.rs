//! The generic client of a provider whose catalog entry declares its operations' fields
//! ([`OperationSpec::fields`]) and their check ([`Catalog::check`]): every operation is read,
//! checked, uploaded and sent by this one function, with no code of the provider's own.
//!
//! Each declared field is read from the JS request under its camelCase name
//! (`target_image_url` is `targetImageUrl`): an image or video as a URL or a Blob (checked by its
//! magic bytes, then standing in as [`file_stand_in`] for the check), a number, or text. The
//! catalog's check then judges the values by the rules the proxy judges the body with, before
//! anything is uploaded; Blobs are uploaded through the proxy, and the body is POSTed with the
//! provider's field names. Resolves `{ taskId }`.

use alloc::{boxed::Box, vec::Vec};

use faceswap_core::provider::form::file_stand_in;
use faceswap_core::provider::{Catalog, FieldKind, FieldValue, FieldValues, OperationSpec};
use js_sys::Object;
use wasm_bindgen::JsValue;

use crate::drive::Pending;
use crate::error::{camel_case_path, ClientError};
use crate::js;
use crate::media::{check_blob, resolve_url, source_value, Kind, Source};
use crate::provider_client::{task_created, CallOptions, ProviderClient};

/// Runs `operation` of `entry` (a provider with a [`Catalog::check`]) with `request` and
/// `options`.
pub fn submit(
    entry: &'static Catalog,
    client: ProviderClient,
    operation: &'static OperationSpec,
    request: JsValue,
    options: JsValue,
) -> Pending {
    Box::pin(async move {
        let check = entry
            .check
            .ok_or_else(|| ClientError::internal("the provider declares no check of its fields"))?;
        let request = js::request_object(&request, operation.js_name)?;
        let options = CallOptions::read(&options)?;
        let mut values = FieldValues::default();
        let mut blobs = Vec::new();
        for (index, spec) in operation.fields.iter().enumerate() {
            let field = camel_case_path(spec.wire);
            let value = js::get(&request, &field);
            if js::is_absent(&value) {
                if spec.required {
                    return Err(ClientError::invalid_field(
                        &field,
                        faceswap_core::text!(field, " is required"),
                    ));
                }
                continue;
            }
            let read = match spec.kind {
                FieldKind::Image | FieldKind::Video => match source_value(value, &field)? {
                    Source::Url(url) => FieldValue::Text(url),
                    Source::Blob(blob) => {
                        let kind = if spec.kind == FieldKind::Video {
                            Kind::Video
                        } else {
                            Kind::Image
                        };
                        check_blob(&blob, kind, &field).await?;
                        blobs.push((index, blob));
                        FieldValue::Text(file_stand_in(spec.wire))
                    }
                },
                // A value of another type is left to the check, which names the field by its
                // own rule.
                FieldKind::Number => FieldValue::Number(value.as_f64().unwrap_or(f64::NAN)),
                FieldKind::Text => FieldValue::Text(value.as_string().ok_or_else(|| {
                    ClientError::invalid_field(
                        &field,
                        faceswap_core::text!(field, " must be a string"),
                    )
                })?),
            };
            values.values.push((spec.wire, read));
        }
        check(operation, &values).map_err(ClientError::invalid)?;

        let body = Object::new();
        for (wire, value) in &values.values {
            let value = match value {
                FieldValue::Text(text) => JsValue::from_str(text),
                FieldValue::Number(number) => JsValue::from_f64(*number),
            };
            js::set(&body, wire, &value);
        }
        for (index, blob) in blobs {
            let url = resolve_url(&client, &Source::Blob(blob), options.signal.as_ref()).await?;
            js::set(
                &body,
                operation.fields[index].wire,
                &JsValue::from_str(&url),
            );
        }
        let answer = client.submit_body(operation, body, &options).await?;
        task_created(&answer)
    })
}
