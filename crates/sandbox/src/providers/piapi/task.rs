//! PiAPI's requests in the engine's words, and the task object of its answers and webhooks.

use base64::Engine;
use faceswap_core::base64_image::{strip_data_prefix, BASE64};
use faceswap_core::piapi::{parse_faces_index, Operation, Request, SERVICE_MODE};
use faceswap_core::provider::form::file_stand_in;
use faceswap_core::url::check_http_url;
use faceswap_core::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::engine::fetch::{Source, Uploads};
use crate::engine::jobs::FacePair;
use crate::engine::tasks::Job;
use crate::state::{TaskRecord, TaskState};

/// PiAPI's error code of a failed task in the sandbox.
pub const FAILED_CODE: i64 = 10000;

/// `config.webhook_config` of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookConfig {
    /// Where the webhooks go.
    pub endpoint: String,
    /// Sent back in `x-webhook-secret`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// `config` of a request: what the sandbox reads of it (core drops it, being the caller's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// The webhook, if one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_config: Option<WebhookConfig>,
    /// `public` or `private`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_mode: Option<String>,
}

#[derive(Deserialize)]
struct WithConfig {
    #[serde(default)]
    config: Option<Config>,
}

impl Config {
    /// Reads `config` from a Create Task body that core has accepted; `service_mode` must be one
    /// of core's [`SERVICE_MODE`] values.
    pub fn from_json(body: &[u8]) -> Result<Self, FieldError> {
        let config = serde_json::from_slice::<WithConfig>(body)
            .map_err(|err| FieldError::new("config", format!("config is unreadable: {err}")))?
            .config
            .unwrap_or_default();
        if let Some(mode) = &config.service_mode {
            if !SERVICE_MODE.allowed.contains(&mode.as_str()) {
                return Err(FieldError::new(
                    "config.service_mode",
                    format!(
                        "config.service_mode must be {}",
                        SERVICE_MODE.allowed.join(" or ")
                    ),
                ));
            }
        }
        Ok(config)
    }
}

/// What the sandbox keeps of a task's request, to answer Get Task and write webhooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kept {
    /// `model`.
    pub model: String,
    /// `task_type`.
    pub task_type: String,
    /// True for the video toolkit (the result is `output.video_url`).
    pub video: bool,
    /// `input`, as core reads it.
    pub input: Value,
    /// `config`, echoed with its secret as PiAPI does.
    pub config: Config,
    /// Unix seconds of Create Task.
    pub created_at: u64,
}

impl Kept {
    /// What to keep of `request` and its `config`.
    pub fn new(request: &Request, config: Config, created_at: u64) -> Result<Self, FieldError> {
        let op = request.operation();
        let value = request
            .to_value()
            .map_err(|err| FieldError::new("input", format!("input is unreadable: {err}")))?;
        Ok(Self {
            model: op.model().to_owned(),
            task_type: op.task_type().to_owned(),
            video: op == Operation::VideoFaceSwap,
            input: value.get("input").cloned().unwrap_or(Value::Null),
            config,
            created_at,
        })
    }

    /// The task object with `status` as the word given (`pending`, `processing`, `Completed`,
    /// `failed`, ...): output once succeeded, error once failed.
    pub fn document(&self, record: &TaskRecord, status: &str) -> Value {
        let output = match (&record.status, &record.result_url) {
            (TaskState::Succeeded, Some(url)) if self.video => json!({ "video_url": url }),
            (TaskState::Succeeded, Some(url)) => json!({ "image_url": url }),
            _ => Value::Null,
        };
        let error = match record.status {
            TaskState::Failed => json!({
                "code": FAILED_CODE,
                "raw_message": record.error.clone().unwrap_or_default(),
                "message": "face swap failed",
            }),
            _ => json!({ "code": 0, "raw_message": "", "message": "" }),
        };
        json!({
            "task_id": record.task_id,
            "model": self.model,
            "task_type": self.task_type,
            "status": status,
            "config": self.config,
            "input": self.input,
            "output": output,
            "meta": { "created_at": self.created_at },
            "detail": Value::Null,
            "logs": [],
            "error": error,
        })
    }
}

/// The envelope of Create Task and Get Task around a task object.
pub fn envelope(task: Value) -> Value {
    json!({ "code": 200, "data": task, "message": "success" })
}

/// The status word of Get Task: `processing` while running, then `Completed` (capitalised, as
/// PiAPI sometimes writes it) or `failed`.
pub fn get_task_status(state: TaskState) -> &'static str {
    match state {
        TaskState::Pending => "processing",
        TaskState::Succeeded => "Completed",
        TaskState::Failed => "failed",
    }
}

/// The status word of a terminal webhook and of Create Task: `pending`, `completed`, `failed`.
pub fn webhook_status(state: TaskState) -> &'static str {
    match state {
        TaskState::Pending => "pending",
        TaskState::Succeeded => "completed",
        TaskState::Failed => "failed",
    }
}

