//! The browser's request for a PiAPI task, its validation and the body sent upstream.
//!
//! The browser sends PiAPI's own shape, `{"model", "task_type", "input": {...}}`, plus an
//! optional `duration` (seconds, video only) that prices the video swap and is not sent on. The
//! browser's `config` is dropped: `config.webhook_config` and `config.service_mode` are the
//! proxy's ([`Request::to_upstream_json`]).
//!
//! What can be checked in a request is checked: images are http(s) URLs whose path ends in
//! `.jpg`, `.jpeg`, `.png` or `.webp`, or base64 holding a JPEG, PNG or WebP image (by its magic
//! bytes; a `data:image/...;base64,` prefix is allowed); the video is an http(s) URL ending in
//! `.mp4` or base64 holding an MP4. PiAPI's limits on pixels (2048x2048) and frames (600) need
//! the file itself: a base64 image larger than [`super::MAX_IMAGE`] is refused here (its header is
//! read, [`crate::media::image_dimensions`]); a URL cannot be checked and is left to PiAPI, whose
//! refusal keeps its meaning ([`crate::provider::FaultKind::InvalidInput`]), as are the frames.

use alloc::{borrow::ToOwned, string::String, vec, vec::Vec};

use serde::{Deserialize, Serialize};

use super::Operation;
use crate::base64_image::{check_base64_image, decode_head, decode_prefix, strip_data_prefix};
use crate::media::DIMENSIONS_PREFIX;
use crate::parse::{from_json, from_value};
use crate::provider::ProviderOperation;
use crate::url::check_http_url;
use crate::{FieldError, MediaType};

/// `input` of `Qubico/image-toolkit` `face-swap`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceSwapInput {
    /// The image whose largest face is replaced: URL or base64.
    pub target_image: String,
    /// The image holding the new face: URL or base64.
    pub swap_image: String,
}

/// `input` of `Qubico/image-toolkit` `multi-face-swap`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiFaceSwapInput {
    /// The image whose faces are replaced: URL or base64.
    pub target_image: String,
    /// The image holding the new faces: URL or base64.
    pub swap_image: String,
    /// Faces of `swap_image`, from 0, comma separated (`"0,1"`).
    pub swap_faces_index: String,
    /// Faces of `target_image`, from 0; the i-th is replaced by the i-th of `swap_faces_index`.
    pub target_faces_index: String,
}

/// `input` of `Qubico/video-toolkit` `face-swap`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VideoFaceSwapInput {
    /// The MP4 video: URL or base64.
    pub target_video: String,
    /// The image holding the new face(s): URL or base64.
    pub swap_image: String,
    /// Faces of `swap_image`, from 0, comma separated; with `target_faces_index` or not at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap_faces_index: Option<String>,
    /// Faces of the video, from 0, paired with `swap_faces_index`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_faces_index: Option<String>,
}

/// A validated request of one of the three operations.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `face-swap` of the image toolkit.
    FaceSwap(FaceSwapInput),
    /// `multi-face-swap` of the image toolkit.
    MultiFaceSwap(MultiFaceSwapInput),
    /// `face-swap` of the video toolkit, with the video's length in seconds when the browser
    /// gave it (it prices the task; [`super::price`]).
    VideoFaceSwap {
        /// The input.
        input: VideoFaceSwapInput,
        /// The video's length in seconds.
        duration: Option<f64>,
    },
}

/// The browser's body, before the input is read by its operation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    model: String,
    task_type: String,
    input: serde_json::Value,
    /// Dropped: the proxy sets its own.
    #[serde(default)]
    #[allow(dead_code)]
    config: Option<serde_json::Value>,
    #[serde(default)]
    duration: Option<f64>,
}

fn input_of<T: serde::de::DeserializeOwned>(input: &serde_json::Value) -> Result<T, FieldError> {
    if !input.is_object() {
        return Err(FieldError::new("input", "input must be an object"));
    }
    from_value(input).map_err(|err| err.within("input"))
}

impl Request {
    /// Parses and validates a JSON body.
    pub fn from_json(body: &[u8]) -> Result<Self, FieldError> {
        Self::from_body(from_json(body)?)
    }

    /// Parses and validates a JSON value (a prepared request, or a JS value in the library).
    pub fn from_value(value: &serde_json::Value) -> Result<Self, FieldError> {
        Self::from_body(from_value(value)?)
    }

