//! The browser side: one export the worker calls with an RGBA frame.

use wasm_bindgen::prelude::*;

use crate::{to_gray, SeetaDetector};

/// Detects faces in an RGBA frame (`ImageData.data`). Returns the boxes flattened as
/// `[x1, y1, x2, y2, score, ...]`, sorted left to right; throws if the model cannot load.
#[wasm_bindgen(js_name = detectRgba)]
pub fn detect_rgba(
    rgba: &[u8],
    width: u32,
    height: u32,
    min_face_size: u32,
    score_threshold: f64,
) -> Result<Vec<f64>, JsError> {
    let mut detector = SeetaDetector::with_options(min_face_size, score_threshold)
        .ok_or_else(|| JsError::new("the built-in face model could not be read"))?;
    let gray = to_gray(rgba, 4);
    Ok(detector
        .detect_gray(&gray, width, height)
        .iter()
        .flat_map(|f| {
            [
                f64::from(f.x1),
                f64::from(f.y1),
                f64::from(f.x2),
                f64::from(f.y2),
                f.score,
            ]
        })
        .collect())
}