/// An input field core accepted: a URL (checked by core's URL rule) becomes a [`Source`] to
/// fetch; base64 (with or without a `data:` prefix) is decoded into `uploads` under `field` and
/// stands in as [`file_stand_in`].
fn source(field: &str, value: &str, uploads: &mut Uploads) -> Result<Source, FieldError> {
    if check_http_url(field, value).is_ok() {
        return Ok(Source::new(field, value));
    }
    let bytes = BASE64
        .decode(strip_data_prefix(value))
        .map_err(|_| FieldError::new(field, format!("{field} is not valid base64")))?;
    uploads.insert(field, bytes.into());
    Ok(Source::new(field, file_stand_in(field)))
}

/// The pairs of `input.swap_faces_index` and `input.target_faces_index` (core has checked them).
fn pairs(swap: &str, target: &str) -> Result<Vec<FacePair>, FieldError> {
    let (swap_field, target_field) = ("input.swap_faces_index", "input.target_faces_index");
    let from = parse_faces_index(swap_field, swap)?;
    let at = parse_faces_index(target_field, target)?;
    let place = |field: &str, i: usize, n: u64| {
        usize::try_from(n).map_err(|_| FieldError::new(field, format!("{field}[{i}] is too large")))
    };
    from.iter()
        .zip(&at)
        .enumerate()
        .map(|(i, (&from, &at))| {
            Ok(FacePair {
                from_label: format!("{swap_field}[{i}]"),
                at_label: format!("{target_field}[{i}]"),
                from: place(swap_field, i, from)?,
                at: place(target_field, i, at)?,
            })
        })
        .collect()
}

/// The engine's job for a request, with the decoded base64 inputs.
pub fn job(request: &Request) -> Result<(Job, Uploads), FieldError> {
    let mut uploads = Uploads::default();
    let job = match request {
        Request::FaceSwap(input) => Job::LargestFaceSwap {
            source: source("input.target_image", &input.target_image, &mut uploads)?,
            face: source("input.swap_image", &input.swap_image, &mut uploads)?,
        },
        Request::MultiFaceSwap(input) => Job::PairedFaceSwap {
            source: source("input.target_image", &input.target_image, &mut uploads)?,
            face: source("input.swap_image", &input.swap_image, &mut uploads)?,
            pairs: pairs(&input.swap_faces_index, &input.target_faces_index)?,
        },
        Request::VideoFaceSwap { input, .. } => {
            let video = source("input.target_video", &input.target_video, &mut uploads)?;
            let face = source("input.swap_image", &input.swap_image, &mut uploads)?;
            match (&input.swap_faces_index, &input.target_faces_index) {
                (Some(swap), Some(target)) => Job::PairedVideoFaceSwap {
                    video,
                    face,
                    pairs: pairs(swap, target)?,
                },
                _ => Job::VideoFaceSwap { video, face },
            }
        }
    };
    Ok((job, uploads))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_B64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

    #[test]
    fn base64_inputs_stand_in_as_uploads_and_indexes_pair_in_order() {
        let request = Request::from_value(&json!({"model": "Qubico/image-toolkit",
            "task_type": "multi-face-swap", "input": {"target_image": "http://127.0.0.1/t.png",
            "swap_image": format!("data:image/png;base64,{PNG_B64}"),
            "swap_faces_index": "1,0", "target_faces_index": "0, 1"}}))
        .expect("valid");
        let Ok((
            Job::PairedFaceSwap {
                source,
                face,
                pairs,
            },
            uploads,
        )) = job(&request)
        else {
            panic!("a paired job");
        };
        assert_eq!(source.url, "http://127.0.0.1/t.png");
        assert_eq!(face.url, file_stand_in("input.swap_image"));
        assert!(uploads.for_url(&face.url).is_some());
        assert_eq!((pairs[0].from, pairs[0].at), (1, 0));
        assert_eq!((pairs[1].from, pairs[1].at), (0, 1));
        assert_eq!(pairs[1].at_label, "input.target_faces_index[1]");
    }

    #[test]
    fn config_is_read_and_service_mode_checked() {
        let config = Config::from_json(
            br#"{"config":{"webhook_config":{"endpoint":"http://127.0.0.1/h","secret":"s"},"service_mode":"public"}}"#,
        )
        .expect("valid");
        assert_eq!(
            config.webhook_config.and_then(|w| w.secret).as_deref(),
            Some("s")
        );
        assert_eq!(
            Config::from_json(b"{}").expect("no config"),
            Config::default()
        );
        let err = Config::from_json(br#"{"config":{"service_mode":"fast"}}"#).unwrap_err();
        assert_eq!(err.field, "config.service_mode");
    }
}
