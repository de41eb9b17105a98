//! PiAPI behind the provider seam: one route `v1/task` for the three operations (the body's
//! model and task_type tell them apart), key in `x-api-key`, results by webhook with a per-task
//! secret and by polling Get Task.

use alloc::{borrow::ToOwned, format, string::String, string::ToString, vec::Vec};

use super::{
    Operation, Request, Task, TaskEnvelope, TaskError, WebhookBody, PROVIDER, SERVICE_MODE,
};
use crate::provider::{
    Adapter, AdapterSettings, BuildError, CallbackHeaders, CallbackTarget, Catalog, Cost, CostUnit,
    FaultKind, FieldNames, FormInput, LimitedImage, OperationSpec, Prepared, PriceInputs,
    ProviderFault, ProviderInfo, ProviderOperation, SubmitOutcome, SwapFaceSpec, TaskUpdate,
    UpstreamRequest, VideoInput,
};
use crate::task::is_safe_task_id;
use crate::FieldError;

/// The PiAPI adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct PiApi;

/// The browser-facing route of every operation, under `/api/piapi/`.
pub const ROUTE: &str = "v1/task";

const fn spec(name: &'static str, js_name: &'static str) -> OperationSpec {
    OperationSpec {
        name,
        js_name,
        route: ROUTE,
        starts_task: true,
        file_fields: &[],
        form_text_fields: &[],
        repeated_fields: &[],
        accepts_json: true,
        fields: &[],
    }
}

/// The three operations, in [`Operation::ALL`] order.
pub static OPERATIONS: [OperationSpec; 3] = [
    spec("face-swap", "faceSwap"),
    spec("multi-face-swap", "multiFaceSwap"),
    spec("video-face-swap", "videoFaceSwap"),
];

/// PiAPI in the catalog: its inputs are wrapped in `input`.
pub static CATALOG: Catalog = Catalog {
    info: &PROVIDER,
    operations: &OPERATIONS,
    price: catalog_price,
    field_names: FieldNames {
        wrapper: Some("input"),
        run_together: &[],
    },
    swap_face: SwapFaceSpec {
        operation: "faceSwap",
        target: "targetImage",
        face: "swapImage",
    },
    client_class: "PiApiClient",
    check: None,
};

/// The catalog's price rule: [`super::price`] in US dollars.
fn catalog_price(operation: &OperationSpec, inputs: &PriceInputs) -> Result<Cost, FieldError> {
    let op = Operation::from_name(operation.name).ok_or_else(|| {
        FieldError::new(
            "operation",
            crate::text!("PiAPI has no operation ", operation.name),
        )
    })?;
    Ok(Cost::new(super::price(op, inputs.duration), CostUnit::Usd))
}

impl Operation {
    /// The operation's entry in the seam's table.
    pub fn spec(self) -> &'static OperationSpec {
        match self {
            Operation::FaceSwap => &OPERATIONS[0],
            Operation::MultiFaceSwap => &OPERATIONS[1],
            Operation::VideoFaceSwap => &OPERATIONS[2],
        }
    }
}

fn shape_error(operation: &'static str, reason: FieldError) -> BuildError {
    BuildError::Shape { operation, reason }
}

/// Words of PiAPI's messages that tell a refusal's kind, lower case.
const REFUSED_WORDS: &[&str] = &[
    "nsfw",
    "sensitive",
    "moderation",
    "inappropriate",
    "content policy",
    "prohibited",
];
const RATE_WORDS: &[&str] = &["rate limit", "too many requests"];
const ACCOUNT_WORDS: &[&str] = &[
    "insufficient",
    "balance",
    "credit",
    "quota",
    "api key",
    "apikey",
    "unauthorized",
];
const INPUT_WORDS: &[&str] = &[
    "face",
    "format",
    "invalid",
    "parameter",
    "resolution",
    "frame",
];

