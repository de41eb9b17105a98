//! The real `faceswap-proxy` binary: durability across SIGKILL (SQLite and PostgreSQL), logs at
//! trace level that hold neither the key nor any webhook token, several worker threads sharing
//! one state, several processes sharing one PostgreSQL database, and idle connections that
//! cannot lock other clients out under a 1,024 open-file limit.

mod common;

use common::media::test_media;
use common::pg;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Running {
    child: Child,
    url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

async fn start_binary(dir: &Path, port: u16, fake: &Fake, log: &str, log_file: &Path) -> Running {
    start_binary_with(dir, port, Some(fake), log, log_file, &[]).await
}

/// Starts the binary; without a fake provider it runs in sandbox mode (no key, no base URL).
async fn start_binary_with(
    dir: &Path,
    port: u16,
    fake: Option<&Fake>,
    log: &str,
    log_file: &Path,
    extra_env: &[(&str, &str)],
) -> Running {
    let command = Command::new(env!("CARGO_BIN_EXE_faceswap-proxy"));
    start_command(command, dir, port, fake, log, log_file, extra_env).await
}

/// This test process's soft open-file limit.
fn soft_open_files() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Starts the binary under an open-file limit of `files` (`prlimit --nofile`), against `fake`.
async fn start_with_file_limit(
    files: u32,
    dir: &Path,
    port: u16,
    fake: &Fake,
    log: &str,
    log_file: &Path,
    extra_env: &[(&str, &str)],
) -> Running {
    let mut command = Command::new("prlimit");
    command.arg(format!("--nofile={files}:{files}"));
    command.args(["--", env!("CARGO_BIN_EXE_faceswap-proxy")]);
    start_command(command, dir, port, Some(fake), log, log_file, extra_env).await
}

/// Starts the binary as `command` runs it (directly, or under `prlimit`).
async fn start_command(
    mut command: Command,
    dir: &Path,
    port: u16,
    fake: Option<&Fake>,
    log: &str,
    log_file: &Path,
    extra_env: &[(&str, &str)],
) -> Running {
    let url = format!("http://127.0.0.1:{port}");
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_file)
        .expect("log");
    let err = out.try_clone().expect("log");
    match fake {
        Some(fake) => command
            .env("AIFACESWAP_BASE_URL", &fake.url)
            .env("AIFACESWAP_API_KEY", KEY),
        None => command
            .env_remove("AIFACESWAP_BASE_URL")
            .env_remove("AIFACESWAP_API_KEY"),
    };
    command
        .env_remove("PIAPI_BASE_URL")
        .env_remove("PIAPI_API_KEY")
        .env_remove("ACEDATA_BASE_URL")
        .env_remove("ACEDATA_API_KEY")
        .env_remove("ACEDATA_DELIVERY")
        .env_remove("AIPHOTOCRAFT_BASE_URL")
        .env_remove("AIPHOTOCRAFT_API_KEY")
        .env_remove("FETCH_ALLOWED_ORIGINS")
        .env_remove("FETCH_ALLOW_PRIVATE");
    let child = command
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("PUBLIC_URL", &url)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("tasks.db").display()),
        )
        .env("UPLOAD_DIR", dir.join("uploads"))
        .env("WWW_DIR", dir.join("www"))
        .env("PKG_DIR", dir.join("pkg"))
        .env("RATE_LIMIT_PER_MIN", "100000")
        .env("SPEND_CAP_CREDITS_PER_HOUR", "1000000")
        .env("SSE_KEEPALIVE_MS", "50")
        .env("RUST_LOG", log)
        // The providers without a key are the sandbox's (a test may say otherwise).
        .env("SANDBOX", "on")
        .env_remove("PROVIDERS")
        .env_remove("ALLOWED_ORIGINS")
        .envs(extra_env.iter().copied())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("spawn the proxy");
    let running = Running { child, url };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(format!("{}/healthz", running.url)).await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the proxy did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running
}

async fn submit(url: &str, op: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{url}/api/aifaceswap/v1/{op}"))
        .json(&valid_body(op))
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("json")
}

