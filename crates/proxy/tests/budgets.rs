//! Your key, your money, your data (issue 24): charges that stand once a request reached the
//! provider, the provider's own price, uploads that must parse, the upload budget, the sweep that
//! removes only its own files, and retention. Over real HTTP on loopback against a fake
//! provider, with real SQLite and a throwaway PostgreSQL.

mod common;

use common::*;
use serde_json::Value;
use std::time::Duration;

/// The backends a test runs on: their names and the flags of a proxy on them (SQLite: none; a
/// fresh PostgreSQL database, unless the PostgreSQL tests are skipped).
struct Backends {
    all: Vec<(&'static str, Vec<String>)>,
    /// Holds the PostgreSQL server while the test runs.
    _server: Option<std::sync::Arc<pg::PgServer>>,
}

async fn backends() -> Backends {
    let mut all = vec![("sqlite", Vec::new())];
    let server = pg::server();
    if let Some(server) = &server {
        let database = server.database().await;
        all.push(("postgres", vec!["--database-url".to_owned(), database]));
    }
    Backends {
        all,
        _server: server,
    }
}

fn with<'a>(backend: &'a [String], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args: Vec<&str> = backend.iter().map(String::as_str).collect();
    args.extend_from_slice(extra);
    args
}

/// Status and error word of a faceswap submit (2 credits).
async fn faceswap(proxy: &Proxy) -> (u16, Option<String>) {
    let response = proxy.submit("faceswap", valid_body("faceswap")).await;
    let status = response.status().as_u16();
    if status == 200 {
        return (200, None);
    }
    let body: Value = response.json().await.expect("a JSON error");
    (status, body["error"].as_str().map(str::to_owned))
}

fn spend_refused() -> (u16, Option<String>) {
    (429, Some("spend_cap_exceeded".to_owned()))
}

// Finding 4: once a request was written to the provider its charge stays, unless the provider
// said the task was not created.

#[tokio::test]
async fn a_timed_out_call_keeps_its_charge() {
    let backends = backends().await;
    for (name, backend) in backends.all.clone() {
        let fake = Fake::start().await;
        fake.set(Behaviour::Delay(Duration::from_secs(3)));
        let args = with(
            &backend,
            &[
                "--upstream-timeout-secs",
                "1",
                "--spend-cap-credits-per-hour",
                "4",
            ],
        );
        let proxy = proxy(&fake, &args).await;
        assert_eq!(faceswap(&proxy).await.0, 504, "{name}: first times out");
        assert_eq!(faceswap(&proxy).await.0, 504, "{name}: second times out");
        // Two jobs the provider may bill are 4 credits: the third is refused before it is sent.
        assert_eq!(faceswap(&proxy).await, spend_refused(), "{name}");
        assert_eq!(
            fake.count(),
            2,
            "{name}: the third never reached the provider"
        );
    }
}

#[tokio::test]
async fn a_dropped_answer_keeps_its_charge() {
    let backends = backends().await;
    for (name, backend) in backends.all.clone() {
        let fake = Fake::start().await;
        fake.set(Behaviour::BrokenBody);
        let args = with(&backend, &["--spend-cap-credits-per-hour", "4"]);
        let proxy = proxy(&fake, &args).await;
        assert_ne!(faceswap(&proxy).await.0, 200, "{name}: first dropped");
        assert_ne!(faceswap(&proxy).await.0, 200, "{name}: second dropped");
        assert_eq!(faceswap(&proxy).await, spend_refused(), "{name}");
        assert_eq!(fake.count(), 2, "{name}");
    }
}

