//! The browser's side of a test, for any provider: a submit to `/api/{id}/{route}` (JSON or a
//! multipart form, with or without an `Idempotency-Key`), its answer, the task's view, the one
//! "wait for the task to end", and its event stream.

use super::{Proxy, Sse, SseReader};
use axum::http::HeaderMap;
use serde_json::Value;
use std::time::{Duration, Instant};

/// How long a task may take (through a fake or the sandbox) before a test gives up on it.
pub const SWAP_TIME: Duration = Duration::from_secs(60);

/// How long a test waits for one event of a stream that should come at once.
pub const EVENT_TIME: Duration = Duration::from_secs(5);

/// One field of a multipart form.
#[derive(Debug, Clone)]
pub enum Field {
    /// A text field.
    Text(String),
    /// A file: its name and bytes.
    File(String, Vec<u8>),
}

impl Field {
    /// A text field.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }

    /// A file field.
    pub fn file(name: &str, bytes: impl Into<Vec<u8>>) -> Self {
        Self::File(name.to_owned(), bytes.into())
    }
}

/// A request body as a browser sends it.
#[derive(Debug, Clone)]
pub enum Body {
    /// JSON.
    Json(Value),
    /// A multipart form, fields in order.
    Form(Vec<(&'static str, Field)>),
}

/// A submit: the provider's route under `/api/{id}/` and its body.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The route, e.g. `v1/faceswap`.
    pub route: String,
    /// The body.
    pub body: Body,
}

impl Submission {
    /// A JSON submit to `route`.
    pub fn json(route: impl Into<String>, body: Value) -> Self {
        Self {
            route: route.into(),
            body: Body::Json(body),
        }
    }

    /// A multipart submit to `route`.
    pub fn form(route: impl Into<String>, fields: Vec<(&'static str, Field)>) -> Self {
        Self {
            route: route.into(),
            body: Body::Form(fields),
        }
    }
}

/// An answer: its status, headers and body as sent.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Its headers.
    pub headers: HeaderMap,
    /// The body's bytes.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The task id in the body (see [`task_id_in`]).
    pub fn task_id(&self) -> String {
        task_id_in(&self.json()).unwrap_or_else(|| panic!("no task_id in {}", self.text()))
    }
}

/// The task id of a submit's answer: the first string field named `task_id`, at any depth (each
/// provider's answer names it so, at its own place), else a top-level `id`.
pub fn task_id_in(answer: &Value) -> Option<String> {
    match answer {
        Value::Object(map) => map
            .get("task_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| map.values().find_map(task_id_in))
            // An answer of only `{"id"}` (the browser library reads that too).
            .or_else(|| map.get("id").and_then(Value::as_str).map(str::to_owned)),
        Value::Array(items) => items.iter().find_map(task_id_in),
        _ => None,
    }
}

/// A reqwest form of `fields`.
fn form(fields: &[(&'static str, Field)]) -> reqwest::multipart::Form {
    fields.iter().fold(
        reqwest::multipart::Form::new(),
        |form, (name, field)| match field {
            Field::Text(text) => form.text(*name, text.clone()),
            Field::File(file, bytes) => form.part(
                *name,
                reqwest::multipart::Part::bytes(bytes.clone()).file_name(file.clone()),
            ),
        },
    )
}

impl Proxy {
    /// Sends `submission` to provider `id`, with an `Idempotency-Key` when `key` is given.
    pub async fn send(&self, id: &str, submission: &Submission, key: Option<&str>) -> Answer {
        let mut request = self
            .http
            .post(format!("{}/api/{id}/{}", self.url, submission.route));
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        request = match &submission.body {
            Body::Json(value) => request.json(value),
            Body::Form(fields) => request.multipart(form(fields)),
        };
        let response = request.send().await.expect("submit");
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.expect("answer").to_vec(),
        }
    }

    /// Sends `submission` to provider `id` without a key: the answer's status and JSON body.
    pub async fn answer(&self, id: &str, submission: &Submission) -> (u16, Value) {
        let answer = self.send(id, submission, None).await;
        (answer.status, answer.json())
    }

    /// Sends `submission` to provider `id`, checks it is accepted, and gives its task id and
    /// its answer as JSON.
    pub async fn send_ok(&self, id: &str, submission: &Submission) -> (String, Value) {
        let answer = self.send(id, submission, None).await;
        assert_eq!(answer.status, 200, "{id}: {}", answer.text());
        (answer.task_id(), answer.json())
    }

    /// Uploads `bytes` to `/api/uploads`; the URL the proxy gives them.
    pub async fn upload(&self, content_type: &str, bytes: Vec<u8>) -> String {
        let answer: Value = self
            .http
            .post(format!("{}/api/uploads", self.url))
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .expect("upload")
            .json()
            .await
            .expect("upload JSON");
        answer["url"].as_str().expect("an upload URL").to_owned()
    }

    /// The view of provider `id`'s task.
    pub async fn view(&self, id: &str, task_id: &str) -> Value {
        let response = self.get(&format!("/api/{id}/tasks/{task_id}")).await;
        assert_eq!(response.status(), 200, "{id} task {task_id}");
        response.json().await.expect("task JSON")
    }

    /// The view of provider `id`'s task once it is no longer pending (within [`SWAP_TIME`]).
    pub async fn follow(&self, id: &str, task_id: &str) -> Value {
        let deadline = Instant::now() + SWAP_TIME;
        loop {
            let view = self.view(id, task_id).await;
            if view["status"] != "pending" {
                return view;
            }
            assert!(
                Instant::now() < deadline,
                "{id}: the task never ended: {view}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The event stream of provider `id`'s task.
    pub async fn stream(&self, id: &str, task_id: &str) -> SseReader {
        let response = self.get(&format!("/api/{id}/tasks/{task_id}/events")).await;
        assert_eq!(response.status(), 200, "{id}: events of {task_id}");
        SseReader::new(response)
    }

    /// Every event of provider `id`'s task stream, `(event name, data)`, until the proxy ends
    /// the stream (after a terminal status).
    pub async fn events(&self, id: &str, task_id: &str) -> Vec<(String, Value)> {
        let mut stream = self.stream(id, task_id).await;
        let mut events = Vec::new();
        while let Some(item) = stream.next(SWAP_TIME).await {
            if let Sse::Event { event, data, .. } = item {
                events.push((event, data));
            }
        }
        events
    }
}