async fn status_of(url: &str, task_id: &str) -> Value {
    let task: Value = reqwest::get(format!("{url}/api/tasks/{task_id}"))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    task["status"].clone()
}

#[tokio::test]
async fn tasks_survive_sigkill_and_finish_after_restart() {
    survive_sigkill(&[]).await;
}

#[tokio::test]
async fn tasks_survive_sigkill_and_finish_after_restart_on_postgres() {
    let Some(server) = pg::server() else {
        return;
    };
    let url = server.database().await;
    survive_sigkill(&[("DATABASE_URL", &url)]).await;
}

/// Pending tasks, `kill -9`, a restart on the same database, webhooks: every task succeeds.
async fn survive_sigkill(env: &[(&str, &str)]) {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("proxy.log");
    let port = free_port();
    let mut running = start_binary_with(dir.path(), port, Some(&fake), "info", &log, env).await;
    let mut tasks = Vec::new();
    for op in [
        "faceswap",
        "multi_faceswap",
        "video_faceswap",
        "multi_video_faceswap",
        "faceswap",
    ] {
        let answer = submit(&running.url, op).await;
        let task_id = answer["data"]["task_id"]
            .as_str()
            .expect("task id")
            .to_owned();
        tasks.push((task_id, fake.last().webhook().expect("hook")));
    }
    // One webhook arrives before the crash.
    assert_eq!(deliver(&tasks[0].1, success(&tasks[0].0)).await, 200);
    running.child.kill().expect("SIGKILL");
    running.child.wait().expect("reaped");
    drop(running);

    let running = start_binary_with(dir.path(), port, Some(&fake), "info", &log, env).await;
    assert_eq!(status_of(&running.url, &tasks[0].0).await, "succeeded");
    for (task_id, _) in &tasks[1..] {
        assert_eq!(status_of(&running.url, task_id).await, "pending");
    }
    // A stream opened after the restart is woken by a webhook.
    let response = reqwest::get(format!("{}/api/tasks/{}/events", running.url, tasks[1].0))
        .await
        .expect("sse");
    let mut stream = SseReader::new(response);
    let (_, first) = stream
        .next_event(Duration::from_secs(5))
        .await
        .expect("state");
    assert_eq!(first["status"], "pending");
    for (task_id, hook) in &tasks[1..] {
        assert_eq!(deliver(hook, success(task_id)).await, 200);
    }
    let (_, data) = stream
        .next_event(Duration::from_secs(5))
        .await
        .expect("change");
    assert_eq!(data["status"], "succeeded");
    for (task_id, _) in &tasks {
        assert_eq!(
            status_of(&running.url, task_id).await,
            "succeeded",
            "{task_id}"
        );
    }
}

fn read_log(path: &PathBuf) -> String {
    std::fs::read_to_string(path).expect("log")
}

/// The binary's log after it started with `env` (no base URL: keyless providers are answered by
/// the built-in sandbox), and its WARN lines.
async fn start_log(dir: &Path, name: &str, env: &[(&str, &str)]) -> (String, Vec<String>) {
    let log = dir.join(name);
    let running = start_binary_with(dir, free_port(), None, "info", &log, env).await;
    drop(running);
    let text = read_log(&log);
    let warnings = text
        .lines()
        .filter(|line| line.contains(" WARN "))
        .map(str::to_owned)
        .collect();
    (text, warnings)
}

