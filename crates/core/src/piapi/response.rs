//! PiAPI's answers: the envelope `{"code", "data": task, "message"}` of Create Task and Get
//! Task, and the webhook body `{"timestamp", "data": task}`. The task's `status` is compared
//! without case (`Completed`, `completed`); only `completed` and `failed` end a task.

use alloc::{format, string::String, string::ToString};

use serde::Deserialize;

use crate::parse::from_json;
use crate::provider::TaskUpdate;
use crate::FieldError;

/// Longest provider message kept in a task's `error`.
const MAX_ERROR_CHARS: usize = 200;

/// The envelope of Create Task and Get Task.
#[derive(Debug, Clone, Deserialize)]
pub struct TaskEnvelope {
    /// PiAPI's code: 200 on success.
    #[serde(default)]
    pub code: Option<i64>,
    /// The task.
    #[serde(default)]
    pub data: Option<Task>,
    /// PiAPI's message.
    #[serde(default)]
    pub message: Option<String>,
}

/// A webhook's body.
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookBody {
    /// When PiAPI sent it.
    #[serde(default)]
    pub timestamp: Option<serde_json::Value>,
    /// The task, as Get Task reports it.
    pub data: Task,
}

/// The task object (only the fields the proxy reads; `config`, which echoes the webhook secret,
/// is never read).
#[derive(Debug, Clone, Deserialize)]
pub struct Task {
    /// PiAPI's task id.
    pub task_id: String,
    /// `pending`, `processing`, `staged`, `completed` or `failed`, in any case.
    pub status: String,
    /// The result, once completed.
    #[serde(default)]
    pub output: Option<TaskOutput>,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<TaskError>,
}

/// `data.output`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TaskOutput {
    /// The swapped image.
    #[serde(default)]
    pub image_url: Option<String>,
    /// The swapped video.
    #[serde(default)]
    pub video_url: Option<String>,
}

/// `data.error`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TaskError {
    /// PiAPI's error code (a number; 0 when there is no error).
    #[serde(default)]
    pub code: Option<serde_json::Value>,
    /// The underlying service's message.
    #[serde(default)]
    pub raw_message: Option<String>,
    /// PiAPI's message.
    #[serde(default)]
    pub message: Option<String>,
}

impl TaskError {
    /// The code as text, when it is a real one (not absent, null, 0 or empty).
    pub fn code_text(&self) -> Option<String> {
        match self.code.as_ref()? {
            serde_json::Value::Number(n) if n.as_i64() != Some(0) => Some(n.to_string()),
            serde_json::Value::String(s) if !s.trim().is_empty() && s != "0" => Some(s.clone()),
            _ => None,
        }
    }

    /// The most telling message, shortened: `message`, else `raw_message`.
    pub fn text(&self) -> Option<String> {
        [&self.message, &self.raw_message]
            .into_iter()
            .flatten()
            .map(|m| m.trim())
            .find(|m| !m.is_empty())
            .map(|m| m.chars().take(MAX_ERROR_CHARS).collect())
    }
}

/// Where a task stands, by its status word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// `pending`, `processing` or `staged`.
    Running,
    /// `completed`.
    Completed,
    /// `failed`.
    Failed,
}

impl TaskState {
    /// The state of a status word, in any case.
    pub fn of(word: &str) -> Option<Self> {
        let word = word.trim();
        let is = |known: &str| word.eq_ignore_ascii_case(known);
        if is("completed") {
            Some(Self::Completed)
        } else if is("failed") {
            Some(Self::Failed)
        } else if is("pending") || is("processing") || is("staged") {
            Some(Self::Running)
        } else {
            None
        }
    }
}

impl Task {
    /// The task as a neutral update; fields at fault are named under `data`.
    pub fn update(&self) -> Result<TaskUpdate, FieldError> {
        if self.task_id.trim().is_empty() {
            return Err(FieldError::required("data.task_id"));
        }
        let id = Some(self.task_id.clone());
        let state = TaskState::of(&self.status).ok_or_else(|| {
            FieldError::new(
                "data.status",
                "data.status must be pending, processing, staged, completed or failed",
            )
        })?;
        Ok(match state {
            TaskState::Running => TaskUpdate::pending(id),
            TaskState::Completed => {
                let output = self.output.clone().unwrap_or_default();
                let url = [output.image_url, output.video_url]
                    .into_iter()
                    .flatten()
                    .find(|url| !url.trim().is_empty())
                    .ok_or_else(|| {
                        FieldError::new(
                            "data.output",
                            "a completed task has data.output.image_url or data.output.video_url",
                        )
                    })?;
                TaskUpdate::succeeded(id, url)
            }
            TaskState::Failed => {
                let error = self.error.clone().unwrap_or_default();
                let text = match (error.code_text(), error.text()) {
                    (Some(code), Some(text)) => Some(format!("{text} (code {code})")),
                    (None, Some(text)) => Some(text),
                    (Some(code), None) => Some(format!("code {code}")),
                    (None, None) => None,
                };
                TaskUpdate::failed(id, text)
            }
        })
    }
}

impl WebhookBody {
    /// Parses a webhook body, naming the field at fault.
    pub fn from_json(body: &[u8]) -> Result<Self, FieldError> {
        from_json(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TaskStatus;

    #[test]
    fn statuses_read_without_case_and_only_two_end_a_task() {
        for (word, status) in [
            ("pending", TaskStatus::Pending),
            ("Processing", TaskStatus::Pending),
            ("STAGED", TaskStatus::Pending),
            ("Completed", TaskStatus::Succeeded),
            ("failed", TaskStatus::Failed),
        ] {
            let body = format!(
                r#"{{"timestamp":1,"data":{{"task_id":"t","status":"{word}","output":{{"image_url":"https://img.piapi.ai/r.png"}},"error":{{"code":0,"raw_message":"","message":""}},"config":{{"webhook_config":{{"secret":"s"}}}}}}}}"#
            );
            let update = WebhookBody::from_json(body.as_bytes())
                .unwrap()
                .data
                .update()
                .unwrap();
            assert_eq!(update.status, status, "{word}");
        }
        let odd = WebhookBody::from_json(br#"{"data":{"task_id":"t","status":"done"}}"#).unwrap();
        assert_eq!(odd.data.update().unwrap_err().field, "data.status");
        let empty =
            WebhookBody::from_json(br#"{"data":{"task_id":"t","status":"completed","output":{}}}"#)
                .unwrap();
        assert_eq!(empty.data.update().unwrap_err().field, "data.output");
    }

    #[test]
    fn failures_keep_the_providers_words_and_code() {
        let body = br#"{"code":200,"data":{"task_id":"t","status":"failed","output":null,"error":{"code":10000,"raw_message":"no face detected in target","message":"face swap failed"}},"message":"success"}"#;
        let envelope: TaskEnvelope = serde_json::from_slice(body).unwrap();
        let update = envelope.data.unwrap().update().unwrap();
        assert_eq!(update.status, TaskStatus::Failed);
        assert_eq!(
            update.error.as_deref(),
            Some("face swap failed (code 10000)")
        );
    }
}
