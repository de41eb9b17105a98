//! aifaceswap behind the provider seam: routes `v1/{op}`, Bearer key, results by webhook only.

use super::{Envelope, Operation, Request, TaskCreated, WebhookCallback, PROVIDER};
use crate::provider::form::{file_stand_in, repeated_key, stand_in_field};
use crate::provider::{
    Adapter, AdapterSettings, BuildError, CallbackHeaders, CallbackTarget, Catalog, Cost,
    FaultKind, FieldNames, FormInput, FormValue, OperationSpec, Part, PartValue, Prepared,
    PriceInputs, ProviderFault, ProviderInfo, ProviderOperation, SubmitOutcome, SwapFaceSpec,
    TaskUpdate, UpstreamRequest, VideoInput,
};
use crate::FieldError;
use alloc::{borrow::ToOwned, format, string::String, string::ToString, vec, vec::Vec};

/// The aifaceswap adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Aifaceswap;

const fn spec(
    name: &'static str,
    js_name: &'static str,
    route: &'static str,
    starts_task: bool,
    file_fields: &'static [&'static str],
) -> OperationSpec {
    OperationSpec {
        name,
        js_name,
        route,
        starts_task,
        file_fields,
        form_text_fields: &[],
        repeated_fields: &[],
        accepts_json: true,
        fields: &[],
    }
}

/// The six operations, in [`Operation::ALL`] order.
pub static OPERATIONS: [OperationSpec; 6] = [
    spec(
        "faceswap",
        "faceSwap",
        "v1/faceswap",
        true,
        &["source_image", "face_image"],
    ),
    spec(
        "extract_face",
        "extractFace",
        "v1/extract_face",
        false,
        &["img"],
    ),
    // The first page's "Method2": files `source_image` and one `face_image` per face, and
    // `index` as one text part per entry (as Python's `requests` sends a list in `data`).
    OperationSpec {
        form_text_fields: &["index"],
        repeated_fields: &["face_image", "index"],
        ..spec(
            "multi_faceswap",
            "multiFaceSwap",
            "v1/multi_faceswap",
            true,
            &["source_image", "face_image"],
        )
    },
    spec(
        "video_faceswap",
        "videoFaceSwap",
        "v1/video_faceswap",
        true,
        &[],
    ),
    spec(
        "extract_base64_face",
        "extractBase64Face",
        "v1/extract_base64_face",
        false,
        &[],
    ),
    spec(
        "multi_video_faceswap",
        "multiVideoFaceSwap",
        "v1/multi_video_faceswap",
        true,
        &[],
    ),
];

/// aifaceswap in the catalog.
pub static CATALOG: Catalog = Catalog {
    info: &PROVIDER,
    operations: &OPERATIONS,
    price: super::credits::price,
    field_names: FieldNames::SNAKE_CASE,
    swap_face: SwapFaceSpec {
        operation: "faceSwap",
        target: "sourceImage",
        face: "faceImage",
    },
    client_class: "FaceSwapClient",
    check: None,
};

impl Operation {
    /// The operation's entry in the seam's table.
    pub fn spec(self) -> &'static OperationSpec {
        let index = Operation::ALL
            .iter()
            .position(|op| *op == self)
            .unwrap_or_default();
        &OPERATIONS[index]
    }

    /// The operation a seam entry describes.
    pub fn of_spec(spec: &OperationSpec) -> Option<Self> {
        Operation::from_name(spec.name)
    }
}

fn operation_of_route(route: &str) -> Result<Operation, FieldError> {
    route
        .strip_prefix("v1/")
        .and_then(Operation::from_name)
        .ok_or_else(|| FieldError::new("operation", format!("no operation at {route:?}")))
}

fn prepared(request: &Request, multipart: bool) -> Result<Prepared, FieldError> {
    let value = request
        .to_value()
        .map_err(|e| FieldError::new("body", format!("the request cannot be read: {e}")))?;
    Ok(Prepared {
        operation: request.operation().spec(),
        request: value,
        cost: Cost::credits(request.credits()),
        multipart,
    })
}

