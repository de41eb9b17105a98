//! `captureFrame` and `cropFaces` in a build without the `media` feature (the package root and
//! every provider entry): the same exports, which load the media helpers' own module
//! (`pkg/media.js`, this library built with `media`) on the first call and run there, with every
//! check and message of theirs. A page that never captures or crops never downloads them.

use js_sys::Promise;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    #[wasm_bindgen(js_name = captureFrame)]
    fn load_and_capture(video: &JsValue, options: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = cropFaces)]
    fn load_and_crop(frame: &JsValue, boxes: &JsValue, options: &JsValue) -> Promise;
}

/// Captures the current frame of `video` (or the frame at `options.time` seconds) as a base64
/// image: `{ base64, width, height, time }`. Options: `time`, `type` (`image/jpeg` by default,
/// `image/png`, `image/webp`), `quality` (0 to 1) and `maxWidth`. A video from another origin
/// needs `crossOrigin="anonymous"` and CORS headers, otherwise `tainted_canvas`.
#[wasm_bindgen(js_name = captureFrame, unchecked_return_type = "Promise<CapturedFrame>")]
pub fn capture_frame(
    #[wasm_bindgen(unchecked_param_type = "HTMLVideoElement")] video: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "CaptureOptions")] options: JsValue,
) -> Promise {
    load_and_capture(&video, &options)
}

/// Crops `boxes` (`[x1, y1, x2, y2]` as the provider returns them) out of `frame` (a captured
/// frame `{ base64 }` or a base64 string, a `data:` prefix allowed). Options: `padding` (a
/// fraction of the box added on every side, default 0.2, clamped to the frame), `square` (grow
/// the shorter side), `type` and `quality`. Resolves one plain-base64 image per box, in order.
#[wasm_bindgen(js_name = cropFaces, unchecked_return_type = "Promise<string[]>")]
pub fn crop_faces(
    #[wasm_bindgen(unchecked_param_type = "{ base64: string } | string")] frame: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ReadonlyArray<FaceBox | readonly number[]>")]
    boxes: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "CropOptions")] options: JsValue,
) -> Promise {
    load_and_crop(&frame, &boxes, &options)
}
