//! `waitForResult`: follow a task until it ends. `taskStates` in `src/browser.js` carries its
//! states here (its event stream, resumed with `Last-Event-ID` after the stream ends, and polling
//! with backoff where streaming is unavailable or keeps failing); this module judges each state
//! (`task_from_json`), tells `onStatus` of each change and ends the wait with the task or the
//! library's error. Which routes a provider's tasks have is [`ProviderClient::task_path`]'s
//! choice.

use crate::drive::settle;
use faceswap_core::task::DEFAULT_WAIT_LIMIT;
use faceswap_core::TaskStatus;
use js_sys::{Function, Promise, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use crate::error::{ClientError, ErrorCode};
use crate::http::failure;
use crate::js;
use crate::provider_client::ProviderClient;
use crate::task::task_from_json;

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    /// The task's states as `src/browser.js` reads them (stream, reconnects, polling, pauses).
    type TaskStates;
    #[wasm_bindgen(js_name = taskStates)]
    fn task_states(
        url: &str,
        retries: u32,
        get_token: Option<&Function>,
        signal: Option<&AbortSignal>,
        timeout_ms: f64,
    ) -> TaskStates;
    /// Resolves the next state's JSON text; `unread` when the last state could not be read.
    /// Rejects with an error [`failure`] reads.
    #[wasm_bindgen(method)]
    fn next(this: &TaskStates, unread: bool) -> Promise;
    /// Closes the stream.
    #[wasm_bindgen(method)]
    fn stop(this: &TaskStates);
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

/// Waits for `task_id` to end; resolves the task when it succeeded, rejects with `task_failed`
/// or `timeout` (the task attached as `task`) otherwise, with `aborted` or `timeout` when the
/// caller's signal or the time limit ends it, and with the proxy's error when it refuses.
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
    let on_status = js::get(options, "onStatus").dyn_into::<Function>().ok();
    let timeout_ms = wait_limit_ms(&js::get(options, "timeoutMs")).unwrap_or(f64::INFINITY);
    let http = client.http();
    let states = task_states(
        &http.url(&client.task_path(&task_id)),
        http.retries(),
        http.get_token(),
        js::signal_option(options).as_ref(),
        timeout_ms,
    );
    let mut unread = false;
    let mut last_status = None;
    loop {
        let state = settle(states.next(unread))
            .await
            .map_err(|err| failure(&err, timeout_ms))?;
        // A state that cannot be read is a failure of this attempt: `taskStates` tries again.
        let read = state
            .as_string()
            .and_then(|text| JSON::parse(&text).ok())
            .and_then(|json| task_from_json(&json, client.provider()).ok());
        unread = read.is_none();
        let Some((task, status)) = read else {
            continue;
        };
        if last_status != Some(status) {
            last_status = Some(status);
            if let Some(callback) = &on_status {
                // A throwing callback must not end the wait.
                let _ = callback.call1(&JsValue::UNDEFINED, &task);
            }
        }
        if status.is_terminal() {
            states.stop();
            return finish(&task_id, task, status);
        }
    }
}

/// The wait's end for a terminal task: the task when it succeeded, else the library's error
/// with the task attached.
fn finish(task_id: &str, task: JsValue, status: TaskStatus) -> Result<JsValue, ClientError> {
    let mut err = match status {
        TaskStatus::Succeeded | TaskStatus::Pending => return Ok(task),
        TaskStatus::Failed => ClientError::new(
            ErrorCode::TaskFailed,
            faceswap_core::text!(
                "task ",
                task_id,
                " failed at the provider (for example, no face was found)"
            ),
        ),
        TaskStatus::TimedOut => ClientError::new(
            ErrorCode::Timeout,
            faceswap_core::text!(
                "task ",
                task_id,
                " got no result from the provider before the proxy's deadline"
            ),
        ),
    };
    err.task = Some(task);
    Err(err)
}
