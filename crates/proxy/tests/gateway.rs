//! The gateway's direct path for JSON submits answers exactly as the router does: the same
//! requests are sent to the gateway (as the binary serves it) and to the bare router over the same
//! state, and the answers are compared: status, every header but `Date`, and the body.

mod common;

use common::{proxy, Behaviour, Fake, Proxy};
use faceswap_proxy::app;
use serde_json::{json, Value};
use std::net::SocketAddr;

/// The router alone (no gateway), served over `proxy`'s state on its own port.
async fn bare_router(proxy: &Proxy) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind router");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let router = app(proxy.state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    url
}

/// An answer, with what differs between two sends of the same request left out: the `Date`
/// header, and the provider's fresh task id.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

/// One request: a path, extra headers, and a raw body.
struct Send<'a> {
    path: &'a str,
    headers: &'a [(&'a str, &'a str)],
    body: Vec<u8>,
}

async fn send(http: &reqwest::Client, base: &str, request: &Send<'_>) -> Answer {
    let mut builder = http
        .post(format!("{base}{}", request.path))
        .header("content-type", "application/json")
        .body(request.body.clone());
    for (name, value) in request.headers {
        builder = builder.header(*name, *value);
    }
    let response = builder.send().await.expect("answer");
    let status = response.status().as_u16();
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| name.as_str() != "date")
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().expect("text header").to_owned(),
            )
        })
        .collect();
    headers.sort();
    let bytes = response.bytes().await.expect("body");
    let mut body: Value = serde_json::from_slice(&bytes).unwrap_or_else(|err| {
        panic!(
            "{base}{}: {status} {headers:?} is not JSON ({err}): {:?}",
            request.path,
            String::from_utf8_lossy(&bytes)
        )
    });
    if let Some(data) = body.get_mut("data").and_then(Value::as_object_mut) {
        if data.contains_key("task_id") {
            data.insert("task_id".into(), json!("[task id]"));
        }
    }
    Answer {
        status,
        headers,
        body,
    }
}

/// Sends `request` through the gateway and then through the router; both answers must be equal.
async fn same_answer(proxy: &Proxy, router: &str, request: Send<'_>) -> Answer {
    let direct = send(&proxy.http, &proxy.url, &request).await;
    let routed = send(&proxy.http, router, &request).await;
    assert_eq!(direct, routed, "gateway vs router for {}", request.path);
    direct
}

fn json_body(value: Value) -> Vec<u8> {
    serde_json::to_vec(&value).expect("json")
}

const ORIGIN: (&str, &str) = ("origin", "https://app.example");

