//! The app's users (`AUTH_HS256_SECRET`, `AUTH_JWKS_URL`, `AUTH_AUDIENCE`): submits and uploads
//! need a valid bearer token, checked before anything is read, spent or sent upstream; budgets
//! and idempotency keys belong to its `sub`, so two users behind one address are apart.

mod common;

use axum::routing::get;
use axum::Router;
use common::{proxy, valid_body, Fake, Proxy};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

const SECRET: &str = "the-app-signs-its-users-tokens";

fn now() -> i64 {
    faceswap_proxy::routes::now_ms() / 1000
}

/// A token of `sub` signed with `secret` (HS256), for `aud`, expiring `exp_in` seconds from now.
fn token(secret: &str, sub: &str, aud: &str, exp_in: i64) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": sub, "aud": aud, "exp": now() + exp_in}),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("token")
}

/// A submit with these headers; (status, body).
async fn submit(proxy: &Proxy, headers: &[(&str, &str)]) -> (u16, Value) {
    let request = headers.iter().fold(
        proxy
            .http
            .post(format!("{}/api/aifaceswap/v1/faceswap", proxy.url)),
        |request, (name, value)| request.header(*name, *value),
    );
    let answer = request
        .json(&valid_body("faceswap"))
        .send()
        .await
        .expect("submit");
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn two_users_behind_one_address_have_budgets_of_their_own() {
    let fake = Fake::start().await;
    let proxy = proxy(
        &fake,
        &[
            "--auth-hs256-secret",
            SECRET,
            "--auth-audience",
            "faceswap-app",
            "--spend-cap-credits-per-hour",
            "4",
        ],
    )
    .await;
    let alice = bearer(&token(SECRET, "alice", "faceswap-app", 600));
    let bob = bearer(&token(SECRET, "bob", "faceswap-app", 600));
    // Alice spends her hour.
    let mut accepted = 0;
    loop {
        let (status, body) = submit(&proxy, &[("authorization", &alice)]).await;
        if status == 429 {
            assert_eq!(body["error"], "spend_cap_exceeded", "{body}");
            break;
        }
        assert_eq!(status, 200, "{body}");
        accepted += 1;
        assert!(accepted < 10, "the cap never refused");
    }
    assert!(accepted >= 1);
    let calls = fake.count();
    // Bob, from the same address, still has his.
    let (status, body) = submit(&proxy, &[("authorization", &bob)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(fake.count(), calls + 1);
}

#[tokio::test]
async fn an_idempotency_key_belongs_to_its_user() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &["--auth-hs256-secret", SECRET]).await;
    let alice = bearer(&token(SECRET, "alice", "any", 600));
    let bob = bearer(&token(SECRET, "bob", "any", 600));
    let key = ("idempotency-key", "one-key");
    let (status, first) = submit(&proxy, &[("authorization", &alice), key]).await;
    assert_eq!(status, 200, "{first}");
    let (_, replay) = submit(&proxy, &[("authorization", &alice), key]).await;
    assert_eq!(
        replay, first,
        "alice's retry is answered from her first answer"
    );
    assert_eq!(fake.count(), 1);
    let (status, other) = submit(&proxy, &[("authorization", &bob), key]).await;
    assert_eq!(status, 200);
    assert_ne!(other["data"]["task_id"], first["data"]["task_id"]);
    assert_eq!(fake.count(), 2, "bob's key is his own");
}

#[tokio::test]
async fn without_a_valid_token_nothing_is_read_spent_or_sent() {
    let fake = Fake::start().await;
    let proxy = proxy(
        &fake,
        &[
            "--auth-hs256-secret",
            SECRET,
            "--auth-audience",
            "faceswap-app",
        ],
    )
    .await;
    use base64::Engine;
    let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let claims = json!({"sub": "mallory", "aud": "faceswap-app", "exp": now() + 600}).to_string();
    let unsigned = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(&claims));
    let refused = [
        None,
        Some("Basic bWFsbG9yeTpwdw==".to_owned()),
        Some(bearer("not-a-jwt")),
        Some(bearer(&unsigned)),
        Some(bearer(&token(SECRET, "mallory", "faceswap-app", -3600))),
        Some(bearer(&token(
            "a-guessed-secret",
            "mallory",
            "faceswap-app",
            600,
        ))),
        Some(bearer(&token(SECRET, "mallory", "another-app", 600))),
    ];
    for authorization in &refused {
        let headers: Vec<(&str, &str)> = authorization
            .iter()
            .map(|value| ("authorization", value.as_str()))
            .collect();
        let (status, body) = submit(&proxy, &headers).await;
        assert_eq!(status, 401, "{authorization:?}: {body}");
        assert_eq!(body["error"], "unauthorized");
        let message = body["message"].as_str().expect("message");
        if let Some(value) = authorization {
            assert!(
                !message.contains(value.trim_start_matches("Bearer ")),
                "{message}"
            );
        }
        let upload = proxy
            .http
            .post(format!("{}/api/uploads", proxy.url))
            .header("content-type", "image/png")
            .body(common::PNG.to_vec());
        let upload = match authorization {
            Some(value) => upload.header("authorization", value),
            None => upload,
        };
        let upload = upload.send().await.expect("upload");
        assert_eq!(upload.status(), 401, "{authorization:?}");
    }
    assert_eq!(fake.count(), 0, "no upstream call");
    assert!(
        std::fs::read_dir(proxy.dir.path().join("uploads"))
            .expect("uploads")
            .filter_map(Result::ok)
            .all(|entry| entry.file_type().is_ok_and(|t| t.is_dir())),
        "nothing stored"
    );
    // The task routes stay open: a browser's event stream cannot send a header.
    assert_eq!(
        proxy.get("/api/aifaceswap/tasks/unknown").await.status(),
        404
    );
}

