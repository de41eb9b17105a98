//! `LOG_FORMAT=json`: the binary writes one JSON object per line, each event with the fields of
//! the request span it happened in (method, path, client), and no key or callback token.

mod common;

use common::{KEY, PNG};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_with_the_request_span() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let log_file = dir.path().join("proxy.log");
    let log = std::fs::File::create(&log_file).expect("log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_faceswap-proxy"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info,tower_http=debug")
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("tasks.db").display()),
        )
        .env("UPLOAD_DIR", dir.path().join("uploads"))
        // One keyed provider (never called here): no sandbox to start.
        .env("AIFACESWAP_API_KEY", KEY)
        .env("AIFACESWAP_BASE_URL", "http://127.0.0.1:9")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start the proxy");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = reqwest::get(format!("{url}/healthz")).await {
            if response.status() == 200 {
                break;
            }
        }
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the proxy exited: {}",
            std::fs::read_to_string(&log_file).unwrap_or_default()
        );
        assert!(Instant::now() < deadline, "the proxy did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let http = reqwest::Client::new();
    let uploaded = http
        .post(format!("{url}/api/uploads"))
        .header("content-type", "image/png")
        .body(PNG)
        .send()
        .await
        .expect("upload");
    assert_eq!(uploaded.status(), 200);
    let token = "T".repeat(43);
    let hook = http
        .post(format!("{url}/hooks/aifaceswap/{token}"))
        .json(&serde_json::json!({ "task_id": "t-1" }))
        .send()
        .await
        .expect("hook");
    assert_eq!(hook.status(), 404);
    let _ = child.kill();
    let _ = child.wait();

    let text = std::fs::read_to_string(&log_file).expect("log");
    let lines: Vec<Value> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"))
        })
        .collect();
    assert!(lines.len() >= 3, "{text}");
    assert!(lines
        .iter()
        .all(|line| line["level"].is_string() && line["timestamp"].is_string()));
    let stored = lines
        .iter()
        .find(|line| line["message"] == "upload stored")
        .unwrap_or_else(|| panic!("no upload line in\n{text}"));
    assert_eq!(stored["span"]["name"], "request", "{stored}");
    assert_eq!(stored["span"]["method"], "POST", "{stored}");
    assert_eq!(stored["span"]["path"], "/api/uploads", "{stored}");
    assert_eq!(stored["span"]["client"], "127.0.0.1", "{stored}");
    assert!(stored["size"].is_number(), "{stored}");
    let hook_line = lines
        .iter()
        .find(|line| line["span"]["path"] == "/hooks/aifaceswap/[redacted]")
        .unwrap_or_else(|| panic!("no callback request line in\n{text}"));
    assert_eq!(hook_line["span"]["method"], "POST");
    for secret in [KEY, token.as_str()] {
        assert!(!text.contains(secret), "{secret} in the logs:\n{text}");
    }
}
