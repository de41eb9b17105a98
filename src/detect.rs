//! `detectFaces`: free, offline face detection in the browser. The detector (faceswap-detect:
//! MediaPipe's BlazeFace model run by the crate's own network runner, the sandbox's own code,
//! compiled to wasm with SIMD) lives in `pkg/detect/`: it is fetched on the first
//! call only and runs in a Web Worker, so neither the core package nor the page pays for it.

use js_sys::Promise;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    #[wasm_bindgen(js_name = detectFaces)]
    fn load_and_detect(source: &JsValue, options: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = findPeople)]
    fn load_and_find_people(video: &JsValue, options: &JsValue) -> Promise;
}

/// Finds the faces in `source`: an `ImageData`, a canvas, an image, a `<video>` (its current
/// frame), an `ImageBitmap`, or a captured frame `{ base64 }` / base64 string. Options:
/// `minFaceSize` (pixels, at least 20; default 20), `threshold` (score 0 to 1, default 0.5),
/// `keypoints` (default false) and `smallFaces` (default false: also rustface, for group
/// photos). Resolves `{ boxes, scores }` (and `keypoints`: right eye, left eye, nose tip, mouth
/// centre, right ear, left ear, when asked) with boxes `[x1, y1, x2, y2]` sorted left to right,
/// ready for `cropFaces`. Finds frontal, turned and tilted faces of at least about 6% of the
/// frame's longer side. Costs no credit and sends nothing but the detector's own files over the
/// network.
#[wasm_bindgen(js_name = detectFaces, unchecked_return_type = "Promise<DetectedFaces>")]
pub fn detect_faces(
    #[wasm_bindgen(unchecked_param_type = "DetectSource")] source: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "DetectOptions")] options: JsValue,
) -> Promise {
    load_and_detect(&source, &options)
}

/// Finds the people in a video (a `<video>` with a file, a Blob or File, or a URL): samples
/// frames across the clip (`samplesPerSecond`, default 2), finds the faces in each, links them
/// into people by position and by appearance (face-api.js's face recognition network, fetched on
/// the first call only) and resolves `{ people, samples, duration, width, height }`, each person
/// with the best view of the face as base64 JPEG (`crop`, ready for `buildRefInfo`), its `box`
/// and `time`, and every sample's `times` and `boxes`. Options: `maxPeople` (default 10),
/// `threshold`, `onProgress` and `signal`. Runs in the detector's Web Worker.
#[wasm_bindgen(js_name = findPeople, unchecked_return_type = "Promise<FoundPeople>")]
pub fn find_people(
    #[wasm_bindgen(unchecked_param_type = "HTMLVideoElement | Blob | string")] video: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "FindPeopleOptions")] options: JsValue,
) -> Promise {
    load_and_find_people(&video, &options)
}
