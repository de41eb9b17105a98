//! What the open internet sends the proxy (issue 20), over real HTTP on loopback against a fake
//! provider: result URLs outside the URL rule, spending requests from other origins, over-long
//! URLs, and idempotency keys of another client.

mod common;

use common::*;
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr};

async fn error_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("error JSON");
    assert_eq!(body["code"], status);
    (status, body)
}

fn faceswap_url(proxy: &Proxy) -> String {
    format!("{}/api/aifaceswap/v1/faceswap", proxy.url)
}

/// The faceswap form with both images as URL text fields (what an HTML form can post).
fn url_form() -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("source_image", "https://img.example/a.jpg")
        .text("face_image", "https://img.example/b.jpg")
}

#[tokio::test]
async fn result_urls_outside_the_url_rule_never_reach_result_url() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let long = format!(
        "https://cdn.example/{}",
        "a".repeat(faceswap_core::url::MAX_URL_BYTES)
    );
    for bad in [
        "javascript:alert(document.domain)",
        "data:text/html,<script>alert(document.domain)</script>",
        long.as_str(),
    ] {
        let answer: Value = proxy
            .submit("faceswap", valid_body("faceswap"))
            .await
            .json()
            .await
            .expect("json");
        let task_id = answer["data"]["task_id"].as_str().expect("id").to_owned();
        let hook = fake.last().webhook().expect("hook");
        let callback = json!({"success": 1, "type": 1, "task_id": task_id, "result_image": bad});
        assert_eq!(deliver(&hook, callback).await, 200, "{bad:.40}");
        let task = proxy.task(&task_id).await;
        assert_eq!(task["status"], "failed", "{bad:.40}");
        assert!(task.get("result_url").is_none_or(Value::is_null), "{task}");
        assert!(!task.to_string().contains(&bad[..20]), "{task}");
        // The provider-neutral view says the same, and why.
        let view: Value = proxy
            .get(&format!("/api/aifaceswap/tasks/{task_id}"))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(view["status"], "failed");
        assert!(view.get("result_url").is_none_or(Value::is_null), "{view}");
        let error = view["error"].as_str().expect("a reason");
        assert!(error.contains("result_url"), "{error}");
    }
    // A good URL is stored as it came.
    let answer: Value = proxy
        .submit("faceswap", valid_body("faceswap"))
        .await
        .json()
        .await
        .expect("json");
    let task_id = answer["data"]["task_id"].as_str().expect("id").to_owned();
    let hook = fake.last().webhook().expect("hook");
    assert_eq!(deliver(&hook, success(&task_id)).await, 200);
    let task = proxy.task(&task_id).await;
    assert_eq!(task["status"], "succeeded");
    assert_eq!(task["result_url"], "https://cdn.example/r.jpg");
}