/// A provider with a key that calls back a `PUBLIC_URL` on loopback (the default) cannot deliver
/// a result: the binary says so at start, one line per provider, naming what to set and never
/// the key. A public `PUBLIC_URL`, a provider told not to call back, or no key: no warning.
#[tokio::test]
async fn a_key_with_a_public_url_providers_cannot_reach_is_warned_of_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = "fake-key-of-the-warning-test";
    let keys = [
        ("AIFACESWAP_API_KEY", key),
        ("PIAPI_API_KEY", key),
        ("ACEDATA_API_KEY", key),
        ("AIPHOTOCRAFT_API_KEY", key),
    ];
    let about =
        |id: &str| format!("{id} has a key and delivers results by calling back PUBLIC_URL");

    let (log, warnings) = start_log(dir.path(), "loopback.log", &keys).await;
    assert!(!log.contains(key), "the key is never logged");
    assert_eq!(
        warnings.len(),
        3,
        "aifaceswap, PiAPI and AceData: {warnings:#?}"
    );
    let of = |id: &str| {
        warnings
            .iter()
            .find(|line| line.contains(&about(id)))
            .unwrap_or_else(|| panic!("no warning about {id}: {warnings:#?}"))
    };
    let aifaceswap = of("aifaceswap");
    assert!(
        aifaceswap.contains("whose host is a loopback address"),
        "{aifaceswap}"
    );
    assert!(
        aifaceswap.contains("its tasks never finish and end timed_out after 2 h"),
        "{aifaceswap}"
    );
    assert!(
        aifaceswap.contains("Set PUBLIC_URL to an address"),
        "{aifaceswap}"
    );
    assert!(aifaceswap.contains("cloudflared tunnel"), "{aifaceswap}");
    assert!(of("piapi").contains("waits for the first poll"));
    assert!(of("acedata").contains("or set ACEDATA_DELIVERY=synchronous"));

    let synchronous = [keys[2], ("ACEDATA_DELIVERY", "synchronous")];
    let (_, warnings) = start_log(dir.path(), "synchronous.log", &synchronous).await;
    assert!(
        warnings.is_empty(),
        "AceData is not called back: {warnings:#?}"
    );

    let mut public = keys.to_vec();
    public.push(("PUBLIC_URL", "https://faceswap.example"));
    let (_, warnings) = start_log(dir.path(), "public.log", &public).await;
    assert!(warnings.is_empty(), "{warnings:#?}");

    let (_, warnings) = start_log(dir.path(), "sandbox.log", &[]).await;
    assert!(warnings.is_empty(), "no key, the sandbox: {warnings:#?}");
}

#[tokio::test]
async fn logs_at_trace_level_hold_neither_the_key_nor_any_token() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("trace.log");
    let running = start_binary(dir.path(), free_port(), &fake, "trace", &log).await;
    let url = running.url.clone();
    let http = reqwest::Client::new();

    for op in OPS {
        submit(&url, op).await;
    }
    // Multipart with a file.
    let form = reqwest::multipart::Form::new()
        .part(
            "source_image",
            reqwest::multipart::Part::bytes(PNG).file_name("a.png"),
        )
        .text("face_image", "https://img.example/f.jpg");
    let answer: Value = http
        .post(format!("{url}/api/aifaceswap/v1/faceswap"))
        .multipart(form)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["code"], 200);
    // Early webhook.
    fake.set(Behaviour::WebhookFirst);
    submit(&url, "faceswap").await;
    fake.set(Behaviour::Normal);
    // SSE, webhooks (valid, duplicate, forged, unknown).
    let answer = submit(&url, "faceswap").await;
    let task_id = answer["data"]["task_id"].as_str().expect("id").to_owned();
    let hook = fake.last().webhook().expect("hook");
    let mut stream = SseReader::new(
        reqwest::get(format!("{url}/api/tasks/{task_id}/events"))
            .await
            .expect("sse"),
    );
    stream
        .next_event(Duration::from_secs(5))
        .await
        .expect("state");
    assert_eq!(deliver(&hook, success(&task_id)).await, 200);
    stream
        .next_event(Duration::from_secs(5))
        .await
        .expect("change");
    assert_eq!(deliver(&hook, success(&task_id)).await, 200);
    assert_eq!(deliver(&hook, success("other-task")).await, 404);
    assert_eq!(
        deliver(
            &format!("{url}/hooks/aifaceswap/{}", "cd".repeat(32)),
            success(&task_id)
        )
        .await,
        404
    );
    // Upstream faults, one echoing the key.
    fake.set(Behaviour::EnvelopeError(401, format!("bad key {KEY}")));
    submit(&url, "faceswap").await;
    fake.set(Behaviour::Status(429, Some("3")));
    submit(&url, "video_faceswap").await;
    fake.set(Behaviour::Normal);
    // Uploads and idempotency.
    http.post(format!("{url}/api/uploads"))
        .header("content-type", "image/png")
        .body(PNG)
        .send()
        .await
        .expect("upload");
    for _ in 0..2 {
        http.post(format!("{url}/api/aifaceswap/v1/faceswap"))
            .header("idempotency-key", "k")
            .json(&valid_body("faceswap"))
            .send()
            .await
            .expect("post");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(running);

    let text = read_log(&log);
    if let Ok(copy) = std::env::var("PROXY_TRACE_LOG_COPY") {
        std::fs::write(copy, &text).expect("copy of the log");
    }
    assert!(
        text.len() > 10_000,
        "trace logging was on ({} bytes)",
        text.len()
    );
    assert!(
        text.contains("/hooks/aifaceswap/[redacted]"),
        "hook paths are logged redacted"
    );
    assert!(!text.contains(KEY), "the key is in the log");
    let tokens: Vec<String> = fake
        .webhooks()
        .iter()
        .map(|h| h.rsplit('/').next().expect("token").to_owned())
        .collect();
    assert!(tokens.len() >= 8);
    for token in tokens {
        assert!(!text.contains(&token), "a token is in the log");
        assert!(
            !text.contains(&token[..16]),
            "part of a token is in the log"
        );
    }
}