impl Adapter for Aifaceswap {
    fn info(&self) -> &'static ProviderInfo {
        CATALOG.info
    }

    fn operations(&self) -> &'static [OperationSpec] {
        CATALOG.operations
    }

    fn price(&self, operation: &OperationSpec, inputs: &PriceInputs) -> Cost {
        CATALOG
            .price_of(operation, inputs)
            .unwrap_or(Cost::credits(0))
    }

    fn prepare_json(&self, route: &str, body: &[u8]) -> Result<Prepared, FieldError> {
        let op = operation_of_route(route)?;
        prepared(&Request::from_json(op, body)?, false)
    }

    fn prepare_form(&self, route: &str, form: &FormInput) -> Result<Prepared, FieldError> {
        let op = operation_of_route(route)?;
        if !op.accepts_files() {
            return Err(FieldError::new(
                "body",
                format!("{} takes a JSON body, not a multipart form", op.name()),
            ));
        }
        let value = match op {
            Operation::MultiFaceSwap => multi_form_value(form)?,
            _ => serde_json::Value::Object(form.to_json_object()),
        };
        prepared(&Request::from_value(op, &value)?, true)
    }

    fn upstream_request(
        &self,
        prepared: &Prepared,
        callback: Option<&CallbackTarget>,
        _settings: &AdapterSettings,
    ) -> Result<UpstreamRequest, BuildError> {
        let spec = prepared.operation;
        let op = Operation::of_spec(spec).ok_or(BuildError::Shape {
            operation: spec.name,
            reason: FieldError::new("operation", "not an aifaceswap operation"),
        })?;
        let mut request =
            Request::from_value(op, &prepared.request).map_err(|reason| BuildError::Shape {
                operation: spec.name,
                reason,
            })?;
        let webhook = callback.map(|target| target.url.clone());
        if !prepared.multipart {
            // The browser's webhook is replaced by the proxy's (or removed).
            request.set_webhook(webhook);
            return Ok(UpstreamRequest::post_json(
                op.upstream_path(),
                request.to_json()?,
            ));
        }
        // Each file field once, or once per entry of a list (multi_faceswap's `face_image`);
        // then the text fields, a list as one part per entry (`index`).
        let mut parts: Vec<Part> = Vec::new();
        for &field in spec.file_fields {
            for value in entries(prepared.request.get(field)) {
                let Some(value) = value.as_str() else {
                    continue;
                };
                let value = match stand_in_field(value) {
                    Some(file) => PartValue::File(file.to_owned()),
                    None => PartValue::Text(value.to_owned()),
                };
                parts.push(Part {
                    name: field.to_owned(),
                    value,
                });
            }
        }
        for &field in spec.form_text_fields {
            for value in entries(prepared.request.get(field)) {
                let text = match value {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                parts.push(Part {
                    name: field.to_owned(),
                    value: PartValue::Text(text),
                });
            }
        }
        if let Some(url) = webhook {
            parts.push(Part {
                name: "webhook".to_owned(),
                value: PartValue::Text(url),
            });
        }
        Ok(UpstreamRequest::post_form(op.upstream_path(), parts))
    }

    fn read_submit(
        &self,
        prepared: &Prepared,
        body: &[u8],
    ) -> Result<SubmitOutcome, ProviderFault> {
        let code = serde_json::from_slice::<EnvelopeCode>(body).map_err(|_| {
            ProviderFault::malformed("the provider answered with something other than JSON")
        })?;
        match code.code {
            Some(200) | None => {}
            Some(429) => {
                return Err(ProviderFault::new(
                    FaultKind::RateLimited,
                    "the provider is rate limiting requests; try again later",
                ))
            }
            Some(code) => {
                let status = u16::try_from(code).unwrap_or(0);
                let mut fault = self.read_error(status, body);
                fault.provider_code = Some(code.to_string());
                return Err(fault);
            }
        }
        if !prepared.operation.starts_task {
            return Ok(SubmitOutcome::Immediate);
        }
        let created = serde_json::from_slice::<Envelope<TaskCreated>>(body)
            .ok()
            .and_then(|envelope| envelope.data)
            .filter(|data| !data.task_id.trim().is_empty())
            .ok_or_else(|| ProviderFault::malformed("the provider's answer has no task_id"))?;
        Ok(SubmitOutcome::Started {
            task_id: created.task_id,
            points: Some(created.points),
        })
    }

    fn read_error(&self, status: u16, body: &[u8]) -> ProviderFault {
        let what = match status {
            401 | 403 => "the provider refused the proxy's credentials".to_owned(),
            _ => format!("the provider rejected the request (code {status})"),
        };
        let message = match provider_message(body) {
            Some(message) => format!("{what}: {message}"),
            None => what,
        };
        ProviderFault::new(FaultKind::Upstream, message)
    }

    fn video_input(&self, prepared: &Prepared) -> Option<VideoInput> {
        let op = Operation::of_spec(prepared.operation)?;
        if !matches!(op, Operation::VideoFaceSwap | Operation::MultiVideoFaceSwap) {
            return None;
        }
        Some(VideoInput {
            url: prepared.request.get("source_video")?.as_str()?.to_owned(),
            declared: prepared.request.get("duration").and_then(|d| d.as_f64()),
        })
    }

    fn with_duration(&self, prepared: &Prepared, seconds: f64) -> Result<Prepared, FieldError> {
        let Some(op) = Operation::of_spec(prepared.operation) else {
            return Ok(prepared.clone());
        };
        let mut value = prepared.request.clone();
        if let Some(object) = value.as_object_mut() {
            object.insert("duration".to_owned(), serde_json::json!(seconds));
        }
        self::prepared(&Request::from_value(op, &value)?, prepared.multipart)
    }

    fn read_callback(
        &self,
        body: &[u8],
        _headers: CallbackHeaders<'_>,
    ) -> Result<TaskUpdate, FieldError> {
        let callback = WebhookCallback::from_json(body)?;
        let mut update = if callback.success {
            TaskUpdate::succeeded(
                Some(callback.task_id),
                callback.result_image.unwrap_or_default(),
            )
        } else {
            TaskUpdate::failed(Some(callback.task_id), None)
        };
        update.kind = callback.kind;
        Ok(update)
    }
}