#[tokio::test]
async fn an_unreadable_answer_keeps_its_charge_and_a_refusal_gives_it_back() {
    let backends = backends().await;
    for (name, backend) in backends.all.clone() {
        let fake = Fake::start().await;
        let args = with(&backend, &["--spend-cap-credits-per-hour", "4"]);
        let proxy = proxy(&fake, &args).await;
        // A 4xx refusal (and a refusal in a 200 envelope) says no task was made: nothing spent.
        fake.set(Behaviour::Status(400, None));
        for _ in 0..3 {
            assert_eq!(faceswap(&proxy).await.0, 502, "{name}: refused");
        }
        fake.set(Behaviour::EnvelopeError(10012, "bad face".into()));
        for _ in 0..3 {
            assert_ne!(
                faceswap(&proxy).await.0,
                200,
                "{name}: refused in the envelope"
            );
        }
        // An answer nobody can read may hide a task: its charge stays.
        fake.set(Behaviour::Raw(200, "<html>upstream proxy</html>"));
        assert_eq!(faceswap(&proxy).await.0, 502, "{name}: unreadable");
        fake.set(Behaviour::Status(500, None));
        assert_eq!(
            faceswap(&proxy).await.0,
            502,
            "{name}: a 5xx may hide a task too"
        );
        fake.set(Behaviour::Normal);
        assert_eq!(faceswap(&proxy).await, spend_refused(), "{name}");
        assert_eq!(fake.count(), 8, "{name}");
    }
}

#[tokio::test]
async fn the_providers_own_price_corrects_the_spend() {
    let backends = backends().await;
    for (name, backend) in backends.all.clone() {
        let fake = Fake::start().await;
        let args = with(&backend, &["--spend-cap-credits-per-hour", "4"]);
        let proxy = proxy(&fake, &args).await;
        // The provider says this faceswap cost 3 points, not the 2 the price table says.
        fake.set(Behaviour::Points(3));
        assert_eq!(faceswap(&proxy).await, (200, None), "{name}");
        // 3 + 2 > 4.
        assert_eq!(faceswap(&proxy).await, spend_refused(), "{name}");
        assert_eq!(fake.count(), 1, "{name}");
    }
    // And a cheaper answer gives back the difference (each backend on a fresh database).
    let fresh = self::backends().await;
    for (name, backend) in fresh.all.clone() {
        let args = with(&backend, &["--spend-cap-credits-per-hour", "4"]);
        let fake = Fake::start().await;
        let proxy = common::proxy(&fake, &args).await;
        fake.set(Behaviour::Points(1));
        assert_eq!(faceswap(&proxy).await, (200, None), "{name}: 1 point");
        fake.set(Behaviour::Normal);
        assert_eq!(faceswap(&proxy).await, (200, None), "{name}: 1 + 2 points");
        assert_eq!(
            faceswap(&proxy).await,
            spend_refused(),
            "{name}: 1 + 2 + 2 > 4"
        );
    }
}

// Finding 7: the sweep removes only what the proxy wrote.

#[tokio::test]
async fn the_upload_sweep_removes_only_the_proxys_own_files() {
    let fake = Fake::start().await;
    let proxy = proxy(
        &fake,
        &[
            "--upload-max-age-ms",
            "200",
            "--maintenance-interval-ms",
            "50",
        ],
    )
    .await;
    let uploads = proxy.dir.path().join("uploads");
    let spool = uploads.join(".spool");
    std::fs::create_dir_all(&spool).expect("spool");
    let foreign = [
        uploads.join("faceswap.db"),
        uploads.join("faceswap.db-wal"),
        uploads.join("notes.txt"),
        uploads.join("0123456789abcdef0123456789abcdef.exe"),
        spool.join("keep.bin"),
    ];
    for file in &foreign {
        std::fs::write(file, b"not the proxy's").expect("write");
    }
    let leftover = spool.join(".tmpAbC123");
    std::fs::write(&leftover, b"an abandoned spool file").expect("write");
    let uploaded: Value = proxy
        .http
        .post(format!("{}/api/uploads", proxy.url))
        .header("content-type", "image/png")
        .body(PNG)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let name = uploaded["url"]
        .as_str()
        .and_then(|url| url.rsplit('/').next())
        .expect("url")
        .to_owned();
    // Wait until the sweep has removed the upload (and the leftover).
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if !uploads.join(&name).exists() && !leftover.exists() {
            break;
        }
    }
    assert!(!uploads.join(&name).exists(), "the old upload is removed");
    assert!(!leftover.exists(), "the abandoned spool file is removed");
    for file in &foreign {
        assert!(file.exists(), "{} is not the proxy's", file.display());
    }
}