#[tokio::test]
async fn without_key_or_base_url_the_builtin_sandbox_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("sandbox.log");
    let running = start_binary_with(dir.path(), free_port(), None, "info", &log, &[]).await;
    let url = running.url.clone();
    let http = reqwest::Client::new();
    let config: Value = http
        .get(format!("{url}/api/config"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(config["mode"], "sandbox");
    // A call that answers at once goes through the sandbox, with its random key.
    let answer = submit(&url, "extract_base64_face").await;
    assert_eq!(answer["code"], 200, "{answer}");
    // A task goes through the sandbox and comes back by webhook to this proxy.
    let uploaded: Value = http
        .post(format!("{url}/api/uploads"))
        .header("content-type", "image/png")
        .body(PNG)
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    let image = uploaded["url"].as_str().expect("url");
    let answer: Value = http
        .post(format!("{url}/api/aifaceswap/v1/faceswap"))
        .json(&serde_json::json!({"source_image": image, "face_image": image}))
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["code"], 200, "{answer}");
    let task_id = answer["data"]["task_id"]
        .as_str()
        .expect("task id")
        .to_owned();
    let response = http
        .get(format!("{url}/api/tasks/{task_id}/events"))
        .send()
        .await
        .expect("sse");
    let mut stream = SseReader::new(response);
    let mut last = Value::Null;
    while let Some((_, data)) = stream.next_event(Duration::from_secs(60)).await {
        last = data;
    }
    let status = last["status"].as_str().unwrap_or_default().to_owned();
    assert!(
        status == "succeeded" || status == "failed",
        "the sandbox's webhook ended the task: {last}"
    );
}