    fn from_body(body: Body) -> Result<Self, FieldError> {
        let op = Operation::of_pair(&body.model, &body.task_type)?;
        if body.duration.is_some() && op != Operation::VideoFaceSwap {
            return Err(FieldError::new(
                "duration",
                "duration applies to the video face swap only",
            ));
        }
        let request = match op {
            Operation::FaceSwap => Request::FaceSwap(input_of(&body.input)?),
            Operation::MultiFaceSwap => Request::MultiFaceSwap(input_of(&body.input)?),
            Operation::VideoFaceSwap => Request::VideoFaceSwap {
                input: input_of(&body.input)?,
                duration: body.duration,
            },
        };
        request.validate()?;
        Ok(request)
    }

    /// The operation.
    pub fn operation(&self) -> Operation {
        match self {
            Request::FaceSwap(_) => Operation::FaceSwap,
            Request::MultiFaceSwap(_) => Operation::MultiFaceSwap,
            Request::VideoFaceSwap { .. } => Operation::VideoFaceSwap,
        }
    }

    /// The price in US dollars.
    pub fn price(&self) -> f64 {
        let duration = match self {
            Request::VideoFaceSwap { duration, .. } => *duration,
            _ => None,
        };
        super::price(self.operation(), duration)
    }

    /// The image fields given as URLs, by their wire names: the images core cannot measure
    /// (base64 ones it checks itself, [`check_image`]).
    pub fn image_urls(&self) -> Vec<(&'static str, &str)> {
        let fields: Vec<(&'static str, &str)> = match self {
            Request::FaceSwap(input) => vec![
                ("input.target_image", input.target_image.as_str()),
                ("input.swap_image", input.swap_image.as_str()),
            ],
            Request::MultiFaceSwap(input) => vec![
                ("input.target_image", input.target_image.as_str()),
                ("input.swap_image", input.swap_image.as_str()),
            ],
            Request::VideoFaceSwap { input, .. } => {
                vec![("input.swap_image", input.swap_image.as_str())]
            }
        };
        fields
            .into_iter()
            .filter(|(_, value)| is_url(value))
            .collect()
    }

