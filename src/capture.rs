//! `captureFrame`: seek a `<video>`, wait until the frame is really presented, draw it and encode
//! it as plain base64.

use crate::drive::settle;
use alloc::boxed::Box;
use faceswap_core::float;
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlVideoElement;

use crate::canvas::{blob_to_base64, Encoding, Surface};
use crate::error::{ClientError, ErrorCode};
use crate::js;

/// How long a video may take to have data, or to finish a seek.
const MEDIA_WAIT_MS: f64 = 15_000.0;
/// How long to wait for `requestVideoFrameCallback` after a seek before trusting `seeked` alone
/// (hidden or off-screen videos may never present a frame).
const FRAME_CALLBACK_WAIT_MS: f64 = 250.0;
/// `HTMLMediaElement.HAVE_CURRENT_DATA`.
const HAVE_CURRENT_DATA: u16 = 2;

/// Captures a frame of `video`. Options: `time` (seconds; the current time when absent), `type`
/// (`image/jpeg` default, `image/png`, `image/webp`), `quality` (0 to 1) and `maxWidth` (scales
/// down keeping the aspect ratio). Resolves `{ base64, width, height, time }` where `base64` has
/// no `data:` prefix and `time` is the presented frame's media time. A cross-origin video without
/// CORS rejects with `code: "tainted_canvas"`.
#[wasm_bindgen(js_name = captureFrame, unchecked_return_type = "Promise<CapturedFrame>")]
pub fn capture_frame(
    #[wasm_bindgen(unchecked_param_type = "HTMLVideoElement")] video: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "CaptureOptions")] options: JsValue,
) -> Promise {
    crate::drive::run(Box::pin(capture(video, options)))
}

async fn capture(video: JsValue, options: JsValue) -> Result<JsValue, ClientError> {
    let video: HtmlVideoElement = video
        .dyn_into()
        .map_err(|_| ClientError::invalid_field("video", "video must be an HTMLVideoElement"))?;
    let encoding = Encoding::read(&options)?;
    let time = optional_seconds(&options, "time")?;
    let max_width = optional_positive(&options, "maxWidth")?;
    check_usable(&video)?;

    if video.ready_state() < HAVE_CURRENT_DATA {
        wait_for(
            &video,
            &["loadeddata"],
            MEDIA_WAIT_MS,
            "the video has no data to capture yet",
        )
        .await?;
    }
    let mut presented = video.current_time();
    if let Some(time) = time {
        let duration = video.duration();
        if duration.is_finite() && time > duration {
            return Err(ClientError::invalid_field(
                "time",
                faceswap_core::text!(
                    "time is past the end of the video (",
                    (duration * 1000.0) as u64,
                    " ms long)"
                ),
            ));
        }
        let frame = frame_presented(&video);
        video.set_current_time(time);
        wait_for(
            &video,
            &["seeked"],
            MEDIA_WAIT_MS,
            "the video did not finish seeking",
        )
        .await?;
        presented = match frame {
            Some(frame) => first_of(frame, FRAME_CALLBACK_WAIT_MS)
                .await
                .unwrap_or_else(|| video.current_time()),
            None => video.current_time(),
        };
    }
    check_usable(&video)?;

    let (width, height) = (video.video_width(), video.video_height());
    if width == 0 || height == 0 {
        return Err(ClientError::invalid_field(
            "video",
            "video has no picture (0 x 0)",
        ));
    }
    let (out_width, out_height) = scaled(width, height, max_width);
    let surface = Surface::new(out_width, out_height)?;
    surface.draw(
        &video,
        0.0,
        0.0,
        width.into(),
        height.into(),
        out_width.into(),
        out_height.into(),
    )?;
    let blob = surface.encode(&encoding).await?;
    let base64 = blob_to_base64(&blob).await?;

    let result = Object::new();
    js::set(&result, "base64", &base64.into());
    js::set(&result, "width", &out_width.into());
    js::set(&result, "height", &out_height.into());
    js::set(&result, "time", &presented.into());
    Ok(result.into())
}

/// The output size for `maxWidth`, keeping the aspect ratio.
fn scaled(width: u32, height: u32, max_width: Option<f64>) -> (u32, u32) {
    match max_width {
        Some(max) if f64::from(width) > max => {
            let w = float::floor(max).max(1.0);
            let h = float::round(f64::from(height) * w / f64::from(width)).max(1.0);
            (w as u32, h as u32)
        }
        _ => (width, height),
    }
}

