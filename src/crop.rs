//! `cropFaces`: cut each face box out of a frame, with padding, as plain base64 images, using the
//! browser's canvas (drawImage with a source rectangle) and native encoders.

use crate::drive::settle;
use alloc::{borrow::ToOwned, boxed::Box, string::String, vec::Vec};
use faceswap_core::float;
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::canvas::{blob_to_base64, create_image_bitmap, Encoding, Surface};
use crate::error::ClientError;
use crate::js;

/// Padding added on every side, as a fraction of the box, when the options give none.
const DEFAULT_PADDING: f64 = 0.2;

/// A pixel rectangle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width, at least 1.
    pub width: f64,
    /// Height, at least 1.
    pub height: f64,
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
    crate::drive::run(Box::pin(crop(frame, boxes, options)))
}

async fn crop(frame: JsValue, boxes: JsValue, options: JsValue) -> Result<JsValue, ClientError> {
    let base64 = frame_base64(&frame)?;
    let encoding = Encoding::read(&options)?;
    let padding = padding_option(&options)?;
    let square = js::get(&options, "square").as_bool().unwrap_or(false);
    let boxes = read_boxes(&boxes)?;

    let bitmap = decode_base64_image(&base64, "frame").await?;
    let frame_width = js::get(&bitmap, "width").as_f64().unwrap_or(0.0);
    let frame_height = js::get(&bitmap, "height").as_f64().unwrap_or(0.0);
    let mut rects = Vec::with_capacity(boxes.len());
    for (i, b) in boxes.iter().enumerate() {
        let rect = crop_rect(*b, padding, square, frame_width, frame_height).ok_or_else(|| {
            ClientError::invalid_field(
                "boxes",
                faceswap_core::text!(
                    "boxes[",
                    i,
                    "] lies entirely outside the ",
                    frame_width as u32,
                    " x ",
                    frame_height as u32,
                    " frame"
                ),
            )
        })?;
        rects.push(rect);
    }

    let crops = Array::new();
    for rect in rects {
        let surface = Surface::new(rect.width as u32, rect.height as u32)?;
        surface.draw(
            &bitmap,
            rect.x,
            rect.y,
            rect.width,
            rect.height,
            rect.width,
            rect.height,
        )?;
        let blob = surface.encode(&encoding).await?;
        crops.push(&blob_to_base64(&blob).await?.into());
    }
    if let Ok(close) = js::get(&bitmap, "close").dyn_into::<js_sys::Function>() {
        let _ = close.call0(&bitmap);
    }
    Ok(crops.into())
}

/// The base64 of a frame argument, without a `data:` prefix.
fn frame_base64(frame: &JsValue) -> Result<String, ClientError> {
    let text = frame
        .as_string()
        .or_else(|| js::get(frame, "base64").as_string())
        .ok_or_else(|| {
            ClientError::invalid_field(
                "frame",
                "frame must be a captured frame { base64 } or a base64 string",
            )
        })?;
    let plain = faceswap_core::base64_image::strip_data_prefix(&text);
    if plain.is_empty() {
        return Err(ClientError::invalid_field("frame", "frame is empty"));
    }
    Ok(plain.to_owned())
}

fn padding_option(options: &JsValue) -> Result<f64, ClientError> {
    let value = js::get(options, "padding");
    if js::is_absent(&value) {
        return Ok(DEFAULT_PADDING);
    }
    value
        .as_f64()
        .filter(|p| p.is_finite() && *p >= 0.0)
        .ok_or_else(|| {
            ClientError::invalid_field(
                "padding",
                "padding must be a fraction of the box, 0 or more",
            )
        })
}

/// Reads and checks the boxes: four finite numbers each, x2 > x1 and y2 > y1.
fn read_boxes(boxes: &JsValue) -> Result<Vec<[f64; 4]>, ClientError> {
    let list: Array = boxes.clone().dyn_into().map_err(|_| {
        ClientError::invalid_field("boxes", "boxes must be an array of [x1, y1, x2, y2]")
    })?;
    // A loop rather than collecting into a `Result`, which costs more wasm.
    let mut boxes = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let bad = |why: &str| {
            ClientError::invalid_field("boxes", faceswap_core::text!("boxes[", i, "] ", why))
        };
        let entry: Array = entry
            .dyn_into()
            .map_err(|_| bad("must be [x1, y1, x2, y2]"))?;
        if entry.length() != 4 {
            return Err(bad("must have exactly 4 numbers [x1, y1, x2, y2]"));
        }
        let mut b = [0.0; 4];
        for (slot, value) in b.iter_mut().zip(entry.iter()) {
            *slot = value
                .as_f64()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad("holds a value that is not a finite number"))?;
        }
        check_box(b).map_err(bad)?;
        boxes.push(b);
    }
    Ok(boxes)
}