/// The values of a request field: the entries of a list, or the value itself.
fn entries(value: Option<&serde_json::Value>) -> Vec<&serde_json::Value> {
    match value {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(items)) => items.iter().collect(),
        Some(value) => vec![value],
    }
}

/// The JSON shape of a `multi_faceswap` form: `source_image` (a file's stand-in or a URL),
/// `face_image` as a list (the n-th file's stand-in is [`repeated_key`]'s `face_image[n]`), and
/// `index` as a list of numbers. The page sends one `index` part per entry; one part holding
/// `0,2` or `[0, 2]` is read too (the project's assumption).
fn multi_form_value(form: &FormInput) -> Result<serde_json::Value, FieldError> {
    let text_or_stand_in = |key: String, value: &FormValue| match value {
        FormValue::Text(text) => text.clone(),
        FormValue::File(_) => file_stand_in(&key),
    };
    let mut object = serde_json::Map::new();
    if let Some(source) = form.get("source_image") {
        object.insert(
            "source_image".into(),
            text_or_stand_in("source_image".into(), source).into(),
        );
    }
    let faces: Vec<serde_json::Value> = form
        .values("face_image")
        .enumerate()
        .map(|(n, value)| text_or_stand_in(repeated_key("face_image", n), value).into())
        .collect();
    object.insert("face_image".into(), faces.into());
    let mut index = Vec::new();
    for value in form.values("index") {
        let FormValue::Text(text) = value else {
            return Err(FieldError::new("index", "index must be text, not a file"));
        };
        let list = text.trim().trim_start_matches('[').trim_end_matches(']');
        for number in list.split(',').map(str::trim) {
            let number = number.parse::<i64>().map_err(|_| {
                FieldError::new(
                    "index",
                    format!(
                        "index must be whole numbers, one part per face image (got {number:?})"
                    ),
                )
            })?;
            index.push(serde_json::Value::from(number));
        }
    }
    object.insert("index".into(), index.into());
    // Read for the sandbox, which answers as the provider; the proxy sends its own.
    if let Some(FormValue::Text(webhook)) = form.get("webhook") {
        object.insert("webhook".into(), webhook.clone().into());
    }
    Ok(serde_json::Value::Object(object))
}

/// Only the envelope's `code`, read without building the whole JSON tree.
#[derive(serde::Deserialize)]
struct EnvelopeCode {
    #[serde(default)]
    code: Option<i64>,
}

