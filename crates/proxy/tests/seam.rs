//! The provider seam: a provider defined only in this file (one adapter and a fake upstream on
//! loopback) is served by the proxy through the generic routes, the task store, the callback
//! intake with a per-task secret, Server-Sent Events, the poll sweep, and an upstream call
//! allowed longer than the proxy's timeout (up to the adapter's longest wait), with no edit
//! anywhere else.

mod common;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::{serve, Proxy, SseReader};
use faceswap_core::provider::{
    Adapter, AdapterSettings, AuthScheme, BuildError, CallbackAck, CallbackHeaders, CallbackTarget,
    Cost, CostUnit, FaultKind, FormInput, OperationSpec, Prepared, PriceInputs, ProviderFault,
    ProviderInfo, ResultDelivery, SettingSpec, SubmitOutcome, TaskUpdate, UpstreamRequest,
};
use faceswap_core::url::check_http_url;
use faceswap_core::{FieldError, TaskStatus};
use faceswap_proxy::Config;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// "Echo", a provider that exists only here: its key in `x-echo-key`, results by callback (with
/// the task's secret echoed in `x-echo-secret`) and by polling `GET jobs/{id}`, priced per
/// request, with one setting of its own (`--echo-region`, sent as `region`). A submit may ask
/// for a longer upstream call (`allow_ms`), up to [`ECHO_LONGEST_WAIT`].
struct Echo;

/// The longest upstream call Echo may ask for.
const ECHO_LONGEST_WAIT: Duration = Duration::from_millis(2000);

static ECHO: ProviderInfo = ProviderInfo {
    id: "echo",
    default_base_url: "https://echo.invalid",
    auth: AuthScheme::Header("x-echo-key"),
    delivery: ResultDelivery::CallbackThenPolling,
    callback_secret_header: Some("x-echo-secret"),
    cost_unit: CostUnit::Requests,
    settings: &[SettingSpec {
        name: "region",
        help: "Where Echo runs the jobs",
        allowed: &["eu", "us"],
    }],
    callback_ack: CallbackAck {
        status: 202,
        body: r#"{"received":true}"#,
    },
    // The adapter's `longest_upstream_wait` reads it (the trait's default).
    longest_submit_wait: Some(ECHO_LONGEST_WAIT),
    legacy_spend_cap: None,
};

static OPERATIONS: [OperationSpec; 1] = [OperationSpec {
    name: "swap",
    js_name: "swap",
    route: "v2/swap",
    starts_task: true,
    file_fields: &[],
    form_text_fields: &[],
    repeated_fields: &[],
    accepts_json: true,
    fields: &[],
}];

/// A job as the fake provider reports it: `{"job","state","url"?}`.
fn job_update(body: &[u8]) -> Result<TaskUpdate, FieldError> {
    job_state(faceswap_core::parse::from_json(body)?)
}

/// A job's update from its JSON; a callback names its state in `x-echo-state` instead.
fn job_state(value: Value) -> Result<TaskUpdate, FieldError> {
    let job = value["job"]
        .as_str()
        .ok_or_else(|| FieldError::required("job"))?
        .to_owned();
    Ok(match value["state"].as_str() {
        Some("done") => TaskUpdate::succeeded(
            Some(job),
            value["url"]
                .as_str()
                .ok_or_else(|| FieldError::required("url"))?
                .to_owned(),
        ),
        Some("failed") => TaskUpdate::failed(Some(job), value["reason"].as_str().map(Into::into)),
        Some("running") => TaskUpdate::pending(Some(job)),
        _ => {
            return Err(FieldError::new(
                "state",
                "state must be done, failed or running",
            ))
        }
    })
}