#[tokio::test]
async fn tokens_are_checked_against_the_keys_of_auth_jwks_url() {
    use base64::Engine;
    let key = b"a-key-published-in-the-jwk-set";
    let jwks = json!({"keys": [{
        "kty": "oct",
        "kid": "k1",
        "alg": "HS256",
        "k": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key),
    }]});
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let jwks_url = format!("http://{}/jwks.json", listener.local_addr().expect("addr"));
    let router = Router::new().route(
        "/jwks.json",
        get(move || {
            let jwks = jwks.clone();
            async move { axum::Json(jwks) }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &["--auth-jwks-url", &jwks_url]).await;
    let signed = |kid: &str, secret: &[u8]| {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        encode(
            &header,
            &json!({"sub": "carol", "exp": now() + 600}),
            &EncodingKey::from_secret(secret),
        )
        .expect("token")
    };
    let (status, body) = submit(&proxy, &[("authorization", &bearer(&signed("k1", key)))]).await;
    assert_eq!(status, 200, "{body}");
    for token in [signed("k2", key), signed("k1", b"another key")] {
        let (status, body) = submit(&proxy, &[("authorization", &bearer(&token))]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unauthorized")),
            "{body}"
        );
    }
    assert_eq!(fake.count(), 1);
}

#[tokio::test]
async fn a_task_belongs_to_its_user_and_another_users_token_does_not_find_it() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &["--auth-hs256-secret", SECRET]).await;
    let alice = bearer(&token(SECRET, "alice", "any", 600));
    let bob = bearer(&token(SECRET, "bob", "any", 600));
    let (status, body) = submit(&proxy, &[("authorization", &alice)]).await;
    assert_eq!(status, 200, "{body}");
    let task_id = body["data"]["task_id"].as_str().expect("task").to_owned();
    let read = |path: String, authorization: Option<String>| {
        let request = proxy.http.get(format!("{}{path}", proxy.url));
        let request = match authorization {
            Some(value) => request.header("authorization", value),
            None => request,
        };
        async move { request.send().await.expect("read").status().as_u16() }
    };
    for path in [
        format!("/api/aifaceswap/tasks/{task_id}"),
        format!("/api/tasks/{task_id}"),
    ] {
        assert_eq!(read(path.clone(), Some(alice.clone())).await, 200, "{path}");
        assert_eq!(read(path.clone(), Some(bob.clone())).await, 404, "{path}");
        assert_eq!(
            read(path.clone(), Some(bearer("forged"))).await,
            401,
            "{path}"
        );
        // A browser's event stream sends no header: reads without one stay open.
        assert_eq!(read(path.clone(), None).await, 200, "{path}");
    }
    let events = format!("/api/aifaceswap/tasks/{task_id}/events");
    assert_eq!(read(events, Some(bob.clone())).await, 404);
}