    /// Checks every field; the first fault names its field (`input.swap_faces_index`).
    pub fn validate(&self) -> Result<(), FieldError> {
        match self {
            Request::FaceSwap(input) => {
                check_image("input.target_image", &input.target_image)?;
                check_image("input.swap_image", &input.swap_image)
            }
            Request::MultiFaceSwap(input) => {
                check_image("input.target_image", &input.target_image)?;
                check_image("input.swap_image", &input.swap_image)?;
                check_faces_index_pair(&input.swap_faces_index, &input.target_faces_index)
            }
            Request::VideoFaceSwap { input, duration } => {
                check_video("input.target_video", &input.target_video)?;
                check_image("input.swap_image", &input.swap_image)?;
                match (&input.swap_faces_index, &input.target_faces_index) {
                    (Some(swap), Some(target)) => check_faces_index_pair(swap, target)?,
                    (None, None) => {}
                    (Some(_), None) => {
                        return Err(FieldError::new(
                            "input.target_faces_index",
                            "input.target_faces_index is required with input.swap_faces_index",
                        ))
                    }
                    (None, Some(_)) => {
                        return Err(FieldError::new(
                            "input.swap_faces_index",
                            "input.swap_faces_index is required with input.target_faces_index",
                        ))
                    }
                }
                match duration {
                    Some(seconds) if !(seconds.is_finite() && *seconds > 0.0) => {
                        Err(FieldError::new(
                            "duration",
                            "duration must be a positive number of seconds",
                        ))
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    /// The request as the prepared JSON value: the browser's shape, `config` dropped.
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        let op = self.operation();
        let mut value = serde_json::json!({
            "model": op.model(),
            "task_type": op.task_type(),
            "input": self.input_value()?,
        });
        if let (
            Request::VideoFaceSwap {
                duration: Some(d), ..
            },
            Some(object),
        ) = (self, value.as_object_mut())
        {
            object.insert("duration".to_owned(), serde_json::json!(d));
        }
        Ok(value)
    }

    fn input_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Request::FaceSwap(input) => serde_json::to_value(input),
            Request::MultiFaceSwap(input) => serde_json::to_value(input),
            Request::VideoFaceSwap { input, .. } => serde_json::to_value(input),
        }
    }

    /// The body of `POST api/v1/task`: model, task_type, input, and the proxy's `config`
    /// (`webhook_config` with the proxy's endpoint and the task's secret, `service_mode` when
    /// the operator set one). `duration` is not sent.
    pub fn to_upstream_json(
        &self,
        webhook: Option<(&str, Option<&str>)>,
        service_mode: Option<&str>,
    ) -> Result<Vec<u8>, serde_json::Error> {
        let op = self.operation();
        let mut config = serde_json::Map::new();
        if let Some((endpoint, secret)) = webhook {
            let mut webhook_config = serde_json::Map::new();
            webhook_config.insert("endpoint".to_owned(), serde_json::json!(endpoint));
            if let Some(secret) = secret {
                webhook_config.insert("secret".to_owned(), serde_json::json!(secret));
            }
            config.insert(
                "webhook_config".to_owned(),
                serde_json::Value::Object(webhook_config),
            );
        }
        if let Some(mode) = service_mode {
            config.insert("service_mode".to_owned(), serde_json::json!(mode));
        }
        let mut body = serde_json::json!({
            "model": op.model(),
            "task_type": op.task_type(),
            "input": self.input_value()?,
        });
        // Without a webhook or a service mode, the body is the page's example exactly: no
        // `config`.
        if !config.is_empty() {
            body["config"] = serde_json::Value::Object(config);
        }
        serde_json::to_vec(&body)
    }

    /// The operation's name (`face-swap`, `multi-face-swap`, `video-face-swap`).
    pub fn name(&self) -> &'static str {
        self.operation().name()
    }
}

/// True when `value` is meant as a URL (it has a scheme, `://`, or starts with `//`): the URL
/// rule then judges it, so `ftp://...` is refused as a URL, not as bad base64. Base64 never
/// holds `:`.
fn is_url(value: &str) -> bool {
    // A byte search: `str::contains` with a string pattern links a substring searcher into the
    // browser library, about 5 KB gzipped.
    value.as_bytes().windows(3).any(|window| window == b"://") || value.starts_with("//")
}

/// The extension of a URL's path (before `?` or `#`) as written; empty when it has none.
fn url_extension(url: &str) -> &[u8] {
    let bytes = url.as_bytes();
    let end = bytes
        .iter()
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(bytes.len());
    let path = bytes.get(..end).unwrap_or_default();
    let name_start = path.iter().rposition(|&b| b == b'/').map_or(0, |at| at + 1);
    let name = path.get(name_start..).unwrap_or_default();
    match name.iter().rposition(|&b| b == b'.') {
        Some(dot) => name.get(dot + 1..).unwrap_or_default(),
        None => &[],
    }
}

/// Whether `url`'s path ends in one of `extensions` (lower case), in any case: compared byte by
/// byte, with no lower-cased copy.
fn ends_in(url: &str, extensions: &[&str]) -> bool {
    let ext = url_extension(url);
    extensions
        .iter()
        .any(|wanted| ext.eq_ignore_ascii_case(wanted.as_bytes()))
}

/// An image field: an http(s) URL ending in `.jpg`, `.jpeg`, `.png` or `.webp`, or base64 of a
/// JPEG, PNG or WebP image.
pub fn check_image(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::required(field));
    }
    if is_url(value) {
        check_http_url(field, value)?;
        return if ends_in(value, &["jpg", "jpeg", "png", "webp"]) {
            Ok(())
        } else {
            Err(FieldError::new(
                field,
                crate::text!(field, " must be a URL ending in .jpg, .jpeg, .png or .webp"),
            ))
        };
    }
    let base64 = strip_data_prefix(value);
    check_base64_image(field, base64)?;
    // "both swap_image and target_image should be under 2048 x 2048 resolution each": the size
    // is read from the image's header, never by decoding its pixels.
    match decode_prefix(base64, DIMENSIONS_PREFIX) {
        Some(head) => super::MAX_IMAGE.check(field, &head),
        None => Ok(()),
    }
}

/// The video field: an http(s) URL ending in `.mp4`, or base64 of an MP4.
pub fn check_video(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::required(field));
    }
    if is_url(value) {
        check_http_url(field, value)?;
        return if ends_in(value, &["mp4"]) {
            Ok(())
        } else {
            Err(FieldError::new(
                field,
                crate::text!(field, " must be an MP4 video: a URL ending in .mp4"),
            ))
        };
    }
    match decode_head(strip_data_prefix(value)).and_then(|head| MediaType::sniff(&head)) {
        Some(MediaType::Mp4) => Ok(()),
        _ => Err(FieldError::new(
            field,
            crate::text!(
                field,
                " must be an MP4 video: a URL ending in .mp4, or base64 of an MP4"
            ),
        )),
    }
}