#[tokio::test]
async fn spending_requests_from_other_origins_are_refused_before_any_upstream_call() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &["--allowed-origins", "https://app.example"]).await;
    let body = valid_body("faceswap").to_string();

    // A text/plain submit (no preflight) from another site.
    let response = proxy
        .http
        .post(faceswap_url(&proxy))
        .header("origin", "https://evil.example")
        .header("content-type", "text/plain")
        .body(body.clone())
        .send()
        .await
        .expect("post");
    let (status, error) = error_of(response).await;
    assert_eq!((status, error["error"].as_str()), (403, Some("forbidden")));
    // An HTML form posting URL fields from another site.
    let response = proxy
        .http
        .post(faceswap_url(&proxy))
        .header("origin", "https://evil.example")
        .multipart(url_form())
        .send()
        .await
        .expect("post");
    assert_eq!(error_of(response).await.0, 403);
    // A browser that sends no Origin but says the request is cross-site.
    let response = proxy
        .http
        .post(faceswap_url(&proxy))
        .header("sec-fetch-site", "cross-site")
        .json(&valid_body("faceswap"))
        .send()
        .await
        .expect("post");
    assert_eq!(error_of(response).await.0, 403);
    // Uploads spend disk: the same rule.
    let response = proxy
        .http
        .post(format!("{}/api/uploads", proxy.url))
        .header("origin", "https://evil.example")
        .header("content-type", "image/png")
        .body(PNG)
        .send()
        .await
        .expect("upload");
    assert_eq!(error_of(response).await.0, 403);
    assert_eq!(fake.count(), 0, "nothing refused reached the provider");

    // JSON is only JSON when labelled so, whoever sends it.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("image/png"),
        None,
    ] {
        let mut request = proxy.http.post(faceswap_url(&proxy)).body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let (status, error) = error_of(request.send().await.expect("post")).await;
        assert_eq!(
            (status, error["error"].as_str()),
            (415, Some("unsupported_media_type")),
            "{content_type:?}"
        );
    }
    assert_eq!(fake.count(), 0);

    // The proxy's own origin, an allowed one, and no origin at all pass, JSON and forms alike.
    for origin in [Some(proxy.url.as_str()), Some("https://app.example"), None] {
        let with_origin = |request: reqwest::RequestBuilder| match origin {
            Some(origin) => request.header("origin", origin),
            None => request,
        };
        let response = with_origin(proxy.http.post(faceswap_url(&proxy)))
            .header("content-type", "application/json; charset=utf-8")
            .body(body.clone())
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), 200, "JSON from {origin:?}");
        let response = with_origin(proxy.http.post(faceswap_url(&proxy)))
            .multipart(url_form())
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), 200, "form from {origin:?}");
    }
    assert_eq!(fake.count(), 6);

    // Providers' callbacks are not browser requests: any Origin is fine there.
    let answer: Value = proxy
        .http
        .post(faceswap_url(&proxy))
        .json(&valid_body("faceswap"))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let task_id = answer["data"]["task_id"].as_str().expect("id").to_owned();
    let hook = fake.last().webhook().expect("hook");
    let delivered = proxy
        .http
        .post(&hook)
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .json(&success(&task_id))
        .send()
        .await
        .expect("hook");
    assert_eq!(delivered.status(), 200);
    assert_eq!(proxy.task(&task_id).await["status"], "succeeded");
}

#[tokio::test]
async fn over_long_urls_are_refused_with_their_field_in_json_and_forms() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let long = format!("https://img.example/{}", "a".repeat(64 * 1024));
    let mut body = valid_body("faceswap");
    body["source_image"] = json!(long);
    let (status, error) = error_of(proxy.submit("faceswap", body).await).await;
    assert_eq!(
        (status, error["error"].as_str(), error["field"].as_str()),
        (400, Some("invalid_parameter"), Some("source_image"))
    );
    let message = error["message"].as_str().expect("message").to_owned();
    assert!(message.contains("8192"), "{message}");
    // A form's URL field follows the same rule, with the same words.
    let form = reqwest::multipart::Form::new()
        .text("source_image", long)
        .text("face_image", "https://img.example/b.jpg");
    let response = proxy
        .http
        .post(faceswap_url(&proxy))
        .multipart(form)
        .send()
        .await
        .expect("post");
    let (status, error) = error_of(response).await;
    assert_eq!(
        (status, error["field"].as_str(), error["message"].as_str()),
        (400, Some("source_image"), Some(message.as_str()))
    );
    assert_eq!(fake.count(), 0);
}