/// A PiAPI refusal as a fault: `status` is the HTTP status or the envelope's `code`; the task's
/// `error` and the envelope's `message` tell the kind. PiAPI's own code (the task error's, else
/// the envelope's) is kept.
fn fault(status: i64, error: Option<&TaskError>, message: Option<&str>) -> ProviderFault {
    let text = error
        .and_then(TaskError::text)
        .or_else(|| message.map(|m| m.trim().chars().take(200).collect::<String>()))
        .filter(|t| !t.is_empty());
    let lower = text.as_deref().unwrap_or_default().to_ascii_lowercase();
    let mentions = |words: &[&str]| words.iter().any(|word| lower.contains(word));
    let kind = if mentions(REFUSED_WORDS) {
        FaultKind::Refused
    } else if status == 429 || mentions(RATE_WORDS) {
        FaultKind::RateLimited
    } else if matches!(status, 401..=403) || mentions(ACCOUNT_WORDS) {
        FaultKind::Upstream
    } else if matches!(status, 400 | 404 | 413 | 415 | 422) || mentions(INPUT_WORDS) {
        FaultKind::InvalidInput
    } else {
        FaultKind::Upstream
    };
    let what = match kind {
        FaultKind::InvalidInput => "PiAPI refused the input",
        FaultKind::Refused => "PiAPI refused the content",
        FaultKind::Unavailable => "PiAPI is unavailable; try again later",
        FaultKind::RateLimited => "PiAPI is rate limiting requests; try again later",
        FaultKind::Upstream if matches!(status, 401 | 403) => {
            "PiAPI refused the proxy's credentials"
        }
        FaultKind::Upstream => "PiAPI refused the request",
    };
    let message = match &text {
        Some(text) => format!("{what}: {text}"),
        None => format!("{what} (code {status})"),
    };
    let code = error
        .and_then(TaskError::code_text)
        .unwrap_or_else(|| status.to_string());
    ProviderFault::new(kind, message).with_provider_code(code)
}

/// Reads a Create Task or Get Task answer's envelope; a `code` other than 200 is a fault.
fn read_envelope(body: &[u8]) -> Result<Task, ProviderFault> {
    let envelope = serde_json::from_slice::<TaskEnvelope>(body).map_err(|_| {
        ProviderFault::malformed("PiAPI answered with something other than its task envelope")
    })?;
    match envelope.code {
        Some(200) | None => {}
        Some(code) => {
            let error = envelope.data.as_ref().and_then(|task| task.error.as_ref());
            return Err(fault(code, error, envelope.message.as_deref()));
        }
    }
    envelope
        .data
        .ok_or_else(|| ProviderFault::malformed("PiAPI's answer has no data"))
}

