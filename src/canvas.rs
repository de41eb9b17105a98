//! A drawing surface for frames and crops: an `OffscreenCanvas` where the browser has one, a
//! `<canvas>` element otherwise; drawing with a source rectangle and encoding with the browser's
//! own encoders, then base64 through `FileReader` (native code, no per-byte loop in wasm).

use alloc::{borrow::ToOwned, string::String};

use crate::drive::settle;
use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::{ClientError, ErrorCode};
use crate::js;

#[wasm_bindgen]
extern "C" {
    /// An `OffscreenCanvas` or an `HTMLCanvasElement`: both have these members.
    pub type AnyCanvas;
    #[wasm_bindgen(method, setter)]
    fn set_width(this: &AnyCanvas, width: u32);
    #[wasm_bindgen(method, setter)]
    fn set_height(this: &AnyCanvas, height: u32);
    #[wasm_bindgen(method, js_name = getContext)]
    fn get_context(this: &AnyCanvas, kind: &str) -> Option<Context2d>;
    #[wasm_bindgen(method, catch, js_name = convertToBlob)]
    fn convert_to_blob(this: &AnyCanvas, options: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = toBlob)]
    fn to_blob(
        this: &AnyCanvas,
        callback: &JsValue,
        kind: &str,
        quality: &JsValue,
    ) -> Result<(), JsValue>;

    /// The 2d context of either canvas kind.
    pub type Context2d;
    #[wasm_bindgen(method, catch, js_name = getImageData)]
    fn get_image_data(
        this: &Context2d,
        sx: f64,
        sy: f64,
        sw: f64,
        sh: f64,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = drawImage)]
    #[allow(clippy::too_many_arguments)]
    fn draw_image(
        this: &Context2d,
        image: &JsValue,
        sx: f64,
        sy: f64,
        sw: f64,
        sh: f64,
        dx: f64,
        dy: f64,
        dw: f64,
        dh: f64,
    ) -> Result<(), JsValue>;

    #[wasm_bindgen(constructor, js_class = "OffscreenCanvas", catch)]
    fn new_offscreen(width: u32, height: u32) -> Result<AnyCanvas, JsValue>;

    #[wasm_bindgen(js_namespace = document, js_name = createElement, catch)]
    fn create_element(name: &str) -> Result<AnyCanvas, JsValue>;

    /// The global `createImageBitmap`.
    #[wasm_bindgen(js_name = createImageBitmap, catch)]
    pub fn create_image_bitmap(source: &JsValue) -> Result<Promise, JsValue>;
}

/// Image encodings the library produces.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoding {
    /// `image/jpeg` (default), `image/png` or `image/webp`.
    pub mime: String,
    /// 0 to 1 for JPEG and WebP; the browser's default when absent.
    pub quality: Option<f64>,
}

impl Encoding {
    /// Reads `type` and `quality` from an options object.
    pub fn read(options: &JsValue) -> Result<Self, ClientError> {
        let kind = js::get(options, "type");
        let mime = if js::is_absent(&kind) {
            "image/jpeg".to_owned()
        } else {
            match kind.as_string().as_deref() {
                Some(t @ ("image/jpeg" | "image/png" | "image/webp")) => t.to_owned(),
                _ => {
                    return Err(ClientError::invalid_field(
                        "type",
                        "type must be \"image/jpeg\", \"image/png\" or \"image/webp\"",
                    ))
                }
            }
        };
        let quality = js::get(options, "quality");
        let quality = if js::is_absent(&quality) {
            None
        } else {
            Some(
                quality
                    .as_f64()
                    .filter(|q| (0.0..=1.0).contains(q))
                    .ok_or_else(|| {
                        ClientError::invalid_field(
                            "quality",
                            "quality must be a number from 0 to 1",
                        )
                    })?,
            )
        };
        Ok(Self { mime, quality })
    }
}

/// A canvas of a given size with its 2d context.
pub struct Surface {
    canvas: AnyCanvas,
    context: Context2d,
    offscreen: bool,
}

fn has_offscreen_canvas() -> bool {
    js_sys::Reflect::has(&js_sys::global(), &"OffscreenCanvas".into()).unwrap_or(false)
}