#[tokio::test]
async fn piapi_face_swap_through_the_builtin_sandbox_ends_by_webhook() {
    use base64::Engine;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("piapi.log");
    // Polling starts only after ten minutes: the task can end by webhook alone.
    let running = start_binary_with(
        dir.path(),
        free_port(),
        None,
        "info",
        &log,
        &[("PIAPI_POLL_AFTER_MS", "600000")],
    )
    .await;
    let url = running.url.clone();
    let http = reqwest::Client::new();
    let config: Value = http
        .get(format!("{url}/api/config"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let piapi = config["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .find(|p| p["id"] == "piapi")
        .expect("piapi listed");
    assert_eq!(piapi["mode"], "sandbox");
    let photo = faceswap_core::base64_image::BASE64.encode(test_media("camera.png"));
    let response = http
        .post(format!("{url}/api/piapi/v1/task"))
        .json(&serde_json::json!({
            "model": "Qubico/image-toolkit",
            "task_type": "face-swap",
            "input": { "target_image": photo, "swap_image": photo },
        }))
        .send()
        .await
        .expect("submit");
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.expect("json");
    assert_eq!(answer["code"], 200, "{answer}");
    assert!(answer["data"].get("config").is_none(), "{answer}");
    assert!(answer.get("config").is_none());
    let task_id = answer["data"]["task_id"]
        .as_str()
        .expect("task id")
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    let view = loop {
        let view: Value = http
            .get(format!("{url}/api/piapi/tasks/{task_id}"))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        if view["status"] != "pending" {
            break view;
        }
        assert!(
            Instant::now() < deadline,
            "no webhook ended the task: {view}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(view["status"], "succeeded", "{view}");
    let result = view["result_url"].as_str().expect("result_url");
    let image = reqwest::get(result).await.expect("result");
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["access-control-allow-origin"], "*");
}

/// An AceData face swap of `camera.png`'s face onto `astronaut.png` through the proxy binary's
/// built-in sandbox, with `ACEDATA_DELIVERY` = `delivery`: the task's view once it ended, and the
/// submit's answer.
async fn acedata_swap_through_the_builtin_sandbox(delivery: &str) -> (Value, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("acedata.log");
    let running = start_binary_with(
        dir.path(),
        free_port(),
        None,
        "info",
        &log,
        &[("ACEDATA_DELIVERY", delivery)],
    )
    .await;
    let url = running.url.clone();
    let http = reqwest::Client::new();
    let mut images = Vec::new();
    for name in ["camera.png", "astronaut.png"] {
        let uploaded: Value = http
            .post(format!("{url}/api/uploads"))
            .header("content-type", "image/png")
            .body(test_media(name))
            .send()
            .await
            .expect("upload")
            .json()
            .await
            .expect("json");
        images.push(uploaded["url"].as_str().expect("url").to_owned());
    }
    let response = http
        .post(format!("{url}/api/acedata/face/swap"))
        .json(&serde_json::json!({
            "source_image_url": images[0],
            "target_image_url": images[1],
            "callback_url": "https://evil.example/hook",
        }))
        .send()
        .await
        .expect("submit");
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.expect("json");
    let task_id = answer["task_id"].as_str().expect("task id").to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    let view = loop {
        let view: Value = http
            .get(format!("{url}/api/acedata/tasks/{task_id}"))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        if view["status"] != "pending" {
            break view;
        }
        assert!(
            Instant::now() < deadline,
            "no callback ended the task: {view}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(view["status"], "succeeded", "{view}");
    let result = view["result_url"].as_str().expect("result_url");
    let image = reqwest::get(result).await.expect("result");
    assert_eq!(image.status(), 200);
    (view, answer)
}

#[tokio::test]
async fn acedata_face_swap_through_the_builtin_sandbox_ends_by_callback() {
    let (_, answer) = acedata_swap_through_the_builtin_sandbox("callback").await;
    assert!(answer.get("image_url").is_none(), "{answer}");
}

#[tokio::test]
async fn acedata_face_swap_through_the_builtin_sandbox_answers_synchronously() {
    let (view, answer) = acedata_swap_through_the_builtin_sandbox("synchronous").await;
    assert_eq!(answer["image_url"], view["result_url"], "{answer}");
    assert!(answer["image_width"].as_u64().expect("width") > 0);
}

#[tokio::test]
async fn sigterm_ends_open_event_streams_and_exits() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("term.log");
    let mut running = start_binary(dir.path(), free_port(), &fake, "info", &log).await;
    let answer = submit(&running.url, "faceswap").await;
    let task_id = answer["data"]["task_id"].as_str().expect("id").to_owned();
    let response = reqwest::get(format!("{}/api/tasks/{task_id}/events", running.url))
        .await
        .expect("sse");
    let mut stream = SseReader::new(response);
    stream
        .next_event(Duration::from_secs(5))
        .await
        .expect("state");
    let status = Command::new("kill")
        .args(["-TERM", &running.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    assert_eq!(
        stream.next_event(Duration::from_secs(10)).await,
        None,
        "the stream ends"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(exit) = running.child.try_wait().expect("wait") {
            assert!(exit.success(), "clean exit: {exit}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the proxy did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_never_lock_other_clients_out_under_1024_files() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("idle.log");
    let port = free_port();
    let running = start_with_file_limit(
        1024,
        dir.path(),
        port,
        &fake,
        "info",
        &log,
        &[("HEADER_READ_TIMEOUT_MS", "3000")],
    )
    .await;
    let limits =
        std::fs::read_to_string(format!("/proc/{}/limits", running.child.id())).expect("limits");
    assert!(
        limits
            .lines()
            .any(|l| l.starts_with("Max open files") && l.contains(" 1024 ")),
        "{limits}"
    );

    // 1,100 connections that send the start of a request head and nothing more.
    let mut idle = Vec::new();
    for _ in 0..1100 {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        // A connection the proxy has already closed may refuse the write; it is closed anyway.
        let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\n").await;
        idle.push(stream);
    }
    // Another client is answered within a second.
    let other = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .timeout(Duration::from_secs(1))
        .build()
        .expect("client");
    let started = Instant::now();
    let answer = other
        .get(format!("{}/healthz", running.url))
        .send()
        .await
        .expect("healthz answered within a second");
    assert_eq!(answer.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(1));

    // Every idle connection is closed: those over the per-client cap at once, the others when
    // their header read timeout ends.
    let closed = futures_util::future::join_all(idle.into_iter().map(|mut stream| async move {
        let mut buffer = [0u8; 1024];
        tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await
        .is_ok()
    }))
    .await;
    assert!(closed.iter().all(|&c| c), "every idle connection is closed");
    // And the client that held them is served again.
    let answer = reqwest::get(format!("{}/healthz", running.url))
        .await
        .expect("healthz");
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn streams_on_many_connections_share_tasks_wake_ups_and_limits() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("connections.log");
    let limit = 40;
    let limit_text = limit.to_string();
    let running = start_binary_with(
        dir.path(),
        free_port(),
        Some(&fake),
        "info",
        &log,
        &[("RATE_LIMIT_PER_MIN", &limit_text)],
    )
    .await;
    let mut api_requests = 0;
    let answer = submit(&running.url, "faceswap").await;
    api_requests += 1;
    let task_id = answer["data"]["task_id"].as_str().expect("id").to_owned();
    // Each stream on its own connection, served by whichever runtime thread takes it.
    let mut streams = Vec::new();
    for _ in 0..12 {
        let response = reqwest::Client::new()
            .get(format!("{}/api/tasks/{task_id}/events", running.url))
            .send()
            .await
            .expect("sse");
        api_requests += 1;
        let mut stream = SseReader::new(response);
        let (_, first) = stream
            .next_event(Duration::from_secs(5))
            .await
            .expect("state");
        assert_eq!(first["status"], "pending");
        streams.push(stream);
    }
    let hook = fake.last().webhook().expect("hook");
    assert_eq!(deliver(&hook, success(&task_id)).await, 200);
    for stream in &mut streams {
        let (_, data) = stream
            .next_event(Duration::from_secs(5))
            .await
            .expect("every stream is woken");
        assert_eq!(data["status"], "succeeded");
    }
    // One rate limit for the process, not one per connection: fresh connections until refused.
    let mut allowed = api_requests;
    loop {
        let status = reqwest::Client::new()
            .get(format!("{}/api/config", running.url))
            .send()
            .await
            .expect("config")
            .status();
        if status == 429 {
            break;
        }
        assert_eq!(status, 200);
        allowed += 1;
        assert!(
            allowed <= limit + 3,
            "the limit is not per connection: {allowed} allowed"
        );
    }
    assert!(allowed >= limit, "refused early: {allowed} of {limit}");
}

#[tokio::test]
async fn two_proxies_on_one_postgres_database_wake_each_others_streams() {
    let Some(server) = pg::server() else {
        return;
    };
    let database = server.database().await;
    let fake = Fake::start().await;
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let (log_a, log_b) = (dir_a.path().join("a.log"), dir_b.path().join("b.log"));
    let env_a = [("DATABASE_URL", database.as_str())];
    let env_b = [("DATABASE_URL", database.as_str())];
    // Both start at once on the empty database: the schema is created once.
    let (a, b) = tokio::join!(
        start_binary_with(
            dir_a.path(),
            free_port(),
            Some(&fake),
            "info",
            &log_a,
            &env_a,
        ),
        start_binary_with(
            dir_b.path(),
            free_port(),
            Some(&fake),
            "info",
            &log_b,
            &env_b,
        )
    );
    let answer = submit(&a.url, "faceswap").await;
    let task_id = answer["data"]["task_id"].as_str().expect("id").to_owned();
    let hook = fake.last().webhook().expect("hook");
    assert!(hook.starts_with(&a.url), "the webhook goes to A: {hook}");
    assert_eq!(status_of(&b.url, &task_id).await, "pending");
    // Streams on B, each on its own connection.
    let mut streams = Vec::new();
    for _ in 0..4 {
        let response = reqwest::Client::new()
            .get(format!("{}/api/tasks/{task_id}/events", b.url))
            .send()
            .await
            .expect("sse");
        assert_eq!(response.status(), 200);
        let mut stream = SseReader::new(response);
        let (id, first) = stream
            .next_event(Duration::from_secs(5))
            .await
            .expect("state");
        assert_eq!(
            (id.as_str(), &first["status"]),
            ("1", &Value::from("pending"))
        );
        streams.push(stream);
    }
    assert_eq!(deliver(&hook, success(&task_id)).await, 200);
    for stream in &mut streams {
        let (id, data) = stream
            .next_event(Duration::from_secs(5))
            .await
            .expect("B's stream is woken by the webhook delivered to A");
        assert_eq!(id, "2");
        assert_eq!(data["status"], "succeeded");
        assert_eq!(data["result_url"], "https://cdn.example/r.jpg");
        assert_eq!(
            stream.next_event(Duration::from_secs(5)).await,
            None,
            "the stream ends after the terminal status"
        );
    }
    // A webhook may reach any instance: a second task submitted on B, delivered to A's URL.
    let answer = submit(&b.url, "faceswap").await;
    let second = answer["data"]["task_id"].as_str().expect("id").to_owned();
    let hook_on_b = fake.last().webhook().expect("hook");
    let token = hook_on_b.rsplit('/').next().expect("token");
    let hook_on_a = format!("{}/hooks/aifaceswap/{token}", a.url);
    assert_eq!(deliver(&hook_on_a, success(&second)).await, 200);
    assert_eq!(status_of(&b.url, &second).await, "succeeded");
    let logs = format!("{}{}", read_log(&log_a), read_log(&log_b));
    assert!(!logs.contains(" ERROR "), "{logs}");
}

/// Connections that work are not the per-client cap's business: 500 callbacks at once from one
/// provider address, each on its own connection, are all answered 2xx (a callback-only provider
/// may never send that result again), under the default limits and a 1,024 open-file limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_concurrent_callbacks_from_one_address_are_all_answered() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("callbacks.log");
    let port = free_port();
    let running = start_with_file_limit(1024, dir.path(), port, &fake, "info", &log, &[]).await;
    let answer = submit(&running.url, "faceswap").await;
    let task_id = answer["data"]["task_id"].as_str().expect("id").to_owned();
    let hook = fake.last().webhook().expect("hook");
    let path = hook.trim_start_matches(&running.url).to_owned();
    let body = serde_json::to_string(&success(&task_id)).expect("json");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // 500 at once, each sent as soon as its connection is open, as a provider sends it (a
    // connection that stays silent while its client has many waiting ones has only
    // CROWDED_HEADER_READ_TIMEOUT to speak: opening all 500 before writing any timed out on a
    // loaded machine, which is that rule at work, not a callback refused).
    let answers = futures_util::future::join_all((0..500).map(|_| {
        let request = request.clone();
        async move {
            let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
                return "connect failed".to_owned();
            };
            if stream.write_all(request.as_bytes()).await.is_err() {
                return "closed before the request".to_owned();
            }
            let mut answer = Vec::new();
            match tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
                .await
            {
                Ok(Ok(_)) => String::from_utf8_lossy(&answer)
                    .lines()
                    .next()
                    .unwrap_or("no answer")
                    .to_owned(),
                Ok(Err(err)) => format!("read failed: {err}"),
                Err(_) => "no answer in 30 s".to_owned(),
            }
        }
    }))
    .await;
    let answered = answers
        .iter()
        .filter(|line| line.starts_with("HTTP/1.1 200"))
        .count();
    let others: Vec<&String> = answers
        .iter()
        .filter(|line| !line.starts_with("HTTP/1.1 200"))
        .take(5)
        .collect();
    assert_eq!(answered, 500, "{others:?}");
    assert_eq!(status_of(&running.url, &task_id).await, "succeeded");
}

/// 2,000 event streams from one address (a carrier-grade NAT puts thousands of phones behind
/// one IPv4 address) each get their status event, with MAX_CONNECTIONS and the open-file limit
/// raised as docs/proxy.md says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_event_streams_from_one_address_each_get_their_status() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // This test process holds the 2,000 client sockets: its soft open-file limit is raised to
    // 8,192 when it is lower (within the hard limit).
    if soft_open_files().is_some_and(|soft| soft < 8192) {
        let _ = Command::new("prlimit")
            .args(["--pid", &std::process::id().to_string(), "--nofile=8192:"])
            .status();
    }
    let soft = soft_open_files();
    assert!(
        soft.is_some_and(|soft| soft >= 2100),
        "the test needs 2,100 open files (soft limit: {soft:?})"
    );
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("streams.log");
    let port = free_port();
    let running = start_with_file_limit(
        4096,
        dir.path(),
        port,
        &fake,
        "warn",
        &log,
        &[("MAX_CONNECTIONS", "3000"), ("SSE_KEEPALIVE_MS", "15000")],
    )
    .await;
    let answer = submit(&running.url, "faceswap").await;
    let task_id = answer["data"]["task_id"].as_str().expect("id").to_owned();
    let request = format!(
        "GET /api/aifaceswap/tasks/{task_id}/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n"
    );
    let streams = (0..2000).map(|_| {
        let request = request.clone();
        async move {
            let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .ok()?;
            stream.write_all(request.as_bytes()).await.ok()?;
            let mut seen = Vec::new();
            let mut buffer = [0u8; 2048];
            let found = tokio::time::timeout(Duration::from_secs(60), async {
                loop {
                    let read = stream.read(&mut buffer).await.ok()?;
                    if read == 0 {
                        return None;
                    }
                    seen.extend_from_slice(&buffer[..read]);
                    if String::from_utf8_lossy(&seen).contains("event: status") {
                        return Some(());
                    }
                }
            })
            .await
            .ok()
            .flatten();
            // Kept open until every stream has its event.
            found.map(|()| stream)
        }
    });
    let streams = futures_util::future::join_all(streams).await;
    let served = streams.iter().filter(|s| s.is_some()).count();
    assert_eq!(served, 2000, "streams that got their status event");
}

#[tokio::test]
async fn an_upload_dir_holding_the_database_stops_the_binary_naming_both() {
    // `UPLOAD_DIR=data` beside the default database, `data/faceswap.db`: refused at start.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("data")).expect("data");
    let output = Command::new(env!("CARGO_BIN_EXE_faceswap-proxy"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("UPLOAD_DIR", "data")
        .env("PORT", free_port().to_string())
        .env("AIFACESWAP_API_KEY", KEY)
        .env("AIFACESWAP_BASE_URL", "http://127.0.0.1:9")
        .stdin(Stdio::null())
        .output()
        .expect("run the proxy");
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(
        said.contains("UPLOAD_DIR") && said.contains("DATABASE_URL"),
        "{said}"
    );
    assert!(
        !dir.path().join("data/faceswap.db").exists(),
        "no database was opened in it"
    );
}
