//! `waitForResult`: follow a task until it ends, by streaming its `/events` (resuming with
//! `Last-Event-ID` after a dropped connection) and falling back to polling the task with backoff
//! when streaming is unavailable. Which routes a provider's tasks have is
//! [`ProviderClient::task_path`]'s choice.

use faceswap_core::task::DEFAULT_WAIT_LIMIT;
use faceswap_core::TaskStatus;
use js_sys::{Array, Function, Promise, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ReadableStream};

use crate::error::{ClientError, ErrorCode};
use crate::http::Call;
use crate::js;
use crate::provider_client::ProviderClient;
use crate::task::task_from_json;

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    /// The `status` events of an event stream's body, read and parsed by `src/browser.js`.
    type StatusEvents;
    #[wasm_bindgen(js_name = statusEvents)]
    fn status_events(body: &ReadableStream) -> StatusEvents;
    /// Resolves the next `{ data, id }`, or null when the stream ends.
    #[wasm_bindgen(method)]
    fn next(this: &StatusEvents) -> Promise;
    /// Stops reading.
    #[wasm_bindgen(method)]
    fn cancel(this: &StatusEvents);
}

/// The wait's time limit in milliseconds when its options give no `timeoutMs`: core's
/// [`DEFAULT_WAIT_LIMIT`], the proxy's default task deadline (2 h, after which it ends the task
/// `timed_out`) and a minute, so the proxy's answer comes first.
const DEFAULT_WAIT_LIMIT_MS: f64 = DEFAULT_WAIT_LIMIT.as_millis() as f64;

/// The wait's time limit from its `timeoutMs` option: the option when it is a number above 0,
/// none for `Infinity`, else [`DEFAULT_WAIT_LIMIT_MS`].
pub fn wait_limit_ms(timeout_ms: &JsValue) -> Option<f64> {
    match timeout_ms.as_f64() {
        Some(ms) if ms == f64::INFINITY => None,
        Some(ms) if ms.is_finite() && ms > 0.0 => Some(ms),
        _ => Some(DEFAULT_WAIT_LIMIT_MS),
    }
}

/// Failed stream attempts in a row before the wait switches to polling.
const STREAM_ATTEMPTS: u32 = 3;
/// First and largest pause between attempts, in milliseconds.
const BACKOFF_START_MS: f64 = 250.0;
const BACKOFF_MAX_MS: f64 = 10_000.0;

/// How one streaming attempt ended without a terminal status.
enum StreamEnd {
    /// The server closed the stream; reconnect.
    Closed,
    /// The answer was not an event stream (or had no readable body); poll instead.
    Unsupported,
}

struct Waiter<'a> {
    client: &'a ProviderClient,
    task_id: String,
    signal: AbortSignal,
    user_signal: Option<AbortSignal>,
    deadline: Option<(AbortSignal, f64)>,
    on_status: Option<Function>,
    last_status: Option<TaskStatus>,
    last_event_id: Option<String>,
}

/// Waits for `task_id` to end; resolves the task when it succeeded, rejects with `task_failed`
/// or `timeout` (the task attached as `task`) otherwise.
pub async fn wait_for_result(
    client: &ProviderClient,
    task_id: &JsValue,
    options: &JsValue,
) -> Result<JsValue, ClientError> {
    let task_id = task_id
        .as_string()
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| {
            ClientError::invalid_field("taskId", "taskId must be the taskId a submit returned")
        })?;
    let user_signal = js::signal_option(options);
    let timeout = wait_limit_ms(&js::get(options, "timeoutMs"));
    let on_status = js::get(options, "onStatus").dyn_into::<Function>().ok();
    let deadline = timeout.map(|ms| (js::abort_signal_timeout(ms), ms));
    let signals = Array::new();
    if let Some(signal) = &user_signal {
        signals.push(signal);
    }
    if let Some((signal, _)) = &deadline {
        signals.push(signal);
    }
    let signal = js::abort_signal_any(&signals);
    let mut waiter = Waiter {
        client,
        task_id,
        signal,
        user_signal,
        deadline,
        on_status,
        last_status: None,
        last_event_id: None,
    };
    waiter.run().await
}

