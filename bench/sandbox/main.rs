//! Benchmark of the sandbox provider on this machine: face detection milliseconds per 1024x512
//! frame, and video swap frames per second on the 3-second 1024x512 two-face video, with a plain
//! ffmpeg transcode of the same video as the named peer. Run by `bench/sandbox/run.sh`
//! (`cargo run --release -p faceswap-bench --bin sandbox-bench`).
#![allow(clippy::print_stdout)]

use faceswap_sandbox::engine::detect::FaceDetector;
use faceswap_sandbox::engine::jobs::{self, Input, Replacement};
use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The budget the issue sets for the 3-second two-face video.
const VIDEO_BUDGET: Duration = Duration::from_secs(30);

type Result<T = (), E = Box<dyn Error>> = std::result::Result<T, E>;

fn root() -> std::io::Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
}

/// A test image as an input of the field `field`.
fn input(media: &Path, field: &str, name: &str) -> Result<Input> {
    Ok(Input::new(field, std::fs::read(media.join(name))?))
}

fn main() -> Result {
    let root = root()?;
    let status = Command::new("bash")
        .arg(root.join("scripts/test-media.sh"))
        .current_dir(&root)
        .status()?;
    if !status.success() {
        return Err("scripts/test-media.sh failed".into());
    }
    let media = root.join("target/test-media");
    let out = root.join("target/bench-sandbox");
    std::fs::create_dir_all(&out)?;

    // Detection on the 1024x512 still.
    let frame = image::open(media.join("two-faces.png"))?.to_rgb8();
    let mut detector = FaceDetector::new().ok_or("the face model is unusable")?;
    let mut faces = detector.detect_rgb(&frame);
    let mut samples = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        faces = detector.detect_rgb(&frame);
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let detect_ms = median(samples);
    println!(
        "detection: {detect_ms:.1} ms per 1024x512 frame (median of 10, {} faces)",
        faces.len()
    );
    for name in ["astronaut.png", "camera.png", "group29.png"] {
        let img = image::open(media.join(name))?.to_rgb8();
        let t = Instant::now();
        let n = detector.detect_rgb(&img).len();
        println!(
            "detection: {name} ({}x{}): {n} faces in {:.1} ms",
            img.width(),
            img.height(),
            t.elapsed().as_secs_f64() * 1000.0
        );
    }

    // Image swaps, kept for a look.
    let t = Instant::now();
    let replacements = [("camera.png", 0), ("astronaut.png", 1)]
        .into_iter()
        .map(|(name, at)| {
            Ok(Replacement {
                label: format!("index[{at}]"),
                at,
                face: input(&media, "face_image", name)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let png = jobs::multi_face_swap(
        &input(&media, "source_image", "two-faces.png")?,
        &replacements,
    )?;
    println!(
        "image swap: two faces of 1024x512 in {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    std::fs::write(out.join("two-faces-swapped.png"), png)?;

    // The peer: ffmpeg decoding and re-encoding the same video with the same settings, no swap.
    let video = media.join("two-faces.mp4");
    let t = Instant::now();
    let peer = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i"])
        .arg(&video)
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "18",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-movflags",
            "+faststart",
        ])
        .arg(out.join("transcode-only.mp4"))
        .status()?;
    if !peer.success() {
        return Err("the peer ffmpeg transcode failed".into());
    }
    let peer_secs = t.elapsed().as_secs_f64();

    let face = input(&media, "face_image", "astronaut.png")?;
    let output = out.join("two-faces-swapped.mp4");
    let t = Instant::now();
    let stats = jobs::video_face_swap(&video, &output, &out, &face)?;
    let elapsed = t.elapsed();
    let fps = stats.frames as f64 / elapsed.as_secs_f64();
    println!(
        "video swap: {} frames of 1024x512 (3 s, 2 faces) in {:.2} s = {fps:.1} frames/s ({} detections, {} faces pasted)",
        stats.frames,
        elapsed.as_secs_f64(),
        stats.detections,
        stats.faces_edited
    );
    println!(
        "peer ffmpeg transcode only (no swap): {:.2} s = {:.1} frames/s; swap/transcode time ratio {:.2}",
        peer_secs,
        stats.frames as f64 / peer_secs,
        elapsed.as_secs_f64() / peer_secs
    );
    let verdict = if elapsed < VIDEO_BUDGET {
        "PASS"
    } else {
        "FAIL"
    };
    println!(
        "budget: 3-second two-face video under {} s: {verdict}",
        VIDEO_BUDGET.as_secs()
    );
    println!("outputs kept in {}", out.display());
    if elapsed >= VIDEO_BUDGET {
        std::process::exit(1);
    }
    Ok(())
}