/// Checks one box's shape: not empty, not inverted.
pub fn check_box(b: [f64; 4]) -> Result<(), &'static str> {
    let [x1, y1, x2, y2] = b;
    if x2 < x1 || y2 < y1 {
        return Err("is inverted (x2 < x1 or y2 < y1)");
    }
    if x2 - x1 < 1.0 || y2 - y1 < 1.0 {
        return Err("is empty (less than one pixel wide or high)");
    }
    Ok(())
}

/// The padded (and, if asked, squared) crop of box `b`, clamped to the frame, in whole pixels;
/// `None` when the box does not overlap the frame.
pub fn crop_rect(
    b: [f64; 4],
    padding: f64,
    square: bool,
    frame_width: f64,
    frame_height: f64,
) -> Option<Rect> {
    let [x1, y1, x2, y2] = b;
    if x2 <= 0.0 || y2 <= 0.0 || x1 >= frame_width || y1 >= frame_height {
        return None;
    }
    let (w, h) = (x2 - x1, y2 - y1);
    let (mut left, mut top) = (x1 - w * padding, y1 - h * padding);
    let (mut right, mut bottom) = (x2 + w * padding, y2 + h * padding);
    if square {
        let side = (right - left).max(bottom - top);
        let (cx, cy) = ((left + right) / 2.0, (top + bottom) / 2.0);
        left = cx - side / 2.0;
        right = cx + side / 2.0;
        top = cy - side / 2.0;
        bottom = cy + side / 2.0;
    }
    let left = float::floor(left.max(0.0));
    let top = float::floor(top.max(0.0));
    let right = float::ceil(right.min(frame_width));
    let bottom = float::ceil(bottom.min(frame_height));
    (right - left >= 1.0 && bottom - top >= 1.0).then_some(Rect {
        x: left,
        y: top,
        width: right - left,
        height: bottom - top,
    })
}

/// Decodes base64 image bytes into an `ImageBitmap` with the browser's decoder; `field` names
/// the argument in errors.
async fn decode_base64_image(base64: &str, field: &str) -> Result<JsValue, ClientError> {
    let not_an_image = || {
        ClientError::invalid_field(
            field,
            faceswap_core::text!(field, " is not a JPEG, PNG or WebP image in base64"),
        )
    };
    let url = faceswap_core::text!("data:application/octet-stream;base64,", base64);
    let response = settle(js::global_fetch_url(&url))
        .await
        .map_err(|_| not_an_image())?;
    let response: web_sys::Response = response.unchecked_into();
    let blob = settle(response.blob().map_err(|_| not_an_image())?)
        .await
        .map_err(|_| not_an_image())?;
    let promise = create_image_bitmap(&blob).map_err(|_| not_an_image())?;
    settle(promise).await.map_err(|_| not_an_image())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_is_added_on_every_side_and_clamped() {
        let rect = crop_rect([100.0, 100.0, 200.0, 150.0], 0.2, false, 1000.0, 1000.0).unwrap();
        assert_eq!(
            rect,
            Rect {
                x: 80.0,
                y: 90.0,
                width: 140.0,
                height: 70.0
            }
        );
        let edge = crop_rect([0.0, 0.0, 100.0, 100.0], 0.5, false, 120.0, 1000.0).unwrap();
        assert_eq!(
            edge,
            Rect {
                x: 0.0,
                y: 0.0,
                width: 120.0,
                height: 150.0
            }
        );
    }

    #[test]
    fn square_grows_the_shorter_side() {
        let rect = crop_rect([100.0, 100.0, 200.0, 150.0], 0.0, true, 1000.0, 1000.0).unwrap();
        assert_eq!((rect.width, rect.height), (100.0, 100.0));
    }

    #[test]
    fn boxes_outside_the_frame_or_malformed_are_refused() {
        assert_eq!(
            crop_rect([1200.0, 0.0, 1300.0, 50.0], 0.2, false, 1000.0, 1000.0),
            None
        );
        assert_eq!(
            crop_rect([-50.0, -50.0, 0.0, 0.0], 0.2, false, 1000.0, 1000.0),
            None
        );
        assert!(check_box([10.0, 10.0, 5.0, 20.0]).is_err());
        assert!(check_box([10.0, 10.0, 10.5, 20.0]).is_err());
        assert!(check_box([10.0, 10.0, 20.0, 20.0]).is_ok());
    }
}
