//! Helpers shared by the integration tests: the test media, a loopback "origin" server that serves
//! inputs and receives webhooks, and image/video measurements.
#![allow(dead_code, clippy::unwrap_used)]

pub mod jobs;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use image::RgbImage;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::mpsc;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `target/test-media/`, made by `scripts/test-media.sh` on first use.
pub fn media_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = workspace();
        let status = Command::new("bash")
            .arg(root.join("scripts/test-media.sh"))
            .current_dir(&root)
            .status()
            .expect("bash runs scripts/test-media.sh");
        assert!(status.success(), "scripts/test-media.sh failed");
        root.join("target/test-media")
    })
}

/// A test media file.
pub fn media(name: &str) -> PathBuf {
    media_dir().join(name)
}

/// The bytes of a test media file.
pub fn media_bytes(name: &str) -> Vec<u8> {
    std::fs::read(media(name)).unwrap()
}

/// A test image as RGB.
pub fn media_rgb(name: &str) -> RgbImage {
    image::open(media(name)).unwrap().to_rgb8()
}

/// A webhook received by the origin server.
#[derive(Debug, Clone)]
pub struct Hook {
    /// The `{name}` of `/hooks/{name}`.
    pub name: String,
    /// The JSON body.
    pub body: serde_json::Value,
    /// The `x-webhook-secret` header, if it came with one.
    pub secret: Option<String>,
}

/// A loopback server standing in for the proxy: serves `target/test-media/` at `/media/`, a
/// redirect at `/redirect`, a large body at `/big`, and receives webhooks at `/hooks/{name}`.
pub struct Origin {
    pub base_url: String,
    pub hooks: mpsc::UnboundedReceiver<Hook>,
}

impl Origin {
    pub async fn start() -> Self {
        let dir = media_dir().to_path_buf();
        let (tx, rx) = mpsc::unbounded_channel();
        let app = Router::new()
            .route("/media/{name}", get(serve_media))
            .route(
                "/redirect",
                get(|| async {
                    (
                        StatusCode::FOUND,
                        [(header::LOCATION, "/media/astronaut.png")],
                    )
                        .into_response()
                }),
            )
            .route("/big", get(|| async { vec![0x89u8; 3 * 1024 * 1024] }))
            .route("/flat.png", get(|| async { flat_png() }))
            .route("/hooks/{name}", post(receive_hook))
            .with_state((dir, tx));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base_url: format!("http://{addr}"),
            hooks: rx,
        }
    }

    pub fn media_url(&self, name: &str) -> String {
        format!("{}/media/{name}", self.base_url)
    }

    pub fn hook_url(&self, name: &str) -> String {
        format!("{}/hooks/{name}", self.base_url)
    }

    /// The next webhook, waiting up to `secs`.
    pub async fn next_hook(&mut self, secs: u64) -> Hook {
        tokio::time::timeout(Duration::from_secs(secs), self.hooks.recv())
            .await
            .expect("a webhook arrives in time")
            .expect("the origin server is running")
    }

    /// Waits `millis` and answers whether any webhook came.
    pub async fn no_hook_within(&mut self, millis: u64) -> bool {
        tokio::time::timeout(Duration::from_millis(millis), self.hooks.recv())
            .await
            .is_err()
    }
}

/// A 128x128 PNG of one colour: no face in it.
pub fn flat_png() -> Vec<u8> {
    let img = RgbImage::from_pixel(128, 128, image::Rgb([40, 90, 160]));
    jobs::encode_png(&img).unwrap()
}

type OriginState = (PathBuf, mpsc::UnboundedSender<Hook>);

async fn serve_media(
    State((dir, _)): State<OriginState>,
    UrlPath(name): UrlPath<String>,
) -> Response {
    if name.contains('/') || name.starts_with('.') {
        return StatusCode::NOT_FOUND.into_response();
    }
    match tokio::fs::read(dir.join(&name)).await {
        Ok(bytes) => Response::builder()
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(bytes))
            .unwrap(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn receive_hook(
    State((_, tx)): State<OriginState>,
    UrlPath(name): UrlPath<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let secret = headers
        .get("x-webhook-secret")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let _ = tx.send(Hook { name, body, secret });
    StatusCode::OK
}

/// A JSON POST to the sandbox with the key.
pub async fn post_json(
    base_url: &str,
    key: &str,
    op: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value, reqwest::header::HeaderMap) {
    let response = reqwest::Client::new()
        .post(format!("{base_url}/api/aifaceswap/v1/{op}"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let json = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, json, headers)
}

/// GET bytes.
pub async fn get_bytes(url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

/// Mean absolute difference per channel value between two images over a rectangle.
pub fn mean_abs_diff(a: &RgbImage, b: &RgbImage, rect: (u32, u32, u32, u32)) -> f64 {
    let (x0, y0, x1, y1) = rect;
    let mut sum = 0u64;
    let mut n = 0u64;
    for y in y0..y1.min(a.height()) {
        for x in x0..x1.min(a.width()) {
            let (p, q) = (a.get_pixel(x, y).0, b.get_pixel(x, y).0);
            for c in 0..3 {
                sum += u64::from(p[c].abs_diff(q[c]));
                n += 1;
            }
        }
    }
    sum as f64 / n.max(1) as f64
}

/// What ffprobe says about a result video: (width, height, frames, duration, has audio).
pub fn probe_video(path: &Path) -> (u32, u32, u64, f64, bool) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-show_entries"])
        .arg("stream=codec_type,codec_name,width,height,nb_read_frames:format=duration")
        .args(["-of", "json"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let streams = json["streams"].as_array().unwrap();
    let video = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
    let frames = video["nb_read_frames"].as_str().unwrap().parse().unwrap();
    let duration = json["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    (
        video["width"].as_u64().unwrap() as u32,
        video["height"].as_u64().unwrap() as u32,
        frames,
        duration,
        streams.iter().any(|s| s["codec_type"] == "audio"),
    )
}

/// Frame `index` of a video as RGB, through ffmpeg.
pub fn video_frame(path: &Path, index: u32) -> RgbImage {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-i"])
        .arg(path)
        .args(["-vf", &format!("select=eq(n\\,{index})"), "-frames:v", "1"])
        .args(["-f", "image2pipe", "-vcodec", "png", "pipe:1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    image::load_from_memory(&out.stdout).unwrap().to_rgb8()
}