/// The state of a proxy with `upload_dir` and `database` (a path), or why it does not start.
async fn start_with_dirs(
    upload_dir: &std::path::Path,
    database: &std::path::Path,
) -> Result<faceswap_proxy::AppState, faceswap_proxy::StartupError> {
    let mut args: Vec<String> = vec![
        "faceswap-proxy".into(),
        "--upload-dir".into(),
        upload_dir.display().to_string(),
        "--database-url".into(),
        format!("sqlite://{}", database.display()),
    ];
    for provider in ["aifaceswap", "piapi", "aiphotocraft", "acedata"] {
        args.extend([
            format!("--{provider}-base-url"),
            "http://127.0.0.1:9".into(),
        ]);
    }
    let mut config = faceswap_proxy::Config::try_from_args(args).expect("flags");
    config
        .provider_mut("aifaceswap")
        .expect("registered")
        .api_key = Some(secrecy::SecretString::from(KEY.to_owned()));
    let providers = faceswap_proxy::Providers::resolve(&config, None).expect("providers");
    faceswap_proxy::AppState::new(config, providers).await
}

#[tokio::test]
async fn an_upload_dir_holding_the_sqlite_database_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("data/sub")).expect("dirs");
    let at = |path: &str| dir.path().join(path);
    for (upload_dir, database) in [
        (at("data"), at("data/faceswap.db")),
        (at("data"), at("data/sub/faceswap.db")),
        (at("data/"), at("data/./faceswap.db")),
        (at("data/sub/.."), at("data/faceswap.db")),
    ] {
        let message = match start_with_dirs(&upload_dir, &database).await {
            Ok(_) => panic!("{} holds {}", upload_dir.display(), database.display()),
            Err(err) => err.to_string(),
        };
        assert!(
            message.contains("UPLOAD_DIR") && message.contains("DATABASE_URL"),
            "{message}"
        );
    }
    // Side by side is fine: the default layout.
    assert!(
        start_with_dirs(&at("data/uploads"), &at("data/faceswap.db"))
            .await
            .is_ok()
    );
}

// Finding 6: uploads within a budget, and a video only when its container parses.

/// Random-looking bytes (a fixed xorshift sequence).
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Uploads `bytes` as a raw body: status, headers, JSON answer.
async fn upload(proxy: &Proxy, bytes: Vec<u8>) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = proxy
        .http
        .post(format!("{}/api/uploads", proxy.url))
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .expect("upload");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.expect("JSON"))
}

#[tokio::test]
async fn a_video_is_stored_only_when_its_container_parses_to_the_end() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    let mut free_then_noise = b"\0\0\0\x08free".to_vec();
    free_then_noise.extend(noise(4096));
    let mut ftyp_then_noise = MP4[..24].to_vec();
    ftyp_then_noise.extend(noise(4096));
    let mut truncated = mp4_movie(4_000);
    truncated.truncate(truncated.len() - 100);
    let mut webm_then_noise = webm_movie(4_000.0);
    webm_then_noise.extend(noise(64));
    let mut ebml_only = webm_movie(4_000.0);
    ebml_only.truncate(12);
    for (what, bytes) in [
        ("free + noise", free_then_noise),
        ("ftyp + noise", ftyp_then_noise),
        ("a truncated mp4", truncated),
        ("a webm + noise", webm_then_noise),
        ("an EBML header alone", ebml_only),
    ] {
        let (status, _, answer) = upload(&proxy, bytes).await;
        assert_eq!(status, 415, "{what}: {answer}");
        assert_eq!(answer["error"], "unsupported_media_type", "{what}");
        assert_eq!(answer["field"], "file", "{what}");
    }
    for (what, bytes, content_type) in [
        ("an mp4", mp4_movie(4_000), "video/mp4"),
        ("a webm", webm_movie(4_000.0), "video/webm"),
    ] {
        let (status, _, answer) = upload(&proxy, bytes).await;
        assert_eq!(status, 200, "{what}: {answer}");
        assert_eq!(answer["content_type"], content_type, "{what}");
    }
}

