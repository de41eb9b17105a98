//! Benchmark of waiting browsers: starts a fake provider and the proxy binary, submits tasks,
//! opens many SSE streams on them, reports the proxy's resident memory, then delivers webhooks and
//! reports the delay from webhook POST to the event arriving on the streams.
//!
//! `cargo run --release -p faceswap-proxy --example sse_bench -- PROXY_BIN [STREAMS] [WEBHOOKS]`
//! Loopback only; bounded in count and time.

#![allow(clippy::print_stdout)] // A benchmark report is printed.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
struct Fake {
    hooks: Arc<Mutex<Vec<(String, String)>>>,
    counter: Arc<AtomicU64>,
}

async fn fake_submit(State(fake): State<Fake>, Json(body): Json<Value>) -> Json<Value> {
    let n = fake.counter.fetch_add(1, Ordering::Relaxed);
    let task_id = format!("bench-task-{n}");
    if let Some(hook) = body.get("webhook").and_then(Value::as_str) {
        if let Ok(mut hooks) = fake.hooks.lock() {
            hooks.push((task_id.clone(), hook.to_owned()));
        }
    }
    Json(json!({"code": 200, "data": {"task_id": task_id, "points": 2}, "message": "OK"}))
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let proxy_bin = args
        .get(1)
        .ok_or("usage: sse_bench PROXY_BIN [STREAMS] [WEBHOOKS]")?;
    let streams: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let webhooks: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1_000);
    let per_task = streams.div_ceil(webhooks).max(1);

    let fake = Fake::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let fake_url = format!("http://{}", listener.local_addr()?);
    let router = Router::new()
        .route("/api/aifaceswap/v1/{op}", post(fake_submit))
        .with_state(fake.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });

    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(proxy_bin)
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("PUBLIC_URL", &url)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/bench.db", dir.path().display()),
        )
        .env("UPLOAD_DIR", dir.path().join("uploads"))
        .env("AIFACESWAP_BASE_URL", &fake_url)
        .env("AIFACESWAP_API_KEY", "bench-key")
        .env("RATE_LIMIT_PER_MIN", "100000000")
        .env("SPEND_CAP_CREDITS_PER_HOUR", "100000000")
        // Every stream comes from this one address, over the default per-client cap.
        .env("MAX_CONNECTIONS", (streams + 1024).to_string())
        .env("MAX_CONNECTIONS_PER_CLIENT", (streams + 1024).to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()?;
    let pid = child.id();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let started = Instant::now();
    while reqwest::get(format!("{url}/healthz")).await.is_err() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            return Err("the proxy did not start".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let idle_rss = rss_mib(pid);

    // Tasks.
    let submit_client = reqwest::Client::new();
    for _ in 0..webhooks {
        let response = submit_client
            .post(format!("{url}/api/aifaceswap/v1/faceswap"))
            .json(&json!({"source_image": "https://img.example/a.jpg", "face_image": "https://img.example/b.jpg"}))
            .send()
            .await?;
        if !response.status().is_success() {
            let _ = child.kill();
            return Err(format!("submit failed: {}", response.status()).into());
        }
    }
    let hooks = fake.hooks.lock().map(|h| h.clone()).unwrap_or_default();

    // Streams: each records when it saw the terminal event.
    let connected = Arc::new(AtomicUsize::new(0));
    let received: Arc<Mutex<Vec<(usize, Instant)>>> = Arc::default();
    let mut readers = Vec::with_capacity(streams);
    for i in 0..streams {
        let task = i % hooks.len();
        let (task_id, _) = hooks[task].clone();
        let http = http.clone();
        let url = url.clone();
        let connected = Arc::clone(&connected);
        let received = Arc::clone(&received);
        readers.push(tokio::spawn(async move {
            let Ok(mut response) = http
                .get(format!("{url}/api/tasks/{task_id}/events"))
                .send()
                .await
            else {
                return;
            };
            let mut first = true;
            let mut buffer = String::new();
            while let Ok(Some(chunk)) = response.chunk().await {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                if first && buffer.contains("\"pending\"") {
                    first = false;
                    connected.fetch_add(1, Ordering::Relaxed);
                }
                if buffer.contains("\"succeeded\"") {
                    if let Ok(mut r) = received.lock() {
                        r.push((task, Instant::now()));
                    }
                    return;
                }
            }
        }));
        if i % 500 == 499 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let wait_start = Instant::now();
    while connected.load(Ordering::Relaxed) < streams
        && wait_start.elapsed() < Duration::from_secs(120)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let open = connected.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss = rss_mib(pid);

    // Webhooks, paced: 1,000 over about 2 s.
    let sent: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; hooks.len()]));
    let hook_client = reqwest::Client::new();
    let mut posts = Vec::new();
    for (i, (task_id, hook)) in hooks.iter().enumerate() {
        let (task_id, hook, sent, client) = (
            task_id.clone(),
            hook.clone(),
            Arc::clone(&sent),
            hook_client.clone(),
        );
        posts.push(tokio::spawn(async move {
            if let Ok(mut s) = sent.lock() {
                s[i] = Some(Instant::now());
            }
            let _ = client
                .post(&hook)
                .json(&json!({"success": 1, "type": 1, "task_id": task_id, "result_image": "https://cdn.example/r.jpg"}))
                .send()
                .await;
        }));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    for p in posts {
        let _ = p.await;
    }
    let end = Instant::now() + Duration::from_secs(30);
    while received.lock().map(|r| r.len()).unwrap_or(0) < open && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sent = sent.lock().map(|s| s.clone()).unwrap_or_default();
    let mut latencies: Vec<f64> = received
        .lock()
        .map(|r| {
            r.iter()
                .filter_map(|(task, at)| {
                    sent[*task].map(|t0| at.saturating_duration_since(t0).as_secs_f64() * 1000.0)
                })
                .collect()
        })
        .unwrap_or_default();
    latencies.sort_by(|a, b| a.total_cmp(b));
    let _ = child.kill();
    let _ = child.wait();
    for r in readers {
        r.abort();
    }

    println!(
        "sse streams open:            {open} / {streams} ({per_task} per task, {} tasks)",
        hooks.len()
    );
    println!("proxy RSS idle:              {idle_rss:.1} MiB");
    println!("proxy RSS with streams open: {rss:.1} MiB  (target < 300 MiB)");
    println!("events received:             {} / {open}", latencies.len());
    println!(
        "webhook POST -> event (ms):  p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}  (target p99 < 50 ms)",
        percentile(&latencies, 50.0),
        percentile(&latencies, 90.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    Ok(())
}
