//! `UPLOAD_STORE=s3`: uploads in an S3-compatible bucket (moto's server, installed by
//! `scripts/setup.sh --test` into `target/s3-venv`), shared by two proxies that share nothing
//! else: stored in parts, served whole and in ranges by the other proxy, and swept.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BUCKET: &str = "faceswap-uploads";

/// moto's S3 server, killed when dropped.
struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `moto_server`: `MOTO_SERVER`, else the set-up script's venv, else on PATH.
fn moto_server() -> PathBuf {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let venv =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/s3-venv/bin/moto_server");
    if venv.is_file() {
        return venv;
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("moto_server"))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "no moto_server found (MOTO_SERVER, target/s3-venv, PATH): run \
                 `scripts/setup.sh --test`, which installs PyPI's moto[server] into target/s3-venv"
            )
        })
}

/// Starts moto and makes the bucket.
async fn moto() -> Moto {
    let port = common::balancer::free_port();
    let child = Command::new(moto_server())
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn moto_server");
    let moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = http.put(format!("{}/{BUCKET}", moto.url)).send().await {
            assert!(response.status().is_success(), "make the bucket");
            return moto;
        }
        assert!(Instant::now() < deadline, "moto_server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A proxy (own SQLite, own UPLOAD_DIR) with uploads in moto's bucket.
async fn proxy_on(fake: &Fake, moto: &Moto, extra: &[&str]) -> Proxy {
    let mut flags = vec![
        "--upload-store",
        "s3",
        "--s3-bucket",
        BUCKET,
        "--s3-endpoint",
        moto.url.as_str(),
        "--s3-access-key-id",
        "testing",
        "--s3-secret-access-key",
        "testing-secret",
    ];
    flags.extend_from_slice(extra);
    proxy(fake, &flags).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_in_a_bucket_are_served_by_every_proxy_and_swept() {
    let moto = moto().await;
    let fake = Fake::start().await;
    let a = proxy_on(&fake, &moto, &[]).await;
    let b = proxy_on(&fake, &moto, &[]).await;
    // Over one 5 MiB part: a multipart upload of two parts.
    let mut file: Vec<u8> = (0..6 * 1024 * 1024 + 123)
        .map(|i: usize| u8::try_from(i % 241).expect("a byte"))
        .collect();
    file[..PNG.len()].copy_from_slice(PNG);
    let response = a
        .http
        .post(format!("{}/api/uploads", a.url))
        .header("content-type", "image/png")
        .body(file.clone())
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.expect("JSON");
    let name = answer["url"]
        .as_str()
        .expect("url")
        .rsplit('/')
        .next()
        .expect("name")
        .to_owned();
    let stored: Vec<_> = std::fs::read_dir(a.dir.path().join("uploads"))
        .expect("UPLOAD_DIR")
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name() != ".spool")
        .collect();
    assert!(stored.is_empty(), "nothing on A's disk: {stored:?}");

    let whole = b.get(&format!("/uploads/{name}")).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "image/png");
    assert!(whole.bytes().await.expect("body")[..] == file[..]);
    let (from, to) = (5 * 1024 * 1024 - 10, 5 * 1024 * 1024 + 10);
    let part = b
        .http
        .get(format!("{}/uploads/{name}", b.url))
        .header("range", format!("bytes={from}-{to}"))
        .send()
        .await
        .expect("range");
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes {from}-{to}/{}", file.len()).as_str()
    );
    assert!(part.bytes().await.expect("body")[..] == file[from..=to]);
    let past = b
        .http
        .get(format!("{}/uploads/{name}", b.url))
        .header("range", format!("bytes={}-", file.len()))
        .send()
        .await
        .expect("range");
    assert_eq!(past.status(), 416);
    let missing = b.get(&format!("/uploads/{}.png", "0".repeat(32))).await;
    assert_eq!(missing.status(), 404);

    // A proxy whose uploads age fast sweeps the bucket for everyone.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let sweeper = proxy_on(&fake, &moto, &["--upload-max-age-ms", "1000"]).await;
    faceswap_proxy::maintain(&sweeper.state).await;
    assert_eq!(a.get(&format!("/uploads/{name}")).await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_videos_duration_travels_with_its_object() {
    let moto = moto().await;
    let fake = Fake::start().await;
    let a = proxy_on(&fake, &moto, &[]).await;
    let response = a
        .http
        .post(format!("{}/api/uploads", a.url))
        .header("content-type", "video/mp4")
        .body(mp4_movie(9_500))
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.expect("JSON");
    let video = answer["url"].as_str().expect("url").to_owned();
    let swap = |duration: f64| {
        serde_json::json!({"source_video": video, "face_image": "https://img.example/f.jpg",
            "duration": duration})
    };
    // The object's metadata says 9.5 s: ten started seconds.
    let short = a.submit("video_faceswap", swap(9.0)).await;
    assert_eq!(short.status(), 400);
    let body: serde_json::Value = short.json().await.expect("JSON");
    assert_eq!(body["field"], "duration", "{body}");
    assert_eq!(a.submit("video_faceswap", swap(10.0)).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_multipart_upload_is_aborted() {
    let moto = moto().await;
    let fake = Fake::start().await;
    let a = proxy_on(&fake, &moto, &[]).await;
    // A spool file that cannot be read: the upload fails after it was started in the bucket.
    let path = tempfile::NamedTempFile::new()
        .expect("temp")
        .into_temp_path();
    let write_only = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    let incoming = faceswap_proxy::upload_store::Incoming {
        path,
        file: tokio::fs::File::from_std(write_only),
        len: 10,
        media: faceswap_core::MediaType::Png,
        duration_ms: None,
    };
    let name = format!("{}.png", "a".repeat(32));
    assert!(a.state.uploads.put(&name, incoming).await.is_err());
    let pending = reqwest::get(format!("{}/{BUCKET}?uploads", moto.url))
        .await
        .expect("list multipart uploads")
        .text()
        .await
        .expect("XML");
    assert!(!pending.contains("<UploadId>"), "{pending}");
}