impl Adapter for Echo {
    fn info(&self) -> &'static ProviderInfo {
        &ECHO
    }

    fn operations(&self) -> &'static [OperationSpec] {
        &OPERATIONS
    }

    fn price(&self, _: &OperationSpec, _: &PriceInputs) -> Cost {
        Cost::new(1.0, CostUnit::Requests)
    }

    fn prepare_json(&self, _route: &str, body: &[u8]) -> Result<Prepared, FieldError> {
        let value: Value = faceswap_core::parse::from_json(body)?;
        let image = value["image"]
            .as_str()
            .ok_or_else(|| FieldError::required("image"))?;
        check_http_url("image", image)?;
        Ok(Prepared {
            operation: &OPERATIONS[0],
            request: json!({ "image": image, "allow_ms": value["allow_ms"], "sleep_ms": value["sleep_ms"] }),
            cost: Cost::new(1.0, CostUnit::Requests),
            multipart: false,
        })
    }

    fn prepare_form(&self, _: &str, _: &FormInput) -> Result<Prepared, FieldError> {
        Err(FieldError::new("body", "echo takes JSON"))
    }

    fn upstream_request(
        &self,
        prepared: &Prepared,
        callback: Option<&CallbackTarget>,
        settings: &AdapterSettings,
    ) -> Result<UpstreamRequest, BuildError> {
        let body = json!({
            "image": prepared.request["image"],
            "region": settings.get("region"),
            "notify": callback.map(|c| c.url.clone()),
            "secret": callback.and_then(|c| c.secret.clone()),
            "sleep_ms": prepared.request["sleep_ms"],
        });
        let request = UpstreamRequest::post_json("jobs", serde_json::to_vec(&body)?);
        Ok(match prepared.request["allow_ms"].as_u64() {
            Some(ms) => request.with_timeout(Duration::from_millis(ms)),
            None => request,
        })
    }

    fn read_submit(&self, _: &Prepared, body: &[u8]) -> Result<SubmitOutcome, ProviderFault> {
        let value: Value =
            serde_json::from_slice(body).map_err(|_| ProviderFault::malformed("not JSON"))?;
        if let Some(code) = value["error"].as_str() {
            return Err(
                ProviderFault::new(FaultKind::InvalidInput, "echo refused the image")
                    .with_provider_code(code),
            );
        }
        let job = value["job"]
            .as_str()
            .ok_or_else(|| ProviderFault::malformed("no job"))?;
        Ok(SubmitOutcome::Started {
            task_id: job.to_owned(),
            points: None,
        })
    }

    fn browser_answer(&self, body: &[u8]) -> Vec<u8> {
        // Echo repeats the callback secret in its answer; the browser must never see it.
        let mut value: Value = serde_json::from_slice(body).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            object.remove("secret");
        }
        serde_json::to_vec(&value).unwrap_or_default()
    }

    fn read_callback(
        &self,
        body: &[u8],
        headers: CallbackHeaders<'_>,
    ) -> Result<TaskUpdate, FieldError> {
        let mut value: Value = faceswap_core::parse::from_json(body)?;
        if let Some((_, state)) = headers.iter().find(|(name, _)| *name == "x-echo-state") {
            value["state"] = json!(state);
        }
        job_state(value)
    }

    fn poll_request(&self, task_id: &str) -> Option<UpstreamRequest> {
        Some(UpstreamRequest::get(format!("jobs/{task_id}")))
    }

    fn read_poll(&self, _: &str, body: &[u8]) -> Result<TaskUpdate, ProviderFault> {
        job_update(body).map_err(|err| ProviderFault::malformed(err.message))
    }
}

/// The fake Echo upstream: jobs by id, every request's path and key recorded.
#[derive(Clone, Default)]
struct FakeEcho {
    jobs: Arc<Mutex<HashMap<String, Value>>>,
    submits: Arc<Mutex<Vec<Value>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// A request the fake saw: its path and its `x-echo-key`.
type Seen = (String, Option<String>);

impl FakeEcho {
    async fn start(self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let router = Router::new()
            .route("/jobs", post(submit))
            .route("/jobs/{id}", get(status))
            .with_state(self);
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        url
    }