impl Adapter for PiApi {
    fn info(&self) -> &'static ProviderInfo {
        CATALOG.info
    }

    fn operations(&self) -> &'static [OperationSpec] {
        CATALOG.operations
    }

    fn price(&self, operation: &OperationSpec, inputs: &PriceInputs) -> Cost {
        CATALOG
            .price_of(operation, inputs)
            .unwrap_or(Cost::new(0.0, CostUnit::Usd))
    }

    fn prepare_json(&self, route: &str, body: &[u8]) -> Result<Prepared, FieldError> {
        if route != ROUTE {
            return Err(FieldError::new(
                "operation",
                format!("no operation at {route:?}"),
            ));
        }
        let request = Request::from_json(body)?;
        let value = request
            .to_value()
            .map_err(|e| FieldError::new("body", format!("the request cannot be read: {e}")))?;
        Ok(Prepared {
            operation: request.operation().spec(),
            request: value,
            cost: Cost::new(request.price(), CostUnit::Usd),
            multipart: false,
        })
    }

    fn prepare_form(&self, _route: &str, _form: &FormInput) -> Result<Prepared, FieldError> {
        Err(FieldError::new(
            "body",
            "PiAPI takes a JSON body, not a multipart form",
        ))
    }

    fn limited_images(&self, prepared: &Prepared) -> Vec<LimitedImage> {
        let Ok(request) = Request::from_value(&prepared.request) else {
            return Vec::new();
        };
        request
            .image_urls()
            .into_iter()
            .map(|(field, url)| LimitedImage {
                field,
                url: url.to_owned(),
                max: super::MAX_IMAGE,
            })
            .collect()
    }

    fn video_input(&self, prepared: &Prepared) -> Option<VideoInput> {
        match Request::from_value(&prepared.request).ok()? {
            Request::VideoFaceSwap { input, duration } => Some(VideoInput {
                url: input.target_video,
                declared: duration,
            }),
            _ => None,
        }
    }

    fn with_duration(&self, prepared: &Prepared, seconds: f64) -> Result<Prepared, FieldError> {
        // PiAPI's own page has no duration: this one only prices the task and is not sent.
        let mut value = prepared.request.clone();
        if let Some(object) = value.as_object_mut() {
            object.insert("duration".to_owned(), serde_json::json!(seconds));
        }
        let request = Request::from_value(&value)?;
        Ok(Prepared {
            operation: request.operation().spec(),
            request: request
                .to_value()
                .map_err(|e| FieldError::new("body", format!("the request cannot be read: {e}")))?,
            cost: Cost::new(request.price(), CostUnit::Usd),
            multipart: false,
        })
    }

    fn upstream_request(
        &self,
        prepared: &Prepared,
        callback: Option<&CallbackTarget>,
        settings: &AdapterSettings,
    ) -> Result<UpstreamRequest, BuildError> {
        let name = prepared.operation.name;
        let request =
            Request::from_value(&prepared.request).map_err(|reason| shape_error(name, reason))?;
        if request.name() != name {
            return Err(shape_error(
                name,
                FieldError::new("task_type", "the request is of another operation"),
            ));
        }
        let webhook = callback.map(|target| (target.url.as_str(), target.secret.as_deref()));
        let json = request.to_upstream_json(webhook, settings.get(SERVICE_MODE.name))?;
        Ok(UpstreamRequest::post_json(super::SUBMIT_PATH, json))
    }

    fn read_submit(
        &self,
        _prepared: &Prepared,
        body: &[u8],
    ) -> Result<SubmitOutcome, ProviderFault> {
        let task = read_envelope(body)?;
        if !is_safe_task_id(&task.task_id) {
            return Err(ProviderFault::malformed(
                "PiAPI's answer has no usable data.task_id",
            ));
        }
        let update = task
            .update()
            .map_err(|err| ProviderFault::malformed(format!("PiAPI's answer: {}", err.message)))?;
        Ok(if update.is_terminal() {
            SubmitOutcome::Finished {
                task_id: task.task_id,
                update,
            }
        } else {
            SubmitOutcome::Started {
                task_id: task.task_id,
                points: None,
            }
        })
    }

    fn read_error(&self, status: u16, body: &[u8]) -> ProviderFault {
        let envelope = serde_json::from_slice::<TaskEnvelope>(body).ok();
        let error = envelope
            .as_ref()
            .and_then(|e| e.data.as_ref())
            .and_then(|task| task.error.as_ref());
        let message = envelope.as_ref().and_then(|e| e.message.as_deref());
        fault(i64::from(status), error, message)
    }

    /// Removes `data.config` (and any top-level `config`): PiAPI echoes the webhook secret there.
    fn browser_answer(&self, body: &[u8]) -> Vec<u8> {
        // Only reached after `read_submit` accepted the body as JSON; anything else is not
        // passed on, so nothing unread reaches the browser.
        let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body) else {
            return b"{}".to_vec();
        };
        if let Some(object) = value.as_object_mut() {
            object.remove("config");
            if let Some(data) = object.get_mut("data").and_then(|d| d.as_object_mut()) {
                data.remove("config");
            }
        }
        serde_json::to_vec(&value).unwrap_or_else(|_| b"{}".to_vec())
    }

    fn read_callback(
        &self,
        body: &[u8],
        _headers: CallbackHeaders<'_>,
    ) -> Result<TaskUpdate, FieldError> {
        WebhookBody::from_json(body)?.data.update()
    }

    fn poll_request(&self, task_id: &str) -> Option<UpstreamRequest> {
        is_safe_task_id(task_id)
            .then(|| UpstreamRequest::get(format!("{}/{task_id}", super::SUBMIT_PATH)))
    }

    fn read_poll(&self, task_id: &str, body: &[u8]) -> Result<TaskUpdate, ProviderFault> {
        let task = read_envelope(body)?;
        if task.task_id != task_id {
            return Err(ProviderFault::malformed(
                "PiAPI answered about another task",
            ));
        }
        task.update()
            .map_err(|err| ProviderFault::malformed(format!("PiAPI's answer: {}", err.message)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{UpstreamBody, UpstreamMethod};
    use crate::TaskStatus;
    use serde_json::{json, Value};

    fn prepare(body: Value) -> Prepared {
        PiApi
            .prepare_json(ROUTE, &serde_json::to_vec(&body).unwrap())
            .unwrap()
    }

    fn face_swap() -> Prepared {
        prepare(
            json!({"model": "Qubico/image-toolkit", "task_type": "face-swap",
            "input": {"target_image": "https://a.example/t.jpg", "swap_image": "https://a.example/s.webp"},
            "config": {"webhook_config": {"endpoint": "https://evil.example/", "secret": "browser"}, "service_mode": "private"}}),
        )
    }

    /// A task as PiAPI documents it, with the echoed config.
    fn task(status: &str) -> Value {
        json!({"task_id": "0f8e-42", "model": "Qubico/image-toolkit", "task_type": "face-swap",
            "status": status, "config": {"service_mode": "public", "webhook_config": {"endpoint": "https://p/hooks/piapi/t", "secret": "s3cr3t"}},
            "input": {}, "output": {"image_url": "https://img.theapi.app/r.png"}, "meta": {}, "detail": null, "logs": [],
            "error": {"code": 0, "raw_message": "", "message": ""}})
    }

    #[test]
    fn the_table_names_three_operations_on_one_route() {
        for &op in Operation::ALL {
            assert_eq!(op.spec().name, op.name());
            assert_eq!(PiApi.operation_named(op.spec().js_name), Some(op.spec()));
        }
        assert!(PiApi.serves_route("v1/task"));
        assert!(PiApi.prepare_json("v1/other", b"{}").is_err());
        assert_eq!(
            PiApi
                .prepare_form(ROUTE, &FormInput::default())
                .unwrap_err()
                .field,
            "body"
        );
    }

    #[test]
    fn prices_are_dollars() {
        assert_eq!(face_swap().cost, Cost::new(0.01, CostUnit::Usd));
        let multi = prepare(
            json!({"model": "Qubico/image-toolkit", "task_type": "multi-face-swap",
            "input": {"target_image": "https://a.example/t.png", "swap_image": "https://a.example/s.png",
                "swap_faces_index": "0,1", "target_faces_index": "1,0"}}),
        );
        assert_eq!(multi.cost, Cost::new(0.015, CostUnit::Usd));
        let video = prepare(
            json!({"model": "Qubico/video-toolkit", "task_type": "face-swap", "duration": 3,
            "input": {"target_video": "https://a.example/v.mp4", "swap_image": "https://a.example/s.png"}}),
        );
        assert_eq!(video.operation.name, "video-face-swap");
        assert_eq!(video.cost, Cost::new(0.03, CostUnit::Usd));
        let inputs = PriceInputs {
            duration: Some(3.0),
            ..PriceInputs::default()
        };
        assert_eq!(PiApi.price(video.operation, &inputs), video.cost);
        assert_eq!(
            PiApi.price(&OPERATIONS[2], &PriceInputs::default()),
            Cost::new(0.01, CostUnit::Usd)
        );
    }

    #[test]
    fn the_upstream_request_carries_the_proxys_config_only() {
        let callback = CallbackTarget {
            url: "https://proxy.example/hooks/piapi/tok".into(),
            secret: Some("fresh-secret".into()),
        };
        let settings = AdapterSettings::new().with("service_mode", "public");
        let request = PiApi
            .upstream_request(&face_swap(), Some(&callback), &settings)
            .unwrap();
        assert_eq!(
            (request.method, request.path.as_str()),
            (UpstreamMethod::Post, "api/v1/task")
        );
        let UpstreamBody::Json(json) = request.body else {
            panic!("JSON")
        };
        let json: Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            json,
            json!({"model": "Qubico/image-toolkit", "task_type": "face-swap",
                "input": {"target_image": "https://a.example/t.jpg", "swap_image": "https://a.example/s.webp"},
                "config": {"webhook_config": {"endpoint": "https://proxy.example/hooks/piapi/tok", "secret": "fresh-secret"},
                    "service_mode": "public"}})
        );
        let unset = PiApi
            .upstream_request(&face_swap(), None, &AdapterSettings::new())
            .unwrap();
        let UpstreamBody::Json(json) = unset.body else {
            panic!("JSON")
        };
        let json: Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(json.get("config"), None, "no browser config, no mode");
    }

    #[test]
    fn answers_read_as_outcomes_and_the_config_never_reaches_the_browser() {
        let answer = serde_json::to_vec(
            &json!({"code": 200, "data": task("pending"), "message": "success"}),
        )
        .unwrap();
        assert_eq!(
            PiApi.read_submit(&face_swap(), &answer).unwrap(),
            SubmitOutcome::Started {
                task_id: "0f8e-42".into(),
                points: None
            }
        );
        let shown = PiApi.browser_answer(&answer);
        let text = String::from_utf8(shown).unwrap();
        assert!(
            !text.contains("s3cr3t") && !text.contains("webhook_config"),
            "{text}"
        );
        assert!(text.contains("0f8e-42"));
        let done = serde_json::to_vec(
            &json!({"code": 200, "data": task("Completed"), "message": "success"}),
        )
        .unwrap();
        assert!(matches!(
            PiApi.read_submit(&face_swap(), &done).unwrap(),
            SubmitOutcome::Finished { .. }
        ));
        let mut odd = task("pending");
        odd["task_id"] = json!("../x");
        let odd = serde_json::to_vec(&json!({"code": 200, "data": odd})).unwrap();
        assert!(PiApi.read_submit(&face_swap(), &odd).is_err());

        let hook = serde_json::to_vec(&json!({"timestamp": 1723018391, "data": task("completed")}))
            .unwrap();
        let update = PiApi.read_callback(&hook, &[]).unwrap();
        assert_eq!(update.status, TaskStatus::Succeeded);
        assert_eq!(
            update.result_url.as_deref(),
            Some("https://img.theapi.app/r.png")
        );
        let mut video = task("COMPLETED");
        video["output"] = json!({"video_url": "https://img.theapi.app/r.mp4"});
        let polled =
            serde_json::to_vec(&json!({"code": 200, "data": video, "message": "success"})).unwrap();
        assert_eq!(
            PiApi.poll_request("0f8e-42"),
            Some(UpstreamRequest::get("api/v1/task/0f8e-42"))
        );
        assert_eq!(
            PiApi
                .read_poll("0f8e-42", &polled)
                .unwrap()
                .result_url
                .as_deref(),
            Some("https://img.theapi.app/r.mp4")
        );
        assert!(PiApi.read_poll("other", &polled).is_err());
        assert_eq!(PiApi.poll_request("../x"), None);
    }

    #[test]
    fn refusals_keep_their_meaning_and_piapis_code() {
        let body = |code: i64, error_code: i64, message: &str| {
            serde_json::to_vec(&json!({"code": code, "data": {"task_id": "", "status": "failed",
                "error": {"code": error_code, "raw_message": message, "message": message}}, "message": message}))
                .unwrap()
        };
        let face = PiApi.read_error(400, &body(400, 10000, "no face detected in swap_image"));
        assert_eq!(face.kind, FaultKind::InvalidInput);
        assert_eq!(face.provider_code.as_deref(), Some("10000"));
        assert!(
            face.message.contains("no face detected"),
            "{}",
            face.message
        );
        assert_eq!(
            PiApi
                .read_error(400, &body(400, 10001, "image flagged as NSFW"))
                .kind,
            FaultKind::Refused
        );
        assert_eq!(
            PiApi
                .read_error(401, br#"{"code":401,"message":"Invalid API key"}"#)
                .kind,
            FaultKind::Upstream
        );
        assert_eq!(
            PiApi
                .read_error(402, br#"{"code":402,"message":"insufficient balance"}"#)
                .provider_code
                .as_deref(),
            Some("402")
        );
        assert_eq!(
            PiApi
                .read_error(400, br#"{"code":400,"message":"insufficient credits"}"#)
                .kind,
            FaultKind::Upstream
        );
        assert_eq!(
            PiApi
                .read_error(400, br#"{"code":400,"message":"rate limit exceeded"}"#)
                .kind,
            FaultKind::RateLimited
        );
        let in_envelope = PiApi
            .read_submit(&face_swap(), &body(500, 10002, "unsupported image format"))
            .unwrap_err();
        assert_eq!(in_envelope.kind, FaultKind::InvalidInput);
        assert_eq!(in_envelope.provider_code.as_deref(), Some("10002"));
        assert!(PiApi.read_submit(&face_swap(), b"<html>").is_err());
    }
}
