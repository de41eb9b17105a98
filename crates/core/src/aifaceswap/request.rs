//! Request bodies of the six operations and their validation.

use alloc::{string::String, vec::Vec};
use serde::{Deserialize, Serialize};

use super::{CreditInputs, Operation};
use crate::base64_image::normalize_base64_image;
use crate::number::serialize_whole_as_integer;
use crate::parse::{from_json, from_value};
use crate::url::check_http_url;
use crate::FieldError;

/// Most `ref_info` entries a multi-video swap accepts.
pub const MAX_REF_INFO: usize = 3;

/// Checks a request in place: returns the first field at fault, and normalises what may be
/// normalised (a `data:` prefix on a base64 image is stripped).
pub trait Validate {
    /// Validates and normalises `self`.
    fn validate(&mut self) -> Result<(), FieldError>;
}

/// `faceswap`: put the face of `face_image` onto the face in `source_image`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceSwapRequest {
    /// URL of the image whose face is replaced.
    pub source_image: String,
    /// URL of the image holding the new face.
    pub face_image: String,
    /// Callback URL for the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
}

/// `extract_face`: the face boxes of an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractFaceRequest {
    /// URL of the image.
    pub img: String,
}

/// `multi_faceswap`: replace the faces at `index` (left-to-right order) with `face_image`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiFaceSwapRequest {
    /// URL of the image with several faces.
    pub source_image: String,
    /// URLs of the new faces, one per entry of `index`.
    pub face_image: Vec<String>,
    /// Which faces of `source_image` to replace, as returned by `extract_face`.
    pub index: Vec<i64>,
    /// Callback URL for the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
}

/// `video_faceswap`: put one face onto the faces of a video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoFaceSwapRequest {
    /// URL of the video.
    pub source_video: String,
    /// URL of the image holding the new face.
    pub face_image: String,
    /// Length of the video in seconds; credits are charged per started second.
    #[serde(serialize_with = "serialize_whole_as_integer")]
    pub duration: f64,
    /// Enhancement level 0, 1 or 2 (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enhance: Option<i64>,
    /// Callback URL for the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
}

/// `extract_base64_face`: the face boxes of a base64 image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractBase64FaceRequest {
    /// The image as plain base64 (a `data:` prefix is stripped by validation).
    pub base64_img: String,
}

/// One face of a multi-video swap: which face in the video, and what to put there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefInfo {
    /// A base64 crop of the face as it appears in the video.
    pub face_ref: String,
    /// URL of the image holding the new face.
    pub face_url: String,
}

/// `multi_video_faceswap`: replace up to three faces of a video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiVideoFaceSwapRequest {
    /// URL of the video.
    pub source_video: String,
    /// One entry per face to replace (1 to 3).
    pub ref_info: Vec<RefInfo>,
    /// Length of the video in seconds.
    #[serde(serialize_with = "serialize_whole_as_integer")]
    pub duration: f64,
    /// Enhancement level 0, 1 or 2 (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enhance: Option<i64>,
    /// Callback URL for the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
}

/// Checks that `duration` is a finite number of seconds above zero.
pub fn check_duration(duration: f64) -> Result<(), FieldError> {
    if duration.is_finite() && duration > 0.0 {
        Ok(())
    } else {
        Err(FieldError::new(
            "duration",
            "duration must be a finite number of seconds greater than 0",
        ))
    }
}

/// Checks that `enhance`, when given, is 0, 1 or 2, and returns the level (0 when absent).
pub fn check_enhance(enhance: Option<i64>) -> Result<u8, FieldError> {
    match enhance {
        None => Ok(0),
        Some(level @ 0..=2) => Ok(level as u8),
        Some(_) => Err(FieldError::new("enhance", "enhance must be 0, 1 or 2")),
    }
}

/// Checks that a multi-video swap names between 1 and [`MAX_REF_INFO`] faces.
pub fn check_ref_count(count: usize) -> Result<(), FieldError> {
    if (1..=MAX_REF_INFO).contains(&count) {
        Ok(())
    } else {
        Err(FieldError::new(
            "ref_info",
            crate::text!(
                "ref_info must have 1 to ",
                MAX_REF_INFO,
                " entries, not ",
                count
            ),
        ))
    }
}

