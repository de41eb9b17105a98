//! The browser side: the exports the worker calls with an RGBA frame.

use wasm_bindgen::prelude::*;

use crate::FaceDetector;

/// Values per face in [`detect_rgba`]'s answer without keypoints: `x1, y1, x2, y2, score`.
const BOX: usize = 5;

/// Detects faces in an RGBA frame (`ImageData.data`) with BlazeFace. Returns the faces
/// flattened, sorted left to right: `[x1, y1, x2, y2, score, ...]`, each followed by the six
/// keypoints `x, y` (12 values) when `keypoints` is true; throws if the model cannot load.
#[wasm_bindgen(js_name = detectRgba)]
pub fn detect_rgba(
    rgba: &[u8],
    width: u32,
    height: u32,
    min_score: f32,
    keypoints: bool,
) -> Result<Vec<f64>, JsError> {
    thread_local! {
        static DETECTOR: std::cell::RefCell<Option<FaceDetector>> = const { std::cell::RefCell::new(None) };
    }
    DETECTOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let detector = match slot.as_mut() {
            Some(detector) => detector,
            None => slot.insert(FaceDetector::new().map_err(|err| JsError::new(&err.to_string()))?),
        };
        Ok(flatten(
            detector.detect(rgba, 4, width, height, min_score),
            keypoints,
        ))
    })
}

/// BlazeFace plus the small faces only rustface finds (feature `seeta`: the module
/// `pkg/detect/seeta/`, loaded for `detectFaces(source, { smallFaces: true })`), in
/// [`detect_rgba`]'s format; faces from rustface have NaN keypoints.
#[cfg(feature = "seeta")]
#[wasm_bindgen(js_name = detectRgbaSmall)]
pub fn detect_rgba_small(
    rgba: &[u8],
    width: u32,
    height: u32,
    min_score: f32,
    keypoints: bool,
) -> Result<Vec<f64>, JsError> {
    let mut detector =
        crate::CombinedDetector::new().map_err(|err| JsError::new(&err.to_string()))?;
    Ok(flatten(
        detector.detect(rgba, 4, width, height, min_score),
        keypoints,
    ))
}

/// Faces as `[x1, y1, x2, y2, score, (12 keypoint values when asked), ...]`.
fn flatten(faces: Vec<crate::Face>, keypoints: bool) -> Vec<f64> {
    let mut flat = Vec::with_capacity(faces.len() * (BOX + 12));
    for face in faces {
        flat.extend([face.x1, face.y1, face.x2, face.y2].map(f64::from));
        flat.push(face.score);
        if keypoints {
            match face.keypoints {
                Some(points) => flat.extend(points.iter().flatten().map(|&v| f64::from(v))),
                None => flat.extend([f64::NAN; 12]),
            }
        }
    }
    flat
}

/// rustface alone (feature `seeta`), for `bench/detect`: `[x1, y1, x2, y2, score, ...]`.
#[cfg(feature = "seeta")]
#[wasm_bindgen(js_name = detectRgbaSeeta)]
pub fn detect_rgba_seeta(
    rgba: &[u8],
    width: u32,
    height: u32,
    min_face_size: u32,
    score_threshold: f64,
) -> Result<Vec<f64>, JsError> {
    let mut detector = crate::SeetaDetector::with_options(min_face_size, score_threshold)
        .ok_or_else(|| JsError::new("the built-in face model could not be read"))?;
    let gray = crate::to_gray(rgba, 4);
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