fn check_usable(video: &HtmlVideoElement) -> Result<(), ClientError> {
    if let Some(error) = video.error() {
        let kind = match error.code() {
            1 => "loading was aborted",
            2 => "a network error stopped the download",
            3 => "the video could not be decoded",
            _ => "the format or source is not supported",
        };
        return Err(ClientError::invalid_field(
            "video",
            faceswap_core::text!("video failed to load: ", kind),
        ));
    }
    // `currentSrc` is set only once loading starts; a just-set `src`, a `srcObject` or `<source>`
    // children count as a source too.
    let has_children = js::get(video, "childElementCount").as_f64().unwrap_or(0.0) > 0.0;
    if video.current_src().is_empty()
        && video.src().is_empty()
        && video.src_object().is_none()
        && !has_children
    {
        return Err(ClientError::invalid_field(
            "video",
            "video has no source (src or srcObject) to capture from",
        ));
    }
    Ok(())
}

fn optional_seconds(options: &JsValue, name: &str) -> Result<Option<f64>, ClientError> {
    let value = js::get(options, name);
    if js::is_absent(&value) {
        return Ok(None);
    }
    value
        .as_f64()
        .filter(|t| t.is_finite() && *t >= 0.0)
        .map(Some)
        .ok_or_else(|| {
            ClientError::invalid_field(
                name,
                faceswap_core::text!(name, " must be a number of seconds, 0 or more"),
            )
        })
}

fn optional_positive(options: &JsValue, name: &str) -> Result<Option<f64>, ClientError> {
    let value = js::get(options, name);
    if js::is_absent(&value) {
        return Ok(None);
    }
    value
        .as_f64()
        .filter(|n| n.is_finite() && *n >= 1.0)
        .map(Some)
        .ok_or_else(|| {
            ClientError::invalid_field(
                name,
                faceswap_core::text!(name, " must be a number of pixels, 1 or more"),
            )
        })
}

/// A promise of the next presented frame's media time, where `requestVideoFrameCallback` exists.
fn frame_presented(video: &HtmlVideoElement) -> Option<Promise> {
    let method = Reflect::get(video, &"requestVideoFrameCallback".into()).ok()?;
    let method: Function = method.dyn_into().ok()?;
    let video = video.clone();
    Some(Promise::new(&mut |resolve, _| {
        let callback = Closure::once_into_js(move |_now: JsValue, metadata: JsValue| {
            let _ = resolve.call1(&JsValue::UNDEFINED, &js::get(&metadata, "mediaTime"));
        });
        let _ = method.call1(&video, &callback);
    }))
}

/// The number `promise` resolves to, or `None` after `ms`.
async fn first_of(promise: Promise, ms: f64) -> Option<f64> {
    let timer = Promise::new(&mut |resolve, _| {
        let _ = js::set_timeout_call(&resolve, ms);
    });
    let race = Promise::race(&js_sys::Array::of2(&promise, &timer));
    settle(race).await.ok().and_then(|v| v.as_f64())
}

/// Waits for one of `events` on `video`, for at most `ms`; an `error` event or the time limit
/// rejects.
async fn wait_for(
    video: &HtmlVideoElement,
    events: &[&str],
    ms: f64,
    what: &str,
) -> Result<(), ClientError> {
    let target: &web_sys::EventTarget = video.as_ref();
    let promise = Promise::new(&mut |resolve, reject| {
        for event in events {
            let _ = target.add_event_listener_with_callback(event, &resolve);
        }
        let _ = target.add_event_listener_with_callback("error", &reject);
        let _ = js::set_timeout_call(&reject, ms);
    });
    let outcome = settle(promise).await;
    match outcome {
        Ok(_) => Ok(()),
        Err(_) if video.error().is_some() => check_usable(video),
        Err(_) => Err(ClientError::new(
            ErrorCode::Timeout,
            faceswap_core::text!(what, " within ", (ms / 1000.0) as u64, " s"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::scaled;

    #[test]
    fn max_width_keeps_the_aspect_ratio() {
        assert_eq!(scaled(1920, 1080, Some(960.0)), (960, 540));
        assert_eq!(scaled(1920, 1080, None), (1920, 1080));
        assert_eq!(scaled(640, 360, Some(1280.0)), (640, 360));
        assert_eq!(scaled(1000, 3, Some(10.0)), (10, 1));
    }
}