fn check_webhook(webhook: &Option<String>) -> Result<(), FieldError> {
    match webhook {
        Some(url) => check_http_url("webhook", url),
        None => Ok(()),
    }
}

impl Validate for FaceSwapRequest {
    fn validate(&mut self) -> Result<(), FieldError> {
        check_http_url("source_image", &self.source_image)?;
        check_http_url("face_image", &self.face_image)?;
        check_webhook(&self.webhook)
    }
}

impl Validate for ExtractFaceRequest {
    fn validate(&mut self) -> Result<(), FieldError> {
        check_http_url("img", &self.img)
    }
}

impl Validate for MultiFaceSwapRequest {
    fn validate(&mut self) -> Result<(), FieldError> {
        check_http_url("source_image", &self.source_image)?;
        if self.face_image.is_empty() {
            return Err(FieldError::new(
                "face_image",
                "face_image must list at least one face image URL",
            ));
        }
        for (i, url) in self.face_image.iter().enumerate() {
            check_http_url(&crate::text!("face_image[", i, "]"), url)?;
        }
        if self.index.len() != self.face_image.len() {
            return Err(FieldError::new(
                "index",
                crate::text!(
                    "index has ",
                    self.index.len(),
                    " entries but face_image has ",
                    self.face_image.len()
                ),
            ));
        }
        for (i, &index) in self.index.iter().enumerate() {
            if index < 0 {
                return Err(FieldError::new(
                    "index",
                    crate::text!("index[", i, "] is ", index, "; face indexes start at 0"),
                ));
            }
            if self.index[..i].contains(&index) {
                return Err(FieldError::new(
                    "index",
                    crate::text!(
                        "index lists face ",
                        index,
                        " twice; each face can be replaced once"
                    ),
                ));
            }
        }
        check_webhook(&self.webhook)
    }
}

impl Validate for VideoFaceSwapRequest {
    fn validate(&mut self) -> Result<(), FieldError> {
        check_http_url("source_video", &self.source_video)?;
        check_http_url("face_image", &self.face_image)?;
        check_duration(self.duration)?;
        check_enhance(self.enhance)?;
        check_webhook(&self.webhook)
    }
}

impl Validate for ExtractBase64FaceRequest {
    fn validate(&mut self) -> Result<(), FieldError> {
        normalize_base64_image("base64_img", &mut self.base64_img).map(drop)
    }
}

impl Validate for RefInfo {
    fn validate(&mut self) -> Result<(), FieldError> {
        normalize_base64_image("face_ref", &mut self.face_ref)?;
        check_http_url("face_url", &self.face_url)
    }
}

impl Validate for MultiVideoFaceSwapRequest {
    fn validate(&mut self) -> Result<(), FieldError> {
        check_http_url("source_video", &self.source_video)?;
        check_ref_count(self.ref_info.len())?;
        for (i, info) in self.ref_info.iter_mut().enumerate() {
            info.validate()
                .map_err(|err| err.within(&crate::text!("ref_info[", i, "]")))?;
        }
        check_duration(self.duration)?;
        check_enhance(self.enhance)?;
        check_webhook(&self.webhook)
    }
}

/// A request of any of the six operations.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `faceswap`.
    FaceSwap(FaceSwapRequest),
    /// `extract_face`.
    ExtractFace(ExtractFaceRequest),
    /// `multi_faceswap`.
    MultiFaceSwap(MultiFaceSwapRequest),
    /// `video_faceswap`.
    VideoFaceSwap(VideoFaceSwapRequest),
    /// `extract_base64_face`.
    ExtractBase64Face(ExtractBase64FaceRequest),
    /// `multi_video_faceswap`.
    MultiVideoFaceSwap(MultiVideoFaceSwapRequest),
}

impl Request {
    /// Parses the JSON body of `op` and validates it.
    pub fn from_json(op: Operation, body: &[u8]) -> Result<Self, FieldError> {
        let mut request = match op {
            Operation::FaceSwap => Request::FaceSwap(from_json(body)?),
            Operation::ExtractFace => Request::ExtractFace(from_json(body)?),
            Operation::MultiFaceSwap => Request::MultiFaceSwap(from_json(body)?),
            Operation::VideoFaceSwap => Request::VideoFaceSwap(from_json(body)?),
            Operation::ExtractBase64Face => Request::ExtractBase64Face(from_json(body)?),
            Operation::MultiVideoFaceSwap => Request::MultiVideoFaceSwap(from_json(body)?),
        };
        request.validate()?;
        Ok(request)
    }