/// The provider's `message`, shortened, where the body has one.
pub(crate) fn provider_message(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Message {
        message: String,
    }
    let message = serde_json::from_slice::<Message>(body).ok()?.message;
    let message: String = message.chars().take(200).collect();
    Some(message).filter(|m| !m.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::form::file_stand_in;
    use crate::provider::{FormValue, UpstreamBody};
    use crate::MediaType;

    #[test]
    fn the_table_follows_the_operations() {
        for &op in Operation::ALL {
            assert_eq!(op.spec().name, op.name());
            assert_eq!(op.spec().starts_task, op.starts_task());
            assert_eq!(op.spec().file_fields, op.file_fields());
            assert_eq!(Operation::of_spec(op.spec()), Some(op));
            assert!(Aifaceswap.serves_route(op.spec().route));
        }
        assert!(!Aifaceswap.serves_route("v2/faceswap"));
    }

    #[test]
    fn json_submits_get_the_proxys_webhook_and_a_price() {
        let prepared = Aifaceswap
            .prepare_json(
                "v1/video_faceswap",
                br#"{"source_video":"https://a.example/v.mp4","face_image":"https://a.example/f.jpg","duration":5,"enhance":1,"webhook":"https://evil.example/"}"#,
            )
            .unwrap();
        assert_eq!(prepared.cost, Cost::credits(20));
        let inputs = PriceInputs {
            duration: Some(5.0),
            enhance: Some(1),
            ..PriceInputs::default()
        };
        assert_eq!(Aifaceswap.price(prepared.operation, &inputs), prepared.cost);
        let callback = CallbackTarget {
            url: "https://proxy.example/hooks/aifaceswap/t".into(),
            secret: None,
        };
        let request = Aifaceswap
            .upstream_request(&prepared, Some(&callback), &AdapterSettings::new())
            .unwrap();
        assert_eq!(request.path, "api/aifaceswap/v1/video_faceswap");
        let UpstreamBody::Json(json) = request.body else {
            panic!("a JSON body")
        };
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(json["webhook"], "https://proxy.example/hooks/aifaceswap/t");
    }

    #[test]
    fn forms_send_files_as_parts_and_urls_as_text() {
        let form = FormInput {
            fields: vec![
                ("source_image".into(), FormValue::File(MediaType::Png)),
                (
                    "face_image".into(),
                    FormValue::Text("https://a.example/f.jpg".into()),
                ),
            ],
        };
        let prepared = Aifaceswap.prepare_form("v1/faceswap", &form).unwrap();
        assert_eq!(
            prepared.request["source_image"],
            file_stand_in("source_image")
        );
        let request = Aifaceswap
            .upstream_request(&prepared, None, &AdapterSettings::new())
            .unwrap();
        let UpstreamBody::Multipart(parts) = request.body else {
            panic!("a form")
        };
        assert_eq!(parts[0].value, PartValue::File("source_image".into()));
        assert_eq!(
            parts[1].value,
            PartValue::Text("https://a.example/f.jpg".into())
        );
        let missing = FormInput {
            fields: vec![("img".into(), FormValue::Text("nope".into()))],
        };
        assert_eq!(
            Aifaceswap
                .prepare_form("v1/extract_face", &missing)
                .unwrap_err()
                .field,
            "img"
        );
    }

    #[test]
    fn answers_read_as_outcomes_and_faults() {
        let prepared = Aifaceswap
            .prepare_json(
                "v1/faceswap",
                br#"{"source_image":"https://a.example/a.jpg","face_image":"https://a.example/f.jpg"}"#,
            )
            .unwrap();
        assert_eq!(
            Aifaceswap
                .read_submit(
                    &prepared,
                    br#"{"code":200,"data":{"task_id":"t1","points":2}}"#
                )
                .unwrap(),
            SubmitOutcome::Started {
                task_id: "t1".into(),
                points: Some(2)
            }
        );
        let fault = Aifaceswap
            .read_submit(&prepared, br#"{"code":10012,"message":"no face"}"#)
            .unwrap_err();
        assert_eq!(fault.provider_code.as_deref(), Some("10012"));
        assert!(fault.message.ends_with("no face"), "{}", fault.message);
        assert_eq!(
            Aifaceswap
                .read_submit(&prepared, br#"{"code":429}"#)
                .unwrap_err()
                .kind,
            FaultKind::RateLimited
        );
        let update = Aifaceswap
            .read_callback(
                br#"{"success":1,"type":1,"task_id":"t1","result_image":"https://r"}"#,
                &[],
            )
            .unwrap();
        assert_eq!(update.status, crate::TaskStatus::Succeeded);
        assert_eq!(update.kind, Some(1));
    }
}
