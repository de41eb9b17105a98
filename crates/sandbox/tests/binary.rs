//! The `faceswap-sandbox` binary runs alone, configured by its environment variables.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn the_binary_serves_with_its_environment_settings() {
    let data_dir =
        std::env::temp_dir().join(format!("faceswap-sandbox-bin-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_faceswap-sandbox"))
        .env("SANDBOX_HOST", "127.0.0.1")
        .env("SANDBOX_PORT", "0")
        .env("SANDBOX_API_KEY", "bin-key")
        .env("SANDBOX_DATA_DIR", &data_dir)
        .env("RUST_LOG", "faceswap_sandbox=info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The log line "sandbox provider listening base_url=http://127.0.0.1:PORT" names the port.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find("base_url=http://") {
                let url = line[at + 9..]
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                let _ = tx.send(url);
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let base_url = loop {
        if let Ok(url) = rx.recv_timeout(Duration::from_millis(100)) {
            break url;
        }
        assert!(
            Instant::now() < deadline,
            "the binary did not report its address"
        );
    };
    let health = reqwest::get(format!("{base_url}/healthz")).await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let client = reqwest::Client::new();
    let url = format!("{base_url}/api/aifaceswap/v1/extract_base64_face");
    let wrong = client
        .post(&url)
        .bearer_auth("nope")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let right = client
        .post(&url)
        .bearer_auth("bin-key")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status().as_u16(), 400);
    let body: serde_json::Value = right.json().await.unwrap();
    assert_eq!(body["extra_data"]["field"], "base64_img");
    child.kill().unwrap();
    child.wait().unwrap();
}