    /// The operation this request is for.
    pub fn operation(&self) -> Operation {
        match self {
            Request::FaceSwap(_) => Operation::FaceSwap,
            Request::ExtractFace(_) => Operation::ExtractFace,
            Request::MultiFaceSwap(_) => Operation::MultiFaceSwap,
            Request::VideoFaceSwap(_) => Operation::VideoFaceSwap,
            Request::ExtractBase64Face(_) => Operation::ExtractBase64Face,
            Request::MultiVideoFaceSwap(_) => Operation::MultiVideoFaceSwap,
        }
    }

    /// The inputs that decide the price.
    pub fn credit_inputs(&self) -> CreditInputs {
        match self {
            Request::VideoFaceSwap(r) => CreditInputs {
                duration: r.duration,
                enhance: r.enhance.unwrap_or(0).clamp(0, 2) as u8,
                faces: 1,
            },
            Request::MultiVideoFaceSwap(r) => CreditInputs {
                duration: r.duration,
                enhance: r.enhance.unwrap_or(0).clamp(0, 2) as u8,
                faces: r.ref_info.len(),
            },
            _ => CreditInputs::default(),
        }
    }

    /// Credits the provider charges for this (validated) request.
    pub fn credits(&self) -> u64 {
        self.operation().credits(&self.credit_inputs())
    }

    /// Sets (or clears) the callback URL of a task operation; other operations have none.
    pub fn set_webhook(&mut self, url: Option<String>) {
        match self {
            Request::FaceSwap(r) => r.webhook = url,
            Request::MultiFaceSwap(r) => r.webhook = url,
            Request::VideoFaceSwap(r) => r.webhook = url,
            Request::MultiVideoFaceSwap(r) => r.webhook = url,
            Request::ExtractFace(_) | Request::ExtractBase64Face(_) => {}
        }
    }

    /// The request as the provider's JSON body.
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        match self {
            Request::FaceSwap(r) => serde_json::to_vec(r),
            Request::ExtractFace(r) => serde_json::to_vec(r),
            Request::MultiFaceSwap(r) => serde_json::to_vec(r),
            Request::VideoFaceSwap(r) => serde_json::to_vec(r),
            Request::ExtractBase64Face(r) => serde_json::to_vec(r),
            Request::MultiVideoFaceSwap(r) => serde_json::to_vec(r),
        }
    }

    /// The request as a JSON value with the provider's field names.
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Request::FaceSwap(r) => serde_json::to_value(r),
            Request::ExtractFace(r) => serde_json::to_value(r),
            Request::MultiFaceSwap(r) => serde_json::to_value(r),
            Request::VideoFaceSwap(r) => serde_json::to_value(r),
            Request::ExtractBase64Face(r) => serde_json::to_value(r),
            Request::MultiVideoFaceSwap(r) => serde_json::to_value(r),
        }
    }

    /// Parses a JSON value of `op` (a form's fields, or a request prepared earlier) and
    /// validates it.
    pub fn from_value(op: Operation, value: &serde_json::Value) -> Result<Self, FieldError> {
        let mut request = match op {
            Operation::FaceSwap => Request::FaceSwap(from_value(value)?),
            Operation::ExtractFace => Request::ExtractFace(from_value(value)?),
            Operation::MultiFaceSwap => Request::MultiFaceSwap(from_value(value)?),
            Operation::VideoFaceSwap => Request::VideoFaceSwap(from_value(value)?),
            Operation::ExtractBase64Face => Request::ExtractBase64Face(from_value(value)?),
            Operation::MultiVideoFaceSwap => Request::MultiVideoFaceSwap(from_value(value)?),
        };
        request.validate()?;
        Ok(request)
    }
}

impl Validate for Request {
    fn validate(&mut self) -> Result<(), FieldError> {
        match self {
            Request::FaceSwap(r) => r.validate(),
            Request::ExtractFace(r) => r.validate(),
            Request::MultiFaceSwap(r) => r.validate(),
            Request::VideoFaceSwap(r) => r.validate(),
            Request::ExtractBase64Face(r) => r.validate(),
            Request::MultiVideoFaceSwap(r) => r.validate(),
        }
    }
}
