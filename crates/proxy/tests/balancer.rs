//! Several proxies behind a load balancer: Debian's nginx round-robin in front of two proxy
//! binaries on one PostgreSQL database, each with its own `UPLOAD_DIR` ([`common::balancer`]).
//! An upload made through the balancer is served by both proxies, a video seeks with range
//! requests on both, a webhook reaching either proxy wakes a stream held by the other, and two
//! clients (connecting from their own loopback addresses, nginx the one trusted peer) have
//! budgets of their own, each held across both proxies, whatever `X-Forwarded-For` they forge.

mod common;

use common::balancer::Balancer;
use common::*;
use serde_json::Value;
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

/// Uploads `body` through the balancer; the answer's JSON.
async fn upload(balancer: &Balancer, content_type: &str, body: Vec<u8>) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}/api/uploads", balancer.url))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), 200, "{}", balancer.logs());
    response.json().await.expect("JSON")
}

/// A short H.264 video: the sample media if `scripts/test-media.sh` made it, else made here
/// with ffmpeg as that script does.
fn video() -> Vec<u8> {
    let sample =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-media/one-face.mp4");
    if let Ok(bytes) = std::fs::read(&sample) {
        return bytes;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("clip.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg("testsrc=duration=3:size=320x240:rate=25")
        .args([
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            "-movflags",
            "+faststart",
        ])
        .arg(&out)
        .status()
        .expect("ffmpeg (run scripts/setup.sh)");
    assert!(status.success(), "ffmpeg failed");
    std::fs::read(out).expect("the clip")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_through_the_balancer_is_served_by_every_proxy() {
    let fake = Fake::start().await;
    let Some(balancer) = Balancer::start(&fake, &[]).await else {
        return;
    };
    let mut file = vec![0u8; 300_000];
    for (i, byte) in file.iter_mut().enumerate() {
        *byte = u8::try_from(i % 253).expect("a byte");
    }
    file[..PNG.len()].copy_from_slice(PNG);
    let answer = upload(&balancer, "image/png", file.clone()).await;
    let url = answer["url"].as_str().expect("url").to_owned();
    assert!(
        url.starts_with(&format!("{}/uploads/", balancer.url)),
        "the URL names the balancer: {url}"
    );
    let http = reqwest::Client::new();
    let mut served_by = HashSet::new();
    for attempt in 0..20 {
        let response = http.get(&url).send().await.expect("fetch");
        assert_eq!(
            response.status(),
            200,
            "attempt {attempt}: {}",
            balancer.logs()
        );
        served_by.insert(balancer.member_of(&response));
        assert_eq!(response.headers()["content-type"], "image/png");
        assert!(
            response.bytes().await.expect("body")[..] == file[..],
            "attempt {attempt}"
        );
    }
    assert_eq!(served_by.len(), 2, "round-robin reaches both proxies");
    // Neither proxy's own disk holds it: both read the shared database.
    for member in &balancer.members {
        let files: Vec<_> = std::fs::read_dir(&member.upload_dir)
            .expect("UPLOAD_DIR")
            .filter_map(Result::ok)
            .filter(|entry| entry.file_name() != ".spool")
            .collect();
        assert!(files.is_empty(), "{files:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_uploads_on_each_proxys_disk_the_other_proxy_answers_404() {
    // What UPLOAD_STORE=disk means behind a balancer: why the default with PostgreSQL differs.
    let fake = Fake::start().await;
    let Some(balancer) = Balancer::start(&fake, &[("UPLOAD_STORE", "disk")]).await else {
        return;
    };
    let answer = upload(&balancer, "image/png", PNG.to_vec()).await;
    let url = answer["url"].as_str().expect("url").to_owned();
    let http = reqwest::Client::new();
    let mut statuses = HashSet::new();
    for _ in 0..20 {
        let response = http.get(&url).send().await.expect("fetch");
        statuses.insert((balancer.member_of(&response), response.status().as_u16()));
    }
    assert_eq!(statuses.len(), 2, "{statuses:?}");
    assert!(statuses.iter().any(|&(_, status)| status == 200));
    assert!(statuses.iter().any(|&(_, status)| status == 404));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_upload_seeks_with_ranges_on_both_proxies() {
    let fake = Fake::start().await;
    let Some(balancer) = Balancer::start(&fake, &[]).await else {
        return;
    };
    let clip = video();
    let size = clip.len();
    assert!(size > 4096, "a real clip: {size} bytes");
    let answer = upload(&balancer, "video/mp4", clip.clone()).await;
    assert_eq!(answer["content_type"], "video/mp4");
    let url = answer["url"].as_str().expect("url").to_owned();
    let name = url.rsplit('/').next().expect("name").to_owned();
    let http = reqwest::Client::new();
    // Directly on each proxy, then through the balancer: the seeks a player makes.
    let mut targets: Vec<String> = balancer
        .members
        .iter()
        .map(|m| format!("{}/uploads/{name}", m.url))
        .collect();
    targets.extend(std::iter::repeat_n(url.clone(), 4));
    let mut served_by = HashSet::new();
    for target in &targets {
        for (range, bytes) in [
            ("bytes=0-1".to_owned(), 0..2),
            (format!("bytes={}-", size / 2), size / 2..size),
            (format!("bytes=1000-{}", size / 3), 1000..size / 3 + 1),
            ("bytes=-1024".to_owned(), size - 1024..size),
        ] {
            let response = http
                .get(target)
                .header("range", &range)
                .send()
                .await
                .expect("range");
            assert_eq!(response.status(), 206, "{target} {range}");
            if target == &url {
                served_by.insert(balancer.member_of(&response));
            }
            assert_eq!(response.headers()["content-type"], "video/mp4");
            assert_eq!(
                response.headers()["content-range"],
                format!("bytes {}-{}/{size}", bytes.start, bytes.end - 1).as_str()
            );
            assert!(
                response.bytes().await.expect("body")[..] == clip[bytes],
                "{target} {range}"
            );
        }
        let past = http
            .get(target)
            .header("range", format!("bytes={size}-"))
            .send()
            .await
            .expect("range");
        assert_eq!(past.status(), 416);
    }
    assert_eq!(served_by.len(), 2, "round-robin reaches both proxies");
}

/// Submits a face swap through the balancer; its task id and the webhook URL the provider got.
async fn submit(balancer: &Balancer, fake: &Fake) -> (String, String) {
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/api/aifaceswap/v1/faceswap", balancer.url))
        .json(&valid_body("faceswap"))
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("json");
    let task_id = answer["data"]["task_id"]
        .as_str()
        .unwrap_or_else(|| panic!("a task id: {answer}"))
        .to_owned();
    let hook = fake.last().webhook().expect("hook");
    assert!(
        hook.starts_with(&balancer.url),
        "the webhook names the balancer: {hook}"
    );
    (task_id, hook)
}

/// Opens the event stream of `task_id` at `base` and reads its first (pending) event.
async fn pending_stream(base: &str, task_id: &str) -> SseReader {
    let response = reqwest::Client::new()
        .get(format!("{base}/api/tasks/{task_id}/events"))
        .send()
        .await
        .expect("sse");
    assert_eq!(response.status(), 200);
    let mut stream = SseReader::new(response);
    let (_, first) = stream
        .next_event(Duration::from_secs(5))
        .await
        .expect("the state at connect");
    assert_eq!(first["status"], "pending");
    stream
}

async fn assert_woken(stream: &mut SseReader, why: &str) {
    let (_, data) = stream
        .next_event(Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("{why}"));
    assert_eq!(data["status"], "succeeded", "{why}");
    assert_eq!(data["result_url"], "https://cdn.example/r.jpg");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_reaching_either_proxy_wakes_the_others_streams() {
    let fake = Fake::start().await;
    let Some(balancer) = Balancer::start(&fake, &[]).await else {
        return;
    };
    for (listener, receiver) in [(0usize, 1usize), (1, 0)] {
        let (task_id, hook) = submit(&balancer, &fake).await;
        let mut stream = pending_stream(&balancer.members[listener].url, &task_id).await;
        let on_receiver = hook.replacen(&balancer.url, &balancer.members[receiver].url, 1);
        assert_eq!(deliver(&on_receiver, success(&task_id)).await, 200);
        assert_woken(
            &mut stream,
            &format!("proxy {listener}'s stream is woken by the webhook proxy {receiver} got"),
        )
        .await;
    }
    // All through the balancer: the stream passes nginx unbuffered, the webhook lands anywhere.
    let (task_id, hook) = submit(&balancer, &fake).await;
    let mut stream = pending_stream(&balancer.url, &task_id).await;
    assert_eq!(deliver(&hook, success(&task_id)).await, 200);
    assert_woken(&mut stream, "the stream through the balancer is woken").await;
    let logs = balancer.logs();
    assert!(!logs.contains(" ERROR "), "{logs}");
}

/// A client of the balancer connecting from its own loopback address (`127.0.0.x`): behind
/// nginx, each such client is a different user with an address of its own.
fn client_from(address: &str) -> reqwest::Client {
    let local: std::net::IpAddr = address.parse().expect("an address");
    reqwest::Client::builder()
        .local_address(local)
        .build()
        .expect("a client")
}

/// A faceswap (2 credits) through the balancer from `client`, with a forged `X-Forwarded-For`
/// when given: the status and the proxy that answered.
async fn faceswap_through(
    balancer: &Balancer,
    client: &reqwest::Client,
    forged: Option<&str>,
) -> (u16, usize) {
    let mut request = client
        .post(format!("{}/api/aifaceswap/v1/faceswap", balancer.url))
        .json(&valid_body("faceswap"));
    if let Some(forged) = forged {
        request = request.header("x-forwarded-for", forged);
    }
    let response = request.send().await.expect("submit");
    let member = balancer.member_of(&response);
    (response.status().as_u16(), member)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_each_client_has_its_own_budget_held_across_both_proxies() {
    let fake = Fake::start().await;
    // nginx (127.0.0.1) is the one trusted peer; a cap of 10 credits is five faceswaps.
    let env = [
        ("TRUSTED_PROXIES", "127.0.0.1/32"),
        ("SPEND_CAP_CREDITS_PER_HOUR", "10"),
    ];
    let Some(balancer) = Balancer::start(&fake, &env).await else {
        return;
    };
    let alice = client_from("127.0.0.2");
    let bob = client_from("127.0.0.3");

    // Alice spends her cap through both proxies, then is refused: the sum stays within it.
    let mut served_by = HashSet::new();
    for _ in 0..5 {
        let (status, member) = faceswap_through(&balancer, &alice, None).await;
        assert_eq!(status, 200, "{}", balancer.logs());
        served_by.insert(member);
    }
    assert_eq!(served_by.len(), 2, "round-robin reached both proxies");
    for _ in 0..2 {
        let (status, _) = faceswap_through(&balancer, &alice, None).await;
        assert_eq!(status, 429, "the cap holds on whichever proxy answers");
    }
    // A forged X-Forwarded-For from Alice's own (untrusted) address changes nothing: nginx
    // appends her real address, and the proxy takes the right-most untrusted one.
    for forged in ["203.0.113.77", "127.0.0.3", "127.0.0.1"] {
        let (status, _) = faceswap_through(&balancer, &alice, Some(forged)).await;
        assert_eq!(status, 429, "forged {forged}");
    }
    // Bob, another address behind the same balancer, has a budget of his own.
    let (status, _) = faceswap_through(&balancer, &bob, None).await;
    assert_eq!(status, 200, "{}", balancer.logs());
    assert_eq!(
        fake.count(),
        6,
        "only the accepted submits reached the provider"
    );
    let logs = balancer.logs();
    assert!(
        logs.contains("127.0.0.2") && logs.contains("127.0.0.3"),
        "logs name the clients"
    );
    assert!(
        !logs.contains("203.0.113.77"),
        "a forged address is never logged as the client"
    );
}