#[tokio::test]
async fn an_idempotency_key_belongs_to_the_client_that_sent_it() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let client_from = |ip: Ipv4Addr| {
        reqwest::Client::builder()
            .local_address(IpAddr::V4(ip))
            .build()
            .expect("client")
    };
    let first_client = client_from(Ipv4Addr::new(127, 0, 0, 1));
    let second_client = client_from(Ipv4Addr::new(127, 0, 0, 2));
    let send = |http: &reqwest::Client, body: Value| {
        http.post(faceswap_url(&proxy))
            .header("idempotency-key", "shared-key")
            .json(&body)
            .send()
    };
    let first = send(&first_client, valid_body("faceswap"))
        .await
        .expect("post");
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.expect("json");
    let first_task = first["data"]["task_id"].as_str().expect("id").to_owned();
    assert_eq!(fake.count(), 1);

    // The same key and body from another client is that client's own submit.
    let second = send(&second_client, valid_body("faceswap"))
        .await
        .expect("post");
    assert_eq!(second.status(), 200);
    let second = second.text().await.expect("text");
    assert!(!second.contains(&first_task), "{second}");
    assert_eq!(fake.count(), 2);
    // Another body under that key is no conflict with the first client's either.
    let mut other = valid_body("faceswap");
    other["face_image"] = json!("https://img.example/other.jpg");
    let response = send(&second_client, other.clone()).await.expect("post");
    assert_eq!(response.status(), 422, "the second client's own key now");
    // The first client still gets its own answer back, and only it.
    let again: Value = send(&first_client, valid_body("faceswap"))
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(again, first);
    assert_eq!(fake.count(), 2);
}

/// A dev server in front of the proxy (Vite's `server.proxy`): with `changeOrigin: false` it
/// forwards the browser's `Origin: http://localhost:5173` and `Host: localhost:5173`, the page's
/// own origin, which passes with no setting; with `changeOrigin: true` the `Host` becomes the
/// proxy's and the refusal names the origin and `ALLOWED_ORIGINS`; a dev server on a name of the
/// local network gets a refusal naming `PUBLIC_URL` and `ALLOWED_HOSTS`.
#[tokio::test]
async fn a_dev_servers_proxy_works_on_loopback_and_refusals_name_the_setting() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let send = |host: &'static str| {
        proxy
            .http
            .post(faceswap_url(&proxy))
            .header("host", host)
            .header("origin", "http://localhost:5173")
            .json(&valid_body("faceswap"))
            .send()
    };
    let kept = send("localhost:5173").await.expect("submit");
    assert_eq!(kept.status(), 200, "changeOrigin: false");

    let port = proxy.url.rsplit(':').next().expect("a port");
    let rewritten = proxy
        .http
        .post(faceswap_url(&proxy))
        .header("host", format!("127.0.0.1:{port}"))
        .header("origin", "http://localhost:5173")
        .json(&valid_body("faceswap"))
        .send()
        .await
        .expect("submit");
    let (status, error) = error_of(rewritten).await;
    assert_eq!((status, error["error"].as_str()), (403, Some("forbidden")));
    assert_eq!(error["field"], "Origin");
    assert_eq!(
        error["message"],
        "requests from the origin \"http://localhost:5173\" may not use this proxy; add it to \
         ALLOWED_ORIGINS (comma separated)"
    );

    let (status, error) = error_of(send("devbox.lan:5173").await.expect("submit")).await;
    assert_eq!((status, error["field"].as_str()), (403, Some("Host")));
    assert_eq!(
        error["message"],
        "this proxy does not answer for the host \"devbox.lan\"; set PUBLIC_URL to the address \
         clients use, or add the host to ALLOWED_HOSTS"
    );
    assert_eq!(fake.count(), 1, "only the first reached the provider");
}

