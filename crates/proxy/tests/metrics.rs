//! The proxy's Prometheus metrics (`METRICS_ADDR`): tasks, upstream latency, spend, webhooks,
//! event streams, uploads and limit refusals are counted with fixed labels and no secret; the
//! scrape passes Debian's `promtool check metrics`; the binary serves them on their own listener
//! only (not on the public port), and a real Prometheus scrapes them.

mod common;

use common::*;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A Debian tool (`promtool`, `prometheus`) on PATH; a panic naming the set-up script if none.
fn debian_tool(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "no {name} on PATH: run `scripts/setup.sh --test`, which installs Debian's \
                 prometheus package"
            )
        })
}

/// `promtool check metrics` on `text`: its verdict and what it said.
fn promtool_check(text: &str) -> (bool, String) {
    let mut child = Command::new(debian_tool("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let output = child.wait_with_output().expect("promtool");
    let said = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), said)
}

/// The value of the sample `series` (name and labels exactly as rendered), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok())?
        })
}

async fn scrape(url: &str) -> String {
    let response = reqwest::get(format!("{url}/metrics"))
        .await
        .expect("scrape");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    response.text().await.expect("body")
}

#[tokio::test]
async fn the_proxy_counts_its_work_and_promtool_accepts_the_scrape() {
    let handle = faceswap_proxy::telemetry::install().expect("the recorder installs");
    let metrics_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind metrics");
    let metrics_url = format!("http://{}", metrics_listener.local_addr().expect("addr"));
    tokio::spawn(faceswap_proxy::telemetry::serve(
        metrics_listener,
        handle,
        std::future::pending(),
    ));
    let fake = Fake::start().await;
    let proxy = proxy(
        &fake,
        &["--rate-limit-per-min", "30", "--sse-keepalive-ms", "100"],
    )
    .await;

    // A task submitted, then finished by its webhook; a webhook with a made-up token.
    let answer: Value = proxy
        .submit("faceswap", valid_body("faceswap"))
        .await
        .json()
        .await
        .expect("answer");
    let task_id = answer["data"]["task_id"]
        .as_str()
        .expect("task id")
        .to_owned();
    let hook = fake.last().webhook().expect("webhook");
    let mut events = SseReader::new(
        proxy
            .get(&format!("/api/aifaceswap/tasks/{task_id}/events"))
            .await,
    );
    assert!(events.next_event(Duration::from_secs(5)).await.is_some());
    let open = scrape(&metrics_url).await;
    assert_eq!(
        sample(&open, "faceswap_event_streams_open"),
        Some(1.0),
        "{open}"
    );
    assert_eq!(deliver(&hook, success(&task_id)).await, 200);
    let forged = format!("{}/hooks/aifaceswap/{}", proxy.url, "A".repeat(43));
    assert_eq!(deliver(&forged, success(&task_id)).await, 404);
    // An upload stored.
    let uploaded = proxy
        .http
        .post(format!("{}/api/uploads", proxy.url))
        .header("content-type", "image/png")
        .body(PNG)
        .send()
        .await
        .expect("upload");
    assert_eq!(uploaded.status(), 200);
    // Past the rate: refused.
    let mut refused = false;
    for _ in 0..40 {
        if proxy.get("/api/config").await.status() == 429 {
            refused = true;
            break;
        }
    }
    assert!(refused, "the rate limit refuses");
    drop(events);

    let text = scrape(&metrics_url).await;
    let at_least = |series: &str, least: f64| {
        let value = sample(&text, series).unwrap_or_else(|| panic!("{series} in\n{text}"));
        assert!(value >= least, "{series} = {value}");
    };
    at_least(
        r#"faceswap_tasks_started_total{provider="aifaceswap"}"#,
        1.0,
    );
    at_least(
        r#"faceswap_tasks_finished_total{provider="aifaceswap",status="succeeded"}"#,
        1.0,
    );
    at_least(
        r#"faceswap_upstream_duration_seconds_count{provider="aifaceswap",operation="faceswap"}"#,
        1.0,
    );
    at_least(
        r#"faceswap_upstream_duration_seconds_bucket{provider="aifaceswap",operation="faceswap",le="+Inf"}"#,
        1.0,
    );
    at_least(
        r#"faceswap_spend_count{provider="aifaceswap",unit="credits"}"#,
        1.0,
    );
    at_least(
        r#"faceswap_spend_sum{provider="aifaceswap",unit="credits"}"#,
        1.0,
    );
    at_least(
        r#"faceswap_webhooks_total{provider="aifaceswap",outcome="accepted"}"#,
        1.0,
    );
    at_least(
        r#"faceswap_webhooks_total{provider="aifaceswap",outcome="refused"}"#,
        1.0,
    );
    at_least("faceswap_uploads_stored_total", 1.0);
    at_least(r#"faceswap_limit_refusals_total{kind="rate"}"#, 1.0);
    assert!(
        text.contains("# TYPE faceswap_upstream_duration_seconds histogram"),
        "{text}"
    );
    assert!(
        text.contains("# HELP faceswap_tasks_started_total"),
        "{text}"
    );
    // The stream closed: no longer counted (the server notices the closed connection).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = scrape(&metrics_url).await;
        if sample(&now, "faceswap_event_streams_open") == Some(0.0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the closed stream is still counted:\n{now}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Never a key, a token or a task id.
    let token = hook.rsplit('/').next().expect("token");
    for secret in [KEY, token, &task_id] {
        assert!(!text.contains(secret), "{secret} in the metrics");
    }
    let (ok, said) = promtool_check(&text);
    assert!(ok, "promtool check metrics: {said}\n{text}");
}

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A process killed when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `url` answers 200.
async fn until_up(url: &str, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = reqwest::get(url).await {
            if response.status() == 200 {
                return;
            }
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("{what} exited: {status}");
        }
        assert!(Instant::now() < deadline, "{what} did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn start_binary(dir: &Path, port: u16, metrics_port: u16) -> Child {
    let log = std::fs::File::create(dir.join("proxy.log")).expect("log");
    let child = Command::new(env!("CARGO_BIN_EXE_faceswap-proxy"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("METRICS_ADDR", format!("127.0.0.1:{metrics_port}"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("tasks.db").display()),
        )
        .env("UPLOAD_DIR", dir.join("uploads"))
        // One keyed provider (never called here): no sandbox to start.
        .env("AIFACESWAP_API_KEY", KEY)
        .env("AIFACESWAP_BASE_URL", "http://127.0.0.1:9")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start the proxy");
    Child(child)
}

#[tokio::test]
async fn the_binary_serves_metrics_on_their_own_port_and_prometheus_scrapes_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (port, metrics_port) = (free_port(), free_port());
    let mut proxy = start_binary(dir.path(), port, metrics_port);
    let url = format!("http://127.0.0.1:{port}");
    let metrics_url = format!("http://127.0.0.1:{metrics_port}");
    until_up(&format!("{url}/healthz"), &mut proxy, "the proxy").await;
    until_up(
        &format!("{metrics_url}/metrics"),
        &mut proxy,
        "the metrics listener",
    )
    .await;
    // Not on the public port.
    let public = reqwest::get(format!("{url}/metrics")).await.expect("get");
    assert_eq!(public.status(), 404);
    // Something to count.
    let uploaded = reqwest::Client::new()
        .post(format!("{url}/api/uploads"))
        .header("content-type", "image/png")
        .body(PNG)
        .send()
        .await
        .expect("upload");
    assert_eq!(uploaded.status(), 200);
    let text = scrape(&metrics_url).await;
    assert_eq!(
        sample(&text, "faceswap_uploads_stored_total"),
        Some(1.0),
        "{text}"
    );
    let (ok, said) = promtool_check(&text);
    assert!(ok, "promtool check metrics: {said}\n{text}");

    // A real Prometheus scrapes it every 200 ms.
    let prometheus_port = free_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 200ms\n  scrape_timeout: 150ms\nscrape_configs:\n  \
             - job_name: faceswap-proxy\n    static_configs:\n      - targets: \
             ['127.0.0.1:{metrics_port}']\n"
        ),
    )
    .expect("config");
    let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log");
    let mut prometheus = Child(
        Command::new(debian_tool("prometheus"))
            .current_dir(dir.path())
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prometheus_port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start prometheus"),
    );
    let api = format!("http://127.0.0.1:{prometheus_port}");
    until_up(&format!("{api}/-/ready"), &mut prometheus, "prometheus").await;
    let query = |expr: &'static str| {
        let api = api.clone();
        async move {
            let answer: Value = reqwest::Client::new()
                .get(format!("{api}/api/v1/query"))
                .query(&[("query", expr)])
                .send()
                .await
                .expect("query")
                .json()
                .await
                .expect("json");
            answer["data"]["result"][0]["value"][1]
                .as_str()
                .map(str::to_owned)
        }
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let up = query(r#"up{job="faceswap-proxy"}"#).await;
        let stored = query("faceswap_uploads_stored_total").await;
        if up.as_deref() == Some("1") && stored.as_deref() == Some("1") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus did not scrape the proxy: up = {up:?}, uploads = {stored:?}; its log:\n{}",
            std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
