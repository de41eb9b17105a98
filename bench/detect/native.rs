//! Native half of `bench/detect`: faceswap-detect's BlazeFace on a 1024x512 RGBA frame given as raw bytes
//! (`cargo run --release -p faceswap-bench --bin detect-bench -- FRAME.rgba WIDTH HEIGHT ROUNDS`).
//! Prints one JSON line: the median milliseconds per frame and the boxes found.

#![allow(clippy::print_stdout)]

use std::error::Error;
use std::time::Instant;

/// A whole-number argument, or an error naming it.
fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{name} must be a whole number, not {value:?}"))
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, width, height, rounds] = args.as_slice() else {
        return Err("usage: detect-bench FRAME.rgba WIDTH HEIGHT ROUNDS".into());
    };
    let rgba = std::fs::read(path).map_err(|err| format!("{path}: {err}"))?;
    let width: u32 = number("WIDTH", width)?;
    let height: u32 = number("HEIGHT", height)?;
    let rounds: usize = number("ROUNDS", rounds)?;
    let mut times = Vec::with_capacity(rounds);
    let mut faces = Vec::new();
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        // The same steps as the wasm export: the detector (parsed once), detection.
        let mut detector = faceswap_detect::FaceDetector::new()?;
        faces = detector.detect(&rgba, 4, width, height, faceswap_detect::MIN_SCORE);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let boxes: Vec<String> = faces
        .iter()
        .map(|f| {
            format!(
                "[{},{},{},{}]",
                f.x1.round(),
                f.y1.round(),
                f.x2.round(),
                f.y2.round()
            )
        })
        .collect();
    println!(
        "{{\"median_ms\":{:.3},\"boxes\":[{}]}}",
        times.get(times.len() / 2).copied().unwrap_or(f64::NAN),
        boxes.join(",")
    );
    Ok(())
}
