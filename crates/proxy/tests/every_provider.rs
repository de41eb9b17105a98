//! The generic suite: every provider of `faceswap_core::registry::ADAPTERS`, served by the proxy
//! and answered by the built-in sandbox (`common::every`), goes through the same checks: its
//! simplest swap ends `succeeded` whatever its delivery (webhook, callback, polling, synchronous),
//! also with each allowed value of its settings (AceData's synchronous delivery among them),
//! its event stream ends on a terminal `status` event, an `Idempotency-Key` replays the first
//! answer without a second upstream call and refuses another body (a JSON error), a first
//! attempt the provider fails may be tried again under its key, a submit without a key is
//! always sent, and no key, callback token or
//! per-task secret shows in an answer, an event or a log line.
//!
//! The only per-provider code is [`FIXTURES`]: a new provider gets the suite by adding its row.

mod common;

use common::client::{task_id_in, Answer, Submission};
use common::every::{self, Inputs, Sandboxed};
use common::logs::log_text;
use faceswap_core::registry::ADAPTERS;
use serde_json::{json, Value};

/// A provider's simplest swap: `inputs.face`'s face onto `inputs.target`.
type Fixture = fn(&Inputs) -> Submission;

/// Each registered provider's simplest swap, by provider id.
static FIXTURES: &[(&str, Fixture)] = &[
    ("aifaceswap", |inputs| {
        Submission::json(
            "v1/faceswap",
            json!({"source_image": inputs.target.url, "face_image": inputs.face.url}),
        )
    }),
    ("piapi", |inputs| {
        Submission::json(
            "v1/task",
            json!({"model": "Qubico/image-toolkit", "task_type": "face-swap",
                "input": {"target_image": inputs.target.url, "swap_image": inputs.face.url}}),
        )
    }),
    ("aiphotocraft", |inputs| {
        Submission::form(
            "faceswap/basicswap",
            vec![
                ("srcimage", inputs.face.file()),
                ("targetimage", inputs.target.file()),
            ],
        )
    }),
    ("acedata", |inputs| {
        Submission::json(
            "face/swap",
            json!({"source_image_url": inputs.face.url, "target_image_url": inputs.target.url}),
        )
    }),
    #[cfg(feature = "example-provider")]
    ("example", |inputs| {
        Submission::json(
            "v1/swap",
            json!({"target_url": inputs.target.url, "face_url": inputs.face.url}),
        )
    }),
];

/// The fixture of provider `id`.
fn fixture(id: &str) -> Fixture {
    FIXTURES
        .iter()
        .find(|(fixture_id, _)| *fixture_id == id)
        .map(|(_, fixture)| *fixture)
        .unwrap_or_else(|| panic!("no fixture for {id}: add its simplest swap to FIXTURES"))
}

/// Every registered provider's id.
fn providers() -> impl Iterator<Item = &'static str> {
    ADAPTERS.iter().map(|adapter| adapter.info().id)
}

/// Submits provider `id`'s fixture (with `key` as its `Idempotency-Key`), checks it is accepted,
/// and follows the task to its end: the answer, the task id and the final view.
async fn swap(
    proxy: &Sandboxed,
    id: &str,
    inputs: &Inputs,
    key: Option<&str>,
) -> (Answer, String, Value) {
    let answer = proxy.submit(id, &fixture(id)(inputs), key).await;
    assert_eq!(answer.status, 200, "{id}: {}", answer.text());
    let task_id = task_id_in(&answer.json())
        .unwrap_or_else(|| panic!("{id}: no task_id in {}", answer.text()));
    let view = proxy.follow(id, &task_id).await;
    (answer, task_id, view)
}

#[test]
fn every_registered_provider_has_a_fixture_and_every_fixture_a_provider() {
    for id in providers() {
        assert!(
            FIXTURES.iter().any(|(fixture_id, _)| *fixture_id == id),
            "no fixture for {id}: add its simplest swap to FIXTURES"
        );
    }
    for (id, _) in FIXTURES {
        assert!(
            providers().any(|registered| registered == *id),
            "{id} has a fixture but is not registered"
        );
    }
}

#[tokio::test]
async fn every_provider_swaps_to_succeeded_and_its_stream_ends_on_that_status() {
    log_text();
    let proxy = every::start().await;
    let inputs = proxy.inputs().await;
    for id in providers() {
        let (_, task_id, view) = swap(&proxy, id, &inputs, None).await;
        assert_eq!(view["status"], "succeeded", "{id}: {view}");
        let result = view["result_url"].as_str().unwrap_or_default();
        assert!(result.starts_with("http"), "{id}: a result URL: {view}");
        let events = proxy.events(id, &task_id).await;
        let (name, last) = events.last().unwrap_or_else(|| panic!("{id}: no event"));
        assert_eq!(name, "status", "{id}: {events:?}");
        assert_eq!(last["status"], "succeeded", "{id}: {events:?}");
        assert_eq!(last["result_url"], view["result_url"], "{id}: {events:?}");
    }
}

/// The flags of round `round` of [`every_provider_swaps_with_every_value_of_its_settings`]:
/// each provider setting at its `round`-th allowed value (its last one once there are no more).
fn settings_round(round: usize) -> Vec<String> {
    let mut flags = Vec::new();
    for adapter in ADAPTERS {
        let id = adapter.info().id;
        for setting in adapter.info().settings {
            if let Some(value) = setting.allowed.get(round).or(setting.allowed.last()) {
                flags.extend([format!("--{}", setting.flag(id)), (*value).to_owned()]);
            }
        }
    }
    flags
}

/// The most allowed values any provider setting has.
fn settings_rounds() -> usize {
    ADAPTERS
        .iter()
        .flat_map(|adapter| adapter.info().settings)
        .map(|setting| setting.allowed.len())
        .max()
        .unwrap_or(0)
}