impl Surface {
    /// A `width` x `height` surface.
    pub fn new(width: u32, height: u32) -> Result<Self, ClientError> {
        let unavailable = |_| ClientError::internal("no canvas is available in this context");
        let offscreen = has_offscreen_canvas();
        let canvas = if offscreen {
            AnyCanvas::new_offscreen(width, height).map_err(unavailable)?
        } else {
            let canvas = create_element("canvas").map_err(unavailable)?;
            canvas.set_width(width);
            canvas.set_height(height);
            canvas
        };
        let context = canvas
            .get_context("2d")
            .ok_or_else(|| ClientError::internal("the canvas has no 2d context"))?;
        Ok(Self {
            canvas,
            context,
            offscreen,
        })
    }

    /// Draws the rectangle `(sx, sy, sw, sh)` of `image` over the whole surface of size `(dw, dh)`.
    #[allow(clippy::too_many_arguments)]
    pub fn draw(
        &self,
        image: &JsValue,
        sx: f64,
        sy: f64,
        sw: f64,
        sh: f64,
        dw: f64,
        dh: f64,
    ) -> Result<(), ClientError> {
        self.context
            .draw_image(image, sx, sy, sw, sh, 0.0, 0.0, dw, dh)
            .map_err(|err| {
                ClientError::new(
                    ErrorCode::INVALID_PARAMETER,
                    faceswap_core::text!("the image cannot be drawn: ", describe(&err)),
                )
            })
    }

    /// Encodes the surface; a cross-origin source without CORS gives `tainted_canvas`.
    pub async fn encode(&self, encoding: &Encoding) -> Result<web_sys::Blob, ClientError> {
        let quality = encoding
            .quality
            .map_or(JsValue::UNDEFINED, JsValue::from_f64);
        let promise = if self.offscreen {
            let options = Object::new();
            js::set(&options, "type", &encoding.mime.as_str().into());
            js::set(&options, "quality", &quality);
            self.canvas
                .convert_to_blob(&options)
                .map_err(|e| encode_error(&e))?
        } else {
            let canvas = &self.canvas;
            let mime = encoding.mime.clone();
            let mut failure = None;
            let promise = Promise::new(&mut |resolve, _reject| {
                if let Err(err) = canvas.to_blob(&resolve, &mime, &quality) {
                    failure = Some(err);
                }
            });
            if let Some(err) = failure {
                return Err(encode_error(&err));
            }
            promise
        };
        let blob = settle(promise).await.map_err(|e| encode_error(&e))?;
        blob.dyn_into::<web_sys::Blob>()
            .map_err(|_| ClientError::internal("the browser could not encode the image"))
    }
}

/// Base64 (no `data:` prefix) of a Blob, through the browser's `FileReader`.
pub async fn blob_to_base64(blob: &web_sys::Blob) -> Result<String, ClientError> {
    let reader =
        web_sys::FileReader::new().map_err(|_| ClientError::internal("FileReader unavailable"))?;
    let promise = Promise::new(&mut |resolve, reject| {
        reader.set_onload(Some(resolve.unchecked_ref()));
        reader.set_onerror(Some(reject.unchecked_ref()));
    });
    reader
        .read_as_data_url(blob)
        .map_err(|_| ClientError::internal("the image cannot be read"))?;
    settle(promise)
        .await
        .map_err(|_| ClientError::internal("the image cannot be read"))?;
    reader
        .result()
        .ok()
        .and_then(|r| r.as_string())
        .and_then(|url| url.split_once(',').map(|(_, data)| data.to_owned()))
        .ok_or_else(|| ClientError::internal("the image cannot be read as a data: URL"))
}

fn encode_error(err: &JsValue) -> ClientError {
    let name = js::get(err, "name").as_string().unwrap_or_default();
    if name == "SecurityError" {
        ClientError::new(
            ErrorCode::TaintedCanvas,
            "the video or image comes from another origin without CORS, so the browser forbids reading its pixels; \
             set crossOrigin=\"anonymous\" on the element (before setting src) and serve the file with \
             Access-Control-Allow-Origin",
        )
    } else {
        ClientError::internal(faceswap_core::text!(
            "the browser could not encode the image: ",
            describe(err)
        ))
    }
}

fn describe(err: &JsValue) -> String {
    js::get(err, "message")
        .as_string()
        .unwrap_or_else(|| "unknown error".to_owned())
}