/// A page on a name its author points at the proxy's address (DNS rebinding) sends that name as
/// `Host` and its own origin as `Origin`: nothing is stored or forwarded, whatever the route.
#[tokio::test]
async fn a_host_the_operator_did_not_name_is_refused_before_anything_happens() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let port = proxy.url.rsplit(':').next().expect("a port").to_owned();
    let rebound = format!("rebind.example:{port}");
    let origin = format!("http://{rebound}");
    let uploads = proxy.dir.path().join("uploads");
    let files_before = std::fs::read_dir(&uploads).map_or(0, |dir| dir.count());

    let upload = proxy
        .http
        .post(format!("{}/api/uploads", proxy.url))
        .header("host", &rebound)
        .header("origin", &origin)
        .header("content-type", "image/png")
        .body(PNG)
        .send()
        .await
        .expect("upload");
    let (status, error) = error_of(upload).await;
    assert_eq!((status, error["error"].as_str()), (403, Some("forbidden")));
    assert_eq!(error["field"], "Host", "{error}");
    let submit = proxy
        .http
        .post(faceswap_url(&proxy))
        .header("host", &rebound)
        .header("origin", &origin)
        .json(&valid_body("faceswap"))
        .send()
        .await
        .expect("submit");
    let (status, error) = error_of(submit).await;
    assert_eq!((status, error["field"].as_str()), (403, Some("Host")));
    // Reading routes too: a rebound page reads nothing of the proxy.
    let config = proxy
        .http
        .get(format!("{}/api/config", proxy.url))
        .header("host", &rebound)
        .send()
        .await
        .expect("config");
    assert_eq!(config.status(), 403);
    assert_eq!(fake.count(), 0, "nothing reached the provider");
    let files_after = std::fs::read_dir(&uploads).map_or(0, |dir| dir.count());
    assert_eq!(files_before, files_after, "nothing was stored");

    // The proxy's own host, IP literals and localhost are answered; a listed name is too.
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let response = proxy
            .http
            .get(format!("{}/api/config", proxy.url))
            .header("host", &host)
            .send()
            .await
            .expect("config");
        assert_eq!(response.status(), 200, "{host}");
    }
    let listed = common::proxy(&fake, &["--allowed-hosts", "rebind.example"]).await;
    let port = listed.url.rsplit(':').next().expect("a port").to_owned();
    let response = listed
        .http
        .post(format!("{}/api/aifaceswap/v1/faceswap", listed.url))
        .header("host", format!("rebind.example:{port}"))
        .header("origin", format!("http://rebind.example:{port}"))
        .json(&valid_body("faceswap"))
        .send()
        .await
        .expect("submit");
    assert_eq!(response.status(), 200, "ALLOWED_HOSTS names it");
}

/// A callback without a valid token is answered before its body is read: a proxy does not wait
/// for (or store) a megabyte nobody asked for.
#[tokio::test]
async fn a_callback_token_is_checked_before_its_body_is_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let address = proxy.url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let head = format!(
        "POST /hooks/aifaceswap/{} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n",
        "A".repeat(43)
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    // The body never comes; the answer does.
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(3), stream.read(&mut answer))
        .await
        .expect("answered without waiting for the body")
        .expect("read");
    let text = String::from_utf8_lossy(&answer[..read]);
    assert!(text.starts_with("HTTP/1.1 404"), "{text}");
}

/// `/hooks` and `/uploads/{name}` count each client's requests too: generously (ten times the
/// API's rate, as one provider address calls back and fetches for many tasks), but not without
/// end.
#[tokio::test]
async fn hooks_and_upload_downloads_are_rate_limited_per_client() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &["--rate-limit-per-min", "2"]).await;
    let unknown_hook = format!("{}/hooks/aifaceswap/{}", proxy.url, "A".repeat(43));
    let mut statuses = Vec::new();
    for _ in 0..21 {
        let status = deliver(&unknown_hook, json!({"task_id": "x"})).await;
        statuses.push(status);
    }
    assert!(statuses[..20].iter().all(|s| *s == 404), "{statuses:?}");
    assert_eq!(statuses[20], 429, "{statuses:?}");

    let other = common::proxy(&fake, &["--rate-limit-per-min", "2"]).await;
    let download = format!("{}/uploads/{}.png", other.url, "b".repeat(32));
    let mut statuses = Vec::new();
    for _ in 0..21 {
        statuses.push(
            other
                .http
                .get(&download)
                .send()
                .await
                .expect("get")
                .status()
                .as_u16(),
        );
    }
    assert!(statuses[..20].iter().all(|s| *s == 404), "{statuses:?}");
    assert_eq!(statuses[20], 429, "{statuses:?}");
}