#[tokio::test]
async fn every_provider_swaps_with_every_value_of_its_settings() {
    log_text();
    for round in 0..settings_rounds() {
        let flags = settings_round(round);
        let proxy = every::start_with(&flags).await;
        let inputs = proxy.inputs().await;
        for id in providers() {
            let (_, _, view) = swap(&proxy, id, &inputs, None).await;
            assert_eq!(view["status"], "succeeded", "{id} with {flags:?}: {view}");
        }
    }
}

#[tokio::test]
async fn every_provider_replays_a_key_without_a_second_call_and_refuses_another_body() {
    log_text();
    let proxy = every::start().await;
    let inputs = proxy.inputs().await;
    for id in providers() {
        let key = format!("every-{id}-replay");
        let (first, _, view) = swap(&proxy, id, &inputs, Some(&key)).await;
        assert_eq!(view["status"], "succeeded", "{id}: {view}");
        // The task has ended: nothing else calls upstream from here on.
        let calls = proxy.upstream.count();
        let again = proxy.submit(id, &fixture(id)(&inputs), Some(&key)).await;
        assert_eq!(again.status, first.status, "{id}: {}", again.text());
        assert_eq!(
            again.body, first.body,
            "{id}: the first answer, byte for byte"
        );
        assert_eq!(
            proxy.upstream.count(),
            calls,
            "{id}: no second upstream call"
        );

        let other = fixture(id)(&inputs.swapped());
        let conflict = proxy.submit(id, &other, Some(&key)).await;
        assert_eq!(conflict.status, 422, "{id}: {}", conflict.text());
        assert_eq!(
            conflict.headers["content-type"], "application/json",
            "{id}: the error is JSON"
        );
        assert_eq!(
            (&conflict.json()["error"], &conflict.json()["code"]),
            (&json!("idempotency_conflict"), &json!(422)),
            "{id}: {}",
            conflict.text()
        );
        assert_eq!(proxy.upstream.count(), calls, "{id}: nothing sent");
    }
}

#[tokio::test]
async fn every_provider_retries_a_refused_attempt_under_its_key_never_an_unanswered_one_and_replays_nothing_without_one(
) {
    log_text();
    let proxy = every::start().await;
    let inputs = proxy.inputs().await;
    for id in providers() {
        // The provider refuses the first attempt (429: no task made): the key is freed, and the
        // same key tries again.
        let key = format!("every-{id}-retry");
        proxy.faults(json!({"rate_limit_next": 1})).await;
        let calls = proxy.upstream.count();
        let refused = proxy.submit(id, &fixture(id)(&inputs), Some(&key)).await;
        assert_eq!(refused.status, 429, "{id}: {}", refused.text());
        assert_eq!(
            proxy.upstream.count(),
            calls + 1,
            "{id}: the attempt was sent"
        );
        let (_, _, view) = swap(&proxy, id, &inputs, Some(&key)).await;
        assert_eq!(view["status"], "succeeded", "{id}: {view}");

        // The provider fails with a 5xx, which does not say whether it made a task: the key keeps
        // that answer, and a retry under it is not sent again.
        let key = format!("every-{id}-unanswered");
        proxy.faults(json!({"error_next": 1})).await;
        let calls = proxy.upstream.count();
        let failed = proxy.submit(id, &fixture(id)(&inputs), Some(&key)).await;
        assert!(failed.status >= 500, "{id}: {}", failed.text());
        let again = proxy.submit(id, &fixture(id)(&inputs), Some(&key)).await;
        assert_eq!(again.status, failed.status, "{id}: {}", again.text());
        assert_eq!(again.json()["error"], failed.json()["error"], "{id}");
        assert_eq!(
            proxy.upstream.count(),
            calls + 1,
            "{id}: the retry was not sent"
        );

        // Without a key, the same body is another task, sent upstream again.
        let calls = proxy.upstream.count();
        let (_, first, _) = swap(&proxy, id, &inputs, None).await;
        let (_, second, _) = swap(&proxy, id, &inputs, None).await;
        assert_ne!(first, second, "{id}: two tasks");
        assert!(
            proxy.upstream.count() >= calls + 2,
            "{id}: both submits went upstream"
        );
    }
}

#[tokio::test]
async fn no_provider_shows_a_key_token_or_secret_in_answers_events_or_logs() {
    log_text();
    let proxy = every::start().await;
    let inputs = proxy.inputs().await;
    let mut shown = Vec::new();
    for id in providers() {
        let (answer, task_id, view) = swap(&proxy, id, &inputs, None).await;
        assert_eq!(view["status"], "succeeded", "{id}: {view}");
        shown.push((format!("{id}: the submit's answer"), answer.text()));
        shown.push((format!("{id}: the task"), view.to_string()));
        for (name, data) in proxy.events(id, &task_id).await {
            shown.push((format!("{id}: the {name} event"), data.to_string()));
        }
    }
    let secrets = proxy.upstream.tokens();
    assert!(
        secrets.contains(&proxy.api_key),
        "the key went upstream: {secrets:?}"
    );
    assert!(
        secrets.len() > 1,
        "callback tokens went upstream too: {secrets:?}"
    );
    let logs = log_text();
    assert!(
        logs.contains("task submitted") && logs.contains("callback"),
        "the proxy's own lines are captured at trace level ({} bytes)",
        logs.len()
    );
    shown.push(("the logs".to_owned(), logs));
    for secret in &secrets {
        for (place, text) in &shown {
            assert!(
                !text.contains(secret.as_str()) && !text.contains(&secret[..16]),
                "{place} shows a secret the proxy sent upstream"
            );
        }
    }
}