#[tokio::test]
async fn uploads_have_a_budget_per_client_and_hour() {
    let backends = backends().await;
    for (name, backend) in backends.all.clone() {
        let fake = Fake::start().await;
        let args = with(&backend, &["--upload-bytes-per-hour", "3000"]);
        let proxy = proxy(&fake, &args).await;
        let mut image = PNG.to_vec();
        image.resize(1000, 0);
        for i in 0..3 {
            let (status, _, answer) = upload(&proxy, image.clone()).await;
            assert_eq!(status, 200, "{name} upload {i}: {answer}");
        }
        let (status, headers, answer) = upload(&proxy, image.clone()).await;
        assert_eq!(status, 429, "{name}: {answer}");
        assert_eq!(answer["error"], "rate_limited", "{name}");
        let retry: u64 = headers["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!((1..=3600).contains(&retry), "{name}: {retry}");
        // A refused upload stores nothing and its bytes are not counted.
        let mut small = PNG.to_vec();
        small.resize(10, 0);
        assert_eq!(upload(&proxy, small).await.0, 429, "{name}: still spent");
    }
}

// Finding 5: a video is priced by what the proxy knows of it.

#[tokio::test]
async fn a_video_uploaded_here_is_priced_by_its_container() {
    let backends = backends().await;
    for (name, backend) in backends.all.clone() {
        let fake = Fake::start().await;
        let args = with(&backend, &["--spend-cap-credits-per-hour", "20"]);
        let proxy = proxy(&fake, &args).await;
        let (status, _, answer) = upload(&proxy, mp4_movie(9_500)).await;
        assert_eq!(status, 200, "{name}: {answer}");
        let video = answer["url"].as_str().expect("url").to_owned();
        let video_swap = |duration: f64| {
            serde_json::json!({
                "source_video": video,
                "face_image": "https://img.example/face.jpg",
                "duration": duration,
            })
        };
        // 9.5 s are ten started seconds: three is a lie, nine too.
        for short in [3.0, 9.0] {
            let response = proxy.submit("video_faceswap", video_swap(short)).await;
            assert_eq!(response.status(), 400, "{name}: {short}");
            let body: Value = response.json().await.expect("JSON");
            assert_eq!(body["error"], "invalid_parameter");
            assert_eq!(body["field"], "duration", "{name}: {body}");
        }
        assert_eq!(fake.count(), 0, "{name}: nothing was sent");
        // Ten started seconds are 20 credits: the cap, exactly (and what the provider says).
        fake.set(Behaviour::Points(20));
        let response = proxy.submit("video_faceswap", video_swap(9.2)).await;
        assert_eq!(response.status(), 200, "{name}");
        fake.set(Behaviour::Normal);
        let response = proxy.submit("faceswap", valid_body("faceswap")).await;
        assert_eq!(response.status(), 429, "{name}: the cap is spent");
    }
}

#[tokio::test]
async fn a_piapi_video_is_priced_by_its_upload_or_must_declare_its_duration() {
    let backends = backends().await;
    for (name, backend) in backends.all.clone() {
        let fake = Fake::start().await;
        // 5 cents an hour: five seconds of PiAPI video.
        let args = with(&backend, &["--piapi-spend-cap-per-hour", "0.05"]);
        let proxy = proxy(&fake, &args).await;
        let piapi = |video: &str, duration: Option<f64>| {
            let mut body = serde_json::json!({
                "model": "Qubico/video-toolkit",
                "task_type": "face-swap",
                "input": {"target_video": video, "swap_image": base64_png()},
            });
            if let Some(duration) = duration {
                body["duration"] = serde_json::json!(duration);
            }
            body
        };
        let send = |body: Value| {
            let http = proxy.http.clone();
            let url = format!("{}/api/piapi/v1/task", proxy.url);
            async move {
                let response = http.post(url).json(&body).send().await.expect("submit");
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                (status, body)
            }
        };
        // Another URL without a duration: refused, naming it.
        let (status, body) = send(piapi("https://cdn.example/v.mp4", None)).await;
        assert_eq!(status, 400, "{name}: {body}");
        assert_eq!(body["field"], "duration", "{name}: {body}");
        // An upload of 9.5 s without a duration is priced as ten seconds: over the cap.
        let (status, _, answer) = upload(&proxy, mp4_movie(9_500)).await;
        assert_eq!(status, 200, "{name}");
        let video = answer["url"].as_str().expect("url").to_owned();
        let (status, body) = send(piapi(&video, None)).await;
        assert_eq!(status, 429, "{name}: {body}");
        assert_eq!(body["error"], "spend_cap_exceeded", "{name}: {body}");
        let (status, body) = send(piapi(&video, Some(2.0))).await;
        assert_eq!(status, 400, "{name}: {body}");
        assert_eq!(body["field"], "duration", "{name}: {body}");
        assert_eq!(fake.count(), 0, "{name}: nothing was sent");
    }
}

// Finding 8: finished tasks, their tokens and secrets are forgotten.

/// Moves every task of the proxy's database `days` into the past.
async fn age_tasks(backend: &[String], proxy: &Proxy, days: i64) {
    let ms = days * 86_400_000;
    let sql = format!(
        "UPDATE tasks SET created_ms = created_ms - {ms}, updated_ms = updated_ms - {ms}, \
         deadline_ms = deadline_ms - {ms}"
    );
    match backend.get(1) {
        Some(database) => {
            let (client, connection) = tokio_postgres::connect(database, tokio_postgres::NoTls)
                .await
                .expect("connect");
            let driver = tokio::spawn(connection);
            client.batch_execute(&sql).await.expect("age");
            drop(client);
            let _ = driver.await;
        }
        None => {
            let path = proxy.dir.path().join("tasks.db");
            let conn = rusqlite::Connection::open(path).expect("open");
            conn.execute_batch(&sql).expect("age");
        }
    }
}

#[tokio::test]
async fn finished_tasks_and_their_tokens_are_forgotten() {
    let backends = backends().await;
    for (name, backend) in backends.all.clone() {
        let fake = Fake::start().await;
        let proxy = proxy(&fake, &with(&backend, &[])).await;
        let answer: Value = proxy
            .submit("faceswap", valid_body("faceswap"))
            .await
            .json()
            .await
            .expect("json");
        let task_id = answer["data"]["task_id"].as_str().expect("id").to_owned();
        let hook = fake.last().webhook().expect("hook");
        let view = format!("/api/aifaceswap/tasks/{task_id}");
        assert_eq!(deliver(&hook, success(&task_id)).await, 200, "{name}");
        // A repeated delivery inside the duplicate window: 2xx, nothing changes.
        assert_eq!(deliver(&hook, success(&task_id)).await, 200, "{name}");
        faceswap_proxy::maintain(&proxy.state).await;
        assert_eq!(deliver(&hook, success(&task_id)).await, 200, "{name}");
        // A pending task is never forgotten, however old.
        let pending: Value = proxy
            .submit("faceswap", valid_body("faceswap"))
            .await
            .json()
            .await
            .expect("json");
        let pending_id = pending["data"]["task_id"].as_str().expect("id").to_owned();

        // Two days on, the token of the finished task opens nothing; the task is still kept.
        age_tasks(&backend, &proxy, 2).await;
        faceswap_proxy::maintain(&proxy.state).await;
        assert_eq!(deliver(&hook, success(&task_id)).await, 404, "{name}");
        assert_eq!(proxy.get(&view).await.status(), 200, "{name}");

        // Past TASK_RETENTION_DAYS (30 by default), the finished task is gone.
        age_tasks(&backend, &proxy, 29).await;
        faceswap_proxy::maintain(&proxy.state).await;
        assert_eq!(proxy.get(&view).await.status(), 404, "{name}");
        // The pending one timed out in that sweep (its deadline long past), and stays.
        let left = proxy
            .get(&format!("/api/aifaceswap/tasks/{pending_id}"))
            .await;
        assert_eq!(left.status(), 200, "{name}");
        let left: Value = left.json().await.expect("json");
        assert_eq!(left["status"], "timed_out", "{name}");
    }
}

/// A file of `target/test-media` (made by `scripts/test-media.sh` when missing).
fn test_media(name: &str) -> Vec<u8> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = root.join("target/test-media").join(name);
    if !path.exists() {
        let status = std::process::Command::new("bash")
            .arg(root.join("scripts/test-media.sh"))
            .current_dir(&root)
            .status()
            .expect("bash runs scripts/test-media.sh");
        assert!(status.success(), "scripts/test-media.sh failed");
    }
    std::fs::read(path).expect("test media")
}