impl Waiter<'_> {
    async fn run(&mut self) -> Result<JsValue, ClientError> {
        let mut backoff = BACKOFF_START_MS;
        let mut failures = 0;
        let mut polling = false;
        loop {
            self.check_signal()?;
            let step = if polling {
                self.poll_once().await.map(|done| (done, None))
            } else {
                self.stream_once()
                    .await
                    .map(|(done, end)| (done, Some(end)))
            };
            match step {
                Ok((Some(task), _)) => return self.finish(task),
                Ok((None, Some(StreamEnd::Closed))) => {
                    failures = 0;
                    backoff = BACKOFF_START_MS;
                }
                Ok((None, Some(StreamEnd::Unsupported))) => polling = true,
                Ok((None, None)) => backoff = (backoff * 1.5).min(BACKOFF_MAX_MS),
                Err(err) if self.is_final(&err) => return Err(self.explain(err)),
                Err(_) => {
                    failures += 1;
                    if failures >= STREAM_ATTEMPTS {
                        polling = true;
                    }
                    backoff = (backoff * 2.0).min(BACKOFF_MAX_MS);
                }
            }
            if js::sleep(backoff, Some(&self.signal)).await.is_err() {
                self.check_signal()?;
            }
        }
    }

    /// One connection to the event stream. `Ok((Some(task), _))` when a terminal status arrived.
    async fn stream_once(
        &mut self,
    ) -> Result<(Option<(JsValue, TaskStatus)>, StreamEnd), ClientError> {
        let resume = self.last_event_id.clone();
        let headers: Vec<(&str, &str)> = match &resume {
            Some(id) => vec![
                ("Accept", "text/event-stream"),
                ("Last-Event-ID", id.as_str()),
            ],
            None => vec![("Accept", "text/event-stream")],
        };
        let mut call = Call::get(self.client.task_path(&self.task_id) + "/events");
        call.signal = Some(&self.signal);
        call.headers = &headers;
        let response = self.client.http().send(call).await?;
        let is_stream = response
            .headers()
            .get("Content-Type")
            .ok()
            .flatten()
            .is_some_and(|t| t.starts_with("text/event-stream"));
        let Some(body) = response.body().filter(|_| is_stream) else {
            return Ok((None, StreamEnd::Unsupported));
        };
        let events = status_events(&body);
        loop {
            let event = JsFuture::from(events.next())
                .await
                .map_err(|e| self.read_error(&e))?;
            if event.is_null() {
                return Ok((None, StreamEnd::Closed));
            }
            let json = JSON::parse(&js::get(&event, "data").as_string().unwrap_or_default())
                .map_err(|_| ClientError::upstream("a status event is not JSON"))?;
            let task = task_from_json(&json, self.client.provider())?;
            self.last_event_id = js::get(&event, "id").as_string();
            if let Some(done) = self.observe(task) {
                events.cancel();
                return Ok((Some(done), StreamEnd::Closed));
            }
        }
    }

    /// One `GET` of the task.
    async fn poll_once(&mut self) -> Result<Option<(JsValue, TaskStatus)>, ClientError> {
        let mut call = Call::get(self.client.task_path(&self.task_id));
        call.signal = Some(&self.signal);
        let json = self.client.http().json(call).await?;
        Ok(self.observe(task_from_json(&json, self.client.provider())?))
    }

    /// Reports a status change to `onStatus`; returns the task when it is terminal.
    fn observe(&mut self, (task, status): (JsValue, TaskStatus)) -> Option<(JsValue, TaskStatus)> {
        if self.last_status != Some(status) {
            self.last_status = Some(status);
            if let Some(callback) = &self.on_status {
                // A throwing callback must not end the wait.
                let _ = callback.call1(&JsValue::UNDEFINED, &task);
            }
        }
        status.is_terminal().then_some((task, status))
    }

    fn finish(&self, (task, status): (JsValue, TaskStatus)) -> Result<JsValue, ClientError> {
        let mut err = match status {
            TaskStatus::Succeeded | TaskStatus::Pending => return Ok(task),
            TaskStatus::Failed => ClientError::new(
                ErrorCode::TaskFailed,
                faceswap_core::text!(
                    "task ",
                    self.task_id,
                    " failed at the provider (for example, no face was found)"
                ),
            ),
            TaskStatus::TimedOut => ClientError::new(
                ErrorCode::Timeout,
                faceswap_core::text!(
                    "task ",
                    self.task_id,
                    " got no result from the provider before the proxy's deadline"
                ),
            ),
        };
        err.task = Some(task);
        Err(err)
    }

    fn check_signal(&self) -> Result<(), ClientError> {
        if self.user_signal.as_ref().is_some_and(AbortSignal::aborted) {
            return Err(ClientError::aborted());
        }
        if let Some((signal, ms)) = &self.deadline {
            if signal.aborted() {
                return Err(ClientError::timeout(*ms));
            }
        }
        Ok(())
    }

    fn read_error(&self, err: &JsValue) -> ClientError {
        match self.check_signal() {
            Err(err) => err,
            Ok(()) => ClientError::network(
                &err.as_string()
                    .unwrap_or_else(|| "the event stream broke".to_owned()),
            ),
        }
    }

    /// Errors that retrying cannot fix: aborts, time-outs and the proxy's 4xx answers.
    fn is_final(&self, err: &ClientError) -> bool {
        matches!(err.code, ErrorCode::Aborted | ErrorCode::Timeout)
            || err
                .status
                .is_some_and(|s| (400..500).contains(&s) && s != 429 && s != 408)
    }

    fn explain(&self, err: ClientError) -> ClientError {
        if matches!(
            err.code,
            ErrorCode::Timeout | ErrorCode::Aborted | ErrorCode::NetworkError
        ) {
            return self.check_signal().err().unwrap_or(err);
        }
        err
    }
}