/// Reads a faces index (`"0,2"`): comma-separated integers from 0, each at most once.
pub fn parse_faces_index(field: &str, value: &str) -> Result<Vec<u64>, FieldError> {
    let mut faces: Vec<u64> = Vec::new();
    for part in value.split(',') {
        let part = part.trim_ascii();
        if part.starts_with('-') && part.len() > 1 {
            return Err(FieldError::new(
                field,
                crate::text!(
                    field,
                    " must not hold a negative face number (",
                    part,
                    "); faces count from 0"
                ),
            ));
        }
        // Digits folded by hand: `str::parse` links integer parsing into the browser library.
        let face = (!part.is_empty())
            .then(|| {
                part.bytes().try_fold(0u64, |number, byte| {
                    let digit = byte.checked_sub(b'0').filter(|d| *d <= 9)?;
                    number.checked_mul(10)?.checked_add(u64::from(digit))
                })
            })
            .flatten()
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    crate::text!(
                        field,
                        " must list face numbers from 0, separated by commas (\"0,1\")"
                    ),
                )
            })?;
        if faces.contains(&face) {
            return Err(FieldError::new(
                field,
                crate::text!(field, " lists face ", face, " twice"),
            ));
        }
        faces.push(face);
    }
    Ok(faces)
}

/// `input.swap_faces_index` and `input.target_faces_index`: each valid, and as many faces in
/// one as in the other (the i-th swap face goes onto the i-th target face).
pub fn check_faces_index_pair(swap: &str, target: &str) -> Result<(), FieldError> {
    let swap_faces = parse_faces_index("input.swap_faces_index", swap)?;
    let target_faces = parse_faces_index("input.target_faces_index", target)?;
    if swap_faces.len() != target_faces.len() {
        return Err(FieldError::new(
            "input.target_faces_index",
            crate::text!(
                "input.target_faces_index lists ",
                target_faces.len(),
                " faces and input.swap_faces_index ",
                swap_faces.len(),
                "; they pair one to one"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_urls_extension_is_its_last_path_segments_in_any_case() {
        assert!(ends_in("https://a.example/v.Mp4#t=1", &["mp4"]));
        assert!(ends_in(
            "https://a.example/a.b/p.WEBP?x=.png",
            &["jpg", "webp"]
        ));
        for refused in [
            "https://a.example/v.mp4x",
            "https://a.example/v.mp4/clip",
            "https://a.example/mp4",
            "https://a.example/v.",
            "https://a.example/?v.mp4",
        ] {
            assert!(!ends_in(refused, &["mp4"]), "{refused}");
        }
    }

    const PNG_B64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

    fn field(body: serde_json::Value) -> String {
        Request::from_json(&serde_json::to_vec(&body).unwrap())
            .unwrap_err()
            .field
    }

    fn multi(swap: &str, target: &str) -> serde_json::Value {
        json!({"model": "Qubico/image-toolkit", "task_type": "multi-face-swap", "input": {
            "target_image": "https://a.example/t.jpg", "swap_image": "https://a.example/s.png",
            "swap_faces_index": swap, "target_faces_index": target}})
    }

    #[test]
    fn documented_requests_parse_and_drop_the_browsers_config() {
        let request = Request::from_json(br#"{"model":"Qubico/image-toolkit","task_type":"face-swap","input":{"target_image":"https://a.example/t.JPG?x=1","swap_image":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="},"config":{"webhook_config":{"endpoint":"https://evil.example/","secret":"x"},"service_mode":"private"}}"#).unwrap();
        assert_eq!(request.operation(), Operation::FaceSwap);
        let value = request.to_value().unwrap();
        assert!(value.get("config").is_none());
        let upstream: serde_json::Value = serde_json::from_slice(
            &request
                .to_upstream_json(
                    Some(("https://p/hooks/piapi/t", Some("s3"))),
                    Some("public"),
                )
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            upstream["config"],
            json!({"webhook_config": {"endpoint": "https://p/hooks/piapi/t", "secret": "s3"}, "service_mode": "public"})
        );
        assert_eq!(
            upstream["input"]["target_image"],
            "https://a.example/t.JPG?x=1"
        );
        assert!(Request::from_json(&serde_json::to_vec(&multi("0,1", "1, 0")).unwrap()).is_ok());
        let video = Request::from_value(&json!({"model": "Qubico/video-toolkit", "task_type": "face-swap",
            "input": {"target_video": "https://a.example/v.mp4", "swap_image": PNG_B64}, "duration": 5.2})).unwrap();
        assert_eq!(video.price(), 0.06);
        let again = Request::from_value(&video.to_value().unwrap()).unwrap();
        assert_eq!(again, video);
        let upstream: serde_json::Value =
            serde_json::from_slice(&video.to_upstream_json(None, None).unwrap()).unwrap();
        assert!(upstream.get("duration").is_none());
        assert_eq!(upstream.get("config"), None);
    }

    #[test]
    fn every_fault_names_its_field_as_on_the_wire() {
        assert_eq!(field(multi("0,1", "0")), "input.target_faces_index");
        assert_eq!(field(multi("0,-1", "0,1")), "input.swap_faces_index");
        assert_eq!(field(multi("0,0", "0,1")), "input.swap_faces_index");
        assert_eq!(field(multi("0,1", "1,1")), "input.target_faces_index");
        assert_eq!(field(multi("a", "0")), "input.swap_faces_index");
        assert_eq!(field(multi("", "0")), "input.swap_faces_index");
        assert_eq!(field(multi("0,", "0,1")), "input.swap_faces_index");
        assert_eq!(field(multi("1.5", "0")), "input.swap_faces_index");
        assert_eq!(
            field(
                json!({"model": "Qubico/image-toolkit", "task_type": "multi-face-swap", "input": {
            "target_image": "https://a.example/t.jpg", "swap_image": "https://a.example/s.png", "swap_faces_index": 0, "target_faces_index": "0"}})
            ),
            "input.swap_faces_index"
        );
        assert_eq!(
            field(
                json!({"model": "Qubico/image-toolkit", "task_type": "face-swap", "input": {"target_image": "https://a.example/t.gif", "swap_image": PNG_B64}})
            ),
            "input.target_image"
        );
        assert_eq!(
            field(
                json!({"model": "Qubico/image-toolkit", "task_type": "face-swap", "input": {"target_image": "https://a.example/t.jpg", "swap_image": "bm90IGFuIGltYWdl"}})
            ),
            "input.swap_image"
        );
        assert_eq!(
            field(
                json!({"model": "Qubico/image-toolkit", "task_type": "face-swap", "input": {"target_image": "https://a.example/t.jpg"}})
            ),
            "input.swap_image"
        );
        assert_eq!(
            field(
                json!({"model": "Qubico/image-toolkit", "task_type": "face-swap", "input": {"target_image": "https://a.example/t.jpg", "swap_image": PNG_B64, "extra": 1}})
            ),
            "input.extra"
        );
        assert_eq!(
            field(json!({"model": "Qubico/image-toolkit", "task_type": "face-swap", "input": "x"})),
            "input"
        );
        assert_eq!(
            field(
                json!({"model": "Qubico/image-toolkit", "task_type": "face-swap", "duration": 3, "input": {"target_image": "https://a.example/t.jpg", "swap_image": PNG_B64}})
            ),
            "duration"
        );
        let video = |input: serde_json::Value| json!({"model": "Qubico/video-toolkit", "task_type": "face-swap", "input": input});
        assert_eq!(
            field(video(
                json!({"target_video": "https://a.example/v.webm", "swap_image": PNG_B64})
            )),
            "input.target_video"
        );
        assert_eq!(
            field(video(
                json!({"target_video": PNG_B64, "swap_image": PNG_B64})
            )),
            "input.target_video"
        );
        assert_eq!(
            field(video(
                json!({"target_video": "https://a.example/v.mp4", "swap_image": PNG_B64, "swap_faces_index": "0"})
            )),
            "input.target_faces_index"
        );
        assert_eq!(
            field(video(
                json!({"target_video": "https://a.example/v.mp4", "swap_image": PNG_B64, "swap_faces_index": "0,1", "target_faces_index": "2"})
            )),
            "input.target_faces_index"
        );
        assert_eq!(
            field(
                json!({"model": "Qubico/video-toolkit", "task_type": "face-swap", "duration": -1, "input": {"target_video": "https://a.example/v.mp4", "swap_image": PNG_B64}})
            ),
            "duration"
        );
        assert_eq!(
            field(
                json!({"model": "Qubico/video-toolkit", "task_type": "multi-face-swap", "input": {}})
            ),
            "task_type"
        );
        assert_eq!(
            field(json!({"model": "x", "task_type": "face-swap", "input": {}})),
            "model"
        );
    }

    #[test]
    fn a_url_of_another_scheme_is_judged_as_a_url() {
        for value in [
            "ftp://a.example/t.jpg",
            "//a.example/t.jpg",
            "file:///t.png",
        ] {
            let err = check_image("input.target_image", value).unwrap_err();
            assert_eq!(err.field, "input.target_image");
            assert!(err.message.contains("http"), "{value}: {}", err.message);
        }
        assert!(check_video("input.target_video", "HTTPS://A.EXAMPLE/V.MP4").is_ok());
    }
}