#[tokio::test]
async fn json_submits_are_answered_as_the_router_answers_them() {
    let fake = Fake::start().await;
    let proxy = proxy(
        &fake,
        &[
            "--allowed-origins",
            "https://app.example",
            "--json-max-bytes",
            "1000",
            "--upload-max-bytes",
            "1000",
        ],
    )
    .await;
    let router = bare_router(&proxy).await;
    let face = json_body(json!({"img": "https://img.example/a.jpg"}));
    let extract = "/api/aifaceswap/v1/extract_face";

    // Answers, with an allowed origin, another origin and none.
    for headers in [
        &[ORIGIN][..],
        &[("origin", "https://evil.example")][..],
        &[][..],
    ] {
        let answer = same_answer(
            &proxy,
            &router,
            Send {
                path: extract,
                headers,
                body: face.clone(),
            },
        )
        .await;
        assert_eq!(answer.status, 200);
        let allowed = answer
            .headers
            .iter()
            .any(|(name, _)| name == "access-control-allow-origin");
        assert_eq!(allowed, headers == [ORIGIN], "{headers:?}");
        assert!(answer.headers.iter().any(|(name, _)| name == "vary"));
    }

    // A task operation: the webhook and the task id are the proxy's own, every time.
    let answer = same_answer(
        &proxy,
        &router,
        Send {
            path: "/api/aifaceswap/v1/faceswap",
            headers: &[ORIGIN],
            body: json_body(json!({
                "source_image": "https://img.example/a.jpg",
                "face_image": "https://img.example/b.jpg",
            })),
        },
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["data"]["task_id"], "[task id]");

    // Bad input: a field, a malformed body, a body over the JSON limit, a body over the global
    // limit (refused before it is read).
    for (body, status, field) in [
        (json_body(json!({"img": "not a url"})), 400, Some("img")),
        (b"{\"img\":".to_vec(), 400, None),
        (json_body(json!({"img": "x".repeat(2000)})), 413, None),
        (vec![b' '; 1_100_000], 413, None),
    ] {
        let answer = same_answer(
            &proxy,
            &router,
            Send {
                path: extract,
                headers: &[ORIGIN],
                body,
            },
        )
        .await;
        assert_eq!(answer.status, status, "{:?}", answer.body);
        if let Some(field) = field {
            assert_eq!(answer.body["field"], field);
        }
    }

    // Provider faults.
    fake.set(Behaviour::Status(429, Some("7")));
    let limited = same_answer(
        &proxy,
        &router,
        Send {
            path: extract,
            headers: &[ORIGIN],
            body: face.clone(),
        },
    )
    .await;
    assert_eq!(limited.status, 429);
    assert!(limited
        .headers
        .contains(&("retry-after".to_owned(), "7".to_owned())));
    fake.set(Behaviour::Status(503, None));
    let unavailable = same_answer(
        &proxy,
        &router,
        Send {
            path: extract,
            headers: &[],
            body: face.clone(),
        },
    )
    .await;
    assert!(unavailable.status >= 500, "{unavailable:?}");
    fake.set(Behaviour::Normal);

    // An idempotent submit made through the gateway is replayed identically by the router, and
    // a reused key with another body is refused the same way.
    let key = [("idempotency-key", "gateway-key-0001"), ORIGIN];
    let answer = same_answer(
        &proxy,
        &router,
        Send {
            path: extract,
            headers: &key,
            body: face.clone(),
        },
    )
    .await;
    assert_eq!(answer.status, 200);
    let calls = fake.count();
    let conflict = same_answer(
        &proxy,
        &router,
        Send {
            path: extract,
            headers: &key,
            body: json_body(json!({"img": "https://img.example/other.jpg"})),
        },
    )
    .await;
    assert_eq!(conflict.status, 422);
    assert_eq!(conflict.body["error"], "idempotency_conflict");
    assert_eq!(
        fake.count(),
        calls,
        "neither a replay nor a conflict calls the provider"
    );
}

#[tokio::test]
async fn the_rate_limit_is_one_budget_for_both_paths() {
    let fake = Fake::start().await;
    let proxy = proxy(
        &fake,
        &[
            "--rate-limit-per-min",
            "2",
            "--allowed-origins",
            "https://app.example",
        ],
    )
    .await;
    let router = bare_router(&proxy).await;
    let request = || Send {
        path: "/api/aifaceswap/v1/extract_face",
        headers: &[ORIGIN],
        body: json_body(json!({"img": "https://img.example/a.jpg"})),
    };
    // One admitted through each.
    assert_eq!(send(&proxy.http, &proxy.url, &request()).await.status, 200);
    assert_eq!(send(&proxy.http, &router, &request()).await.status, 200);
    let mut refused = Vec::new();
    for base in [&proxy.url, &router] {
        let mut answer = send(&proxy.http, base, &request()).await;
        // The wait is counted in seconds from now, so it can differ by one between the two.
        for (name, value) in &mut answer.headers {
            if name == "retry-after" {
                assert!(value.parse::<u64>().expect("seconds") >= 1);
                value.clear();
            }
        }
        answer.body["message"] = Value::Null;
        refused.push(answer);
    }
    assert_eq!(refused[0].status, 429);
    assert_eq!(refused[0].body["error"], "rate_limited");
    assert_eq!(refused[0], refused[1]);
    assert_eq!(fake.count(), 2, "refused requests cost nothing upstream");
}