    fn record(&self, path: String, headers: &HeaderMap) {
        let key = headers
            .get("x-echo-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        self.seen.lock().expect("lock").push((path, key));
    }

    fn finish(&self, job: &str) {
        self.jobs.lock().expect("lock").insert(
            job.to_owned(),
            json!({"job": job, "state": "done", "url": "https://cdn.echo.example/out.jpg"}),
        );
    }
}

async fn submit(
    State(fake): State<FakeEcho>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    fake.record("/jobs".into(), &headers);
    if let Some(ms) = body["sleep_ms"].as_u64() {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let job = format!("job-{}", fake.submits.lock().expect("lock").len() + 1);
    fake.jobs
        .lock()
        .expect("lock")
        .insert(job.clone(), json!({"job": job, "state": "running"}));
    let secret = body["secret"].clone();
    fake.submits.lock().expect("lock").push(body);
    Json(json!({"job": job, "secret": secret}))
}

async fn status(
    State(fake): State<FakeEcho>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, StatusCode> {
    fake.record(format!("/jobs/{id}"), &headers);
    let job = fake.jobs.lock().expect("lock").get(&id).cloned();
    job.map(Json).ok_or(StatusCode::NOT_FOUND)
}

static ADAPTERS: [&dyn Adapter; 1] = [&Echo];

async fn echo_proxy(upstream: &str, poll_after_ms: &str) -> Proxy {
    echo_proxy_with(upstream, poll_after_ms, &[]).await
}

async fn echo_proxy_with(upstream: &str, poll_after_ms: &str, extra: &[&str]) -> Proxy {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let config = Config::try_from_args_for(
        &ADAPTERS,
        [
            "faceswap-proxy",
            "--public-url",
            &url,
            "--database-url",
            &format!("sqlite://{}", dir.path().join("tasks.db").display()),
            "--upload-dir",
            &dir.path().join("uploads").display().to_string(),
            "--echo-base-url",
            upstream,
            "--echo-api-key",
            "echo-key-123",
            "--echo-poll-after-ms",
            poll_after_ms,
            "--poll-interval-ms",
            "50",
            "--echo-region",
            "eu",
        ]
        .into_iter()
        .chain(extra.iter().copied()),
    )
    .expect("flags");
    serve(config, listener, dir).await
}

async fn submit_swap(proxy: &Proxy) -> String {
    let response = proxy
        .http
        .post(format!("{}/api/echo/v2/swap", proxy.url))
        .json(&json!({"image": "https://img.example/a.jpg", "notify": "https://evil.example/"}))
        .send()
        .await
        .expect("submit");
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.expect("json");
    assert!(
        answer.get("secret").is_none(),
        "the secret never reaches the browser"
    );
    answer["job"].as_str().expect("job").to_owned()
}

async fn events(proxy: &Proxy, job: &str) -> SseReader {
    let response = proxy.get(&format!("/api/echo/tasks/{job}/events")).await;
    assert_eq!(response.status(), 200);
    SseReader::new(response)
}

#[tokio::test]
async fn a_provider_defined_in_a_test_is_polled_to_its_result() {
    let fake = FakeEcho::default();
    let upstream = fake.clone().start().await;
    let proxy = echo_proxy(&upstream, "0").await;

    let config: Value = proxy.get("/api/config").await.json().await.expect("config");
    // The first fields of each entry, a public contract; the demo's own are checked in api.rs.
    let listed: Vec<Value> = config["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .map(|p| json!({"id": p["id"], "mode": p["mode"], "operations": p["operations"]}))
        .collect();
    assert_eq!(
        Value::from(listed),
        json!([{"id": "echo", "mode": "live", "operations": ["swap"]}])
    );

    let job = submit_swap(&proxy).await;
    let task: Value = proxy
        .get(&format!("/api/echo/tasks/{job}"))
        .await
        .json()
        .await
        .expect("task");
    assert_eq!(task["provider"], "echo");
    assert_eq!(task["status"], "pending");
    assert_eq!(task["cost"], json!({"amount": 1.0, "unit": "requests"}));
    let mut stream = events(&proxy, &job).await;
    let (_, first) = stream
        .next_event(Duration::from_secs(5))
        .await
        .expect("state at connect");
    assert_eq!(first["status"], "pending");

    // The poll sweep asks while the job runs, then finds it done.
    tokio::time::sleep(Duration::from_millis(300)).await;
    fake.finish(&job);
    let (_, done) = stream
        .next_event(Duration::from_secs(5))
        .await
        .expect("the poll's result");
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["result_url"], "https://cdn.echo.example/out.jpg");
    assert!(
        stream.next(Duration::from_secs(5)).await.is_none(),
        "ends after terminal"
    );

    let seen = fake.seen.lock().expect("lock").clone();
    let polls = seen
        .iter()
        .filter(|(path, _)| *path == format!("/jobs/{job}"))
        .count();
    assert!(polls >= 2, "polled while running and once done: {seen:?}");
    assert!(
        seen.iter()
            .all(|(_, key)| key.as_deref() == Some("echo-key-123")),
        "every call carries the key the adapter's scheme names"
    );
    // Polling stops at the terminal state.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.seen.lock().expect("lock").len(), seen.len());
    // The first version's task route is aifaceswap's alone.
    assert_eq!(proxy.get(&format!("/api/tasks/{job}")).await.status(), 404);
}

#[tokio::test]
async fn a_provider_defined_in_a_test_calls_back_with_its_tasks_secret() {
    let fake = FakeEcho::default();
    let upstream = fake.clone().start().await;
    let proxy = echo_proxy(&upstream, "600000").await;
    let job = submit_swap(&proxy).await;
    let submitted = fake.submits.lock().expect("lock")[0].clone();
    let hook = submitted["notify"]
        .as_str()
        .expect("callback URL")
        .to_owned();
    let secret = submitted["secret"].as_str().expect("a secret").to_owned();
    assert!(hook.starts_with(&format!("{}/hooks/echo/", proxy.url)));
    assert!(secret.len() >= 32, "at least 128 random bits");
    assert_eq!(
        submitted["region"], "eu",
        "the operator's setting reaches the adapter"
    );
    let mut stream = events(&proxy, &job).await;
    stream
        .next_event(Duration::from_secs(5))
        .await
        .expect("pending");

    let call_back = |secret: Option<&str>, state: &str| {
        let mut request = proxy
            .http
            .post(&hook)
            .header("x-echo-state", state)
            .json(&json!({"job": job, "url": "https://cdn.echo.example/cb.jpg"}));
        if let Some(secret) = secret {
            request = request.header("x-echo-secret", secret);
        }
        async move {
            let response = request.send().await.expect("callback");
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or_default();
            if status < 300 {
                assert_eq!(
                    body,
                    json!({"received": true}),
                    "Echo's own acknowledgement"
                );
            }
            status
        }
    };
    assert_eq!(call_back(None, "done").await, 401);
    assert_eq!(call_back(Some("wrong"), "done").await, 401);
    // The state travels in a header: the adapter reads the callback's headers.
    assert_eq!(call_back(Some(&secret), "running").await, 202);
    let task: Value = proxy
        .get(&format!("/api/echo/tasks/{job}"))
        .await
        .json()
        .await
        .expect("task");
    assert_eq!(
        task["status"], "pending",
        "neither a forged nor a progress callback ends it"
    );

    assert_eq!(call_back(Some(&secret), "done").await, 202);
    let (_, done) = stream
        .next_event(Duration::from_secs(5))
        .await
        .expect("the callback's result");
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["result_url"], "https://cdn.echo.example/cb.jpg");
    // A repeated delivery changes nothing; another provider's path does not know the token.
    assert_eq!(call_back(Some(&secret), "failed").await, 202);
    let task = proxy
        .state
        .store
        .task(&faceswap_proxy::store::TaskKey::new("echo", job.clone()))
        .await;
    assert_eq!(
        task.expect("store").expect("task").view.status,
        TaskStatus::Succeeded
    );
    let elsewhere = hook.replace("/hooks/echo/", "/hooks/aifaceswap/");
    let status = proxy
        .http
        .post(&elsewhere)
        .header("x-echo-secret", &secret)
        .json(&json!({"job": job, "state": "done", "url": "https://x.example/y.jpg"}))
        .send()
        .await
        .expect("callback")
        .status();
    assert_eq!(status, 404);
    // With a callback in time, the task is never polled.
    assert!(fake
        .seen
        .lock()
        .expect("lock")
        .iter()
        .all(|(path, _)| path == "/jobs"));
}

#[tokio::test]
async fn a_call_may_take_longer_than_the_proxys_timeout_up_to_its_adapters_longest_wait() {
    let fake = FakeEcho::default();
    let upstream = fake.clone().start().await;
    let proxy = echo_proxy_with(&upstream, "600000", &["--upstream-timeout-secs", "1"]).await;
    let swap = |allow_ms: u64, sleep_ms: u64| {
        let request = proxy.http.post(format!("{}/api/echo/v2/swap", proxy.url)).json(
            &json!({"image": "https://img.example/a.jpg", "allow_ms": allow_ms, "sleep_ms": sleep_ms}),
        );
        async move {
            let started = std::time::Instant::now();
            let response = request.send().await.expect("submit");
            let status = response.status().as_u16();
            let answer: Value = response.json().await.expect("json");
            (status, answer["error"].clone(), started.elapsed())
        }
    };
    // Longer than the proxy's 1 s, within what the request asked for.
    let (status, error, _) = swap(1800, 1300).await;
    assert_eq!(status, 200, "{error}");
    // Past what the request asked for.
    let (status, error, took) = swap(1200, 2500).await;
    assert_eq!((status, error), (504, json!("upstream_timeout")));
    assert!(took < Duration::from_millis(2000), "{took:?}");
    // Asking for more than the adapter's longest wait gets the longest wait.
    let (status, error, took) = swap(60_000, 3000).await;
    assert_eq!((status, error), (504, json!("upstream_timeout")));
    assert!(
        took >= ECHO_LONGEST_WAIT && took < Duration::from_millis(2900),
        "{took:?}"
    );
}
