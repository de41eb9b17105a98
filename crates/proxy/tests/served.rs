//! Only the providers the operator chose are served (`PROVIDERS`, `SANDBOX`, the keys): a
//! provider that is not served answers its routes with 404 `not_found` naming it and reaches no
//! upstream, `/api/config` lists only the served ones with their modes, and the binary refuses to
//! start with nothing to serve or an unknown provider, naming the setting.

mod common;

use common::*;
use serde_json::{json, Value};
use std::process::{Command, Stdio};

async fn not_found_naming(response: reqwest::Response, provider: &str) {
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("error JSON");
    assert_eq!(body["code"], 404);
    assert_eq!(body["error"], "not_found");
    let message = body["message"].as_str().expect("message");
    assert!(
        message.contains(provider) && message.contains("not served"),
        "{message}"
    );
}

#[tokio::test]
async fn a_provider_left_out_of_providers_answers_404_and_reaches_no_upstream() {
    let fake = Fake::start().await;
    // Every provider has an upstream (the fake); PROVIDERS keeps two.
    let proxy = proxy(&fake, &["--providers", "piapi,acedata"]).await;
    let config: Value = proxy.get("/api/config").await.json().await.expect("config");
    let served: Vec<(&str, &str)> = config["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().expect("id"),
                p["mode"].as_str().expect("mode"),
            )
        })
        .collect();
    assert_eq!(served, [("piapi", "sandbox"), ("acedata", "sandbox")]);

    for path in [
        "/api/aifaceswap/v1/faceswap",
        "/api/aiphotocraft/api/face-swap",
    ] {
        let response = proxy
            .http
            .post(format!("{}{path}", proxy.url))
            .json(&valid_body("faceswap"))
            .send()
            .await
            .expect("submit");
        let provider = path.split('/').nth(2).expect("id");
        not_found_naming(response, provider).await;
    }
    not_found_naming(proxy.get("/api/aifaceswap/tasks/t-1").await, "aifaceswap").await;
    not_found_naming(
        proxy.get("/api/aifaceswap/tasks/t-1/events").await,
        "aifaceswap",
    )
    .await;
    // The first version's task routes are aifaceswap's.
    not_found_naming(proxy.get("/api/tasks/t-1").await, "aifaceswap").await;
    let hook = proxy
        .http
        .post(format!("{}/hooks/aifaceswap/{}", proxy.url, "a".repeat(43)))
        .json(&json!({ "task_id": "t-1" }))
        .send()
        .await
        .expect("hook");
    assert_eq!(hook.status(), 404);
    // A served provider's unknown route is still just an unknown route.
    let unknown: Value = proxy
        .get("/api/piapi/no-such-route")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(unknown["message"], "no such API route");
    assert_eq!(fake.count(), 0, "nothing reached an upstream");
}

#[tokio::test]
async fn a_keyed_provider_is_live_and_the_only_one_served_without_the_sandbox() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &["--providers", "aifaceswap"]).await;
    let config: Value = proxy.get("/api/config").await.json().await.expect("config");
    assert_eq!(config["mode"], "provider");
    assert_eq!(config["providers"].as_array().expect("list").len(), 1);
    assert_eq!(config["providers"][0]["id"], "aifaceswap");
    assert_eq!(config["providers"][0]["mode"], "live");
    let response = proxy.submit("faceswap", valid_body("faceswap")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(fake.count(), 1);
}

/// Runs the binary until it stops, with only `env` (and `PATH`); what it said.
fn run_binary(env: &[(&str, &str)]) -> (bool, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = Command::new(env!("CARGO_BIN_EXE_faceswap-proxy"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PORT", "0")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run the proxy");
    let said = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    (output.status.success(), said)
}

#[test]
fn the_binary_refuses_to_start_with_nothing_to_serve() {
    let (ok, said) = run_binary(&[]);
    assert!(!ok, "{said}");
    assert!(
        said.contains("no provider to serve")
            && said.contains("AIFACESWAP_API_KEY")
            && said.contains("SANDBOX=on"),
        "{said}"
    );
}

#[test]
fn the_binary_refuses_an_unknown_provider_naming_providers() {
    let (ok, said) = run_binary(&[("PROVIDERS", "piapi,faceswapper"), ("SANDBOX", "on")]);
    assert!(!ok, "{said}");
    assert!(
        said.contains("PROVIDERS") && said.contains("faceswapper"),
        "{said}"
    );
    let (ok, said) = run_binary(&[("PROVIDERS", "piapi")]);
    assert!(!ok, "{said}");
    assert!(said.contains("PIAPI_API_KEY"), "{said}");
}