#[tokio::test]
async fn videos_from_ffmpeg_are_stored_with_their_length() {
    let fake = Fake::start().await;
    let proxy = proxy(&fake, &[]).await;
    // H.264 + AAC in MP4, 3 s; VP9 + Opus in WebM, 3.008 s (Opus's padding): four started
    // seconds, so 3 is too short for it.
    for (name, content_type, short, enough) in [
        ("two-faces.mp4", "video/mp4", 2.0, 3.0),
        ("two-faces.webm", "video/webm", 3.0, 4.0),
    ] {
        let bytes = test_media(name);
        let started = std::time::Instant::now();
        let (status, _, answer) = upload(&proxy, bytes).await;
        assert_eq!(status, 200, "{name}: {answer}");
        assert_eq!(answer["content_type"], content_type, "{name}");
        eprintln!("{name}: stored in {:?}", started.elapsed());
        let video = answer["url"].as_str().expect("url").to_owned();
        let swap = |duration: f64| {
            serde_json::json!({"source_video": video, "face_image": "https://img.example/f.jpg",
                "duration": duration})
        };
        let short = proxy.submit("video_faceswap", swap(short)).await;
        assert_eq!(short.status(), 400, "{name}");
        let body: Value = short.json().await.expect("JSON");
        assert_eq!(body["field"], "duration", "{name}: {body}");
        assert_eq!(
            proxy.submit("video_faceswap", swap(enough)).await.status(),
            200,
            "{name}"
        );
    }
    // The same H.264 and AAC remuxed by ffmpeg: a QuickTime movie (its sound description is
    // QuickTime's own), and a fragmented MP4, whose movie header gives no length.
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("source.mp4");
    std::fs::write(&source, test_media("two-faces.mp4")).expect("write");
    for (name, flags, content_type, known) in [
        ("movie.mov", &["-f", "mov"][..], "video/quicktime", true),
        (
            "fragmented.mp4",
            &["-movflags", "frag_keyframe+empty_moov"][..],
            "video/mp4",
            false,
        ),
    ] {
        let out = dir.path().join(name);
        let status = std::process::Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i"])
            .arg(&source)
            .args(["-c", "copy"])
            .args(flags)
            .arg(&out)
            .status()
            .expect("ffmpeg runs");
        assert!(status.success(), "ffmpeg made {name}");
        let (status, _, answer) = upload(&proxy, std::fs::read(&out).expect("read")).await;
        assert_eq!(status, 200, "{name}: {answer}");
        assert_eq!(answer["content_type"], content_type, "{name}");
        let video = answer["url"].as_str().expect("url").to_owned();
        let body = serde_json::json!({"source_video": video,
            "face_image": "https://img.example/f.jpg", "duration": 2});
        let expected = if known { 400 } else { 200 };
        let response = proxy.submit("video_faceswap", body).await;
        assert_eq!(response.status(), expected, "{name}: length known: {known}");
    }
}
