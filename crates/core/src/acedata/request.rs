//! The browser's request for an AceData face swap, its validation and the body sent upstream.
//!
//! The browser sends AceData's own shape, `{source_image_url, target_image_url, timeout?,
//! callback_url?}`. Both images are URLs under the one URL rule ([`check_http_url`]); `timeout`
//! is whole seconds from 1 to [`MAX_TIMEOUT_SECS`]. The browser's `callback_url` is dropped: the
//! proxy sets its own ([`Request::to_upstream_json`]).

use alloc::{string::String, vec::Vec};

use core::time::Duration;
use serde::{Deserialize, Serialize};

use crate::parse::{from_json, from_value};
use crate::provider::{FieldValues, OperationSpec};
use crate::url::check_http_url;
use crate::FieldError;

/// The longest `timeout` accepted, in seconds: the project's own bound, not AceData's (its page
/// names no limit; it makes an image in one to two minutes, and the proxy holds a synchronous
/// call open this long).
pub const MAX_TIMEOUT_SECS: u64 = 300;
/// How long a synchronous swap without a `timeout` is waited for, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 180;
/// How much longer than AceData's own time limit the proxy waits for a synchronous answer, in
/// seconds, so AceData's `timeout` error arrives before the proxy gives up.
pub const SYNC_MARGIN_SECS: u64 = 30;

/// A validated face swap request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The image that supplies the face.
    pub source_image_url: String,
    /// The picture that receives the face.
    pub target_image_url: String,
    /// AceData's time limit for the swap, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
}

/// The browser's body, before validation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    source_image_url: String,
    target_image_url: String,
    #[serde(default)]
    timeout: Option<serde_json::Value>,
    /// Dropped: the proxy sets its own.
    #[serde(default)]
    #[allow(dead_code)]
    callback_url: Option<serde_json::Value>,
}

/// The body sent upstream.
#[derive(Serialize)]
struct Upstream<'a> {
    source_image_url: &'a str,
    target_image_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    callback_url: Option<&'a str>,
}

/// Both images under the one URL rule.
fn check_images(source: &str, target: &str) -> Result<(), FieldError> {
    check_http_url("source_image_url", source)?;
    check_http_url("target_image_url", target)
}

/// `timeout` as whole seconds from 1 to [`MAX_TIMEOUT_SECS`] (the bound is the project's own;
/// its error says so).
pub fn check_timeout(value: Option<&serde_json::Value>) -> Result<Option<u64>, FieldError> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    match value.as_u64() {
        Some(secs) => check_timeout_number(secs as f64).map(Some),
        None => Err(timeout_error()),
    }
}

/// A number of seconds as `timeout`: a whole number from 1 to [`MAX_TIMEOUT_SECS`]. The browser
/// library checks a JS number with this before reading or uploading any image.
pub fn check_timeout_number(seconds: f64) -> Result<u64, FieldError> {
    if crate::float::fract(seconds) == 0.0 && (1.0..=MAX_TIMEOUT_SECS as f64).contains(&seconds) {
        Ok(seconds as u64)
    } else {
        Err(timeout_error())
    }
}

fn timeout_error() -> FieldError {
    FieldError::new(
        "timeout",
        crate::text!(
            "timeout must be whole seconds from 1 to ",
            MAX_TIMEOUT_SECS,
            " (the proxy's own bound; \
             AceData documents none)"
        ),
    )
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
        check_images(&body.source_image_url, &body.target_image_url)?;
        Ok(Self {
            timeout: check_timeout(body.timeout.as_ref())?,
            source_image_url: body.source_image_url,
            target_image_url: body.target_image_url,
        })
    }

    /// Checks the values the browser library read for a face swap (Blobs as their stand-in
    /// URLs) by the rules of [`Request::from_json`]: the catalog's check.
    pub fn check_fields(
        _operation: &OperationSpec,
        fields: &FieldValues,
    ) -> Result<(), FieldError> {
        check_images(
            fields.text("source_image_url")?,
            fields.text("target_image_url")?,
        )?;
        if let Some(seconds) = fields.number("timeout")? {
            check_timeout_number(seconds)?;
        }
        Ok(())
    }

    /// The request as a JSON value (no `callback_url`).
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::to_value(self)
    }

    /// The body sent to AceData, with `callback_url` the proxy's when given.
    pub fn to_upstream_json(
        &self,
        callback_url: Option<&str>,
    ) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(&Upstream {
            source_image_url: &self.source_image_url,
            target_image_url: &self.target_image_url,
            timeout: self.timeout,
            callback_url,
        })
    }

    /// How long the proxy waits for AceData's synchronous answer: AceData's own limit (the
    /// request's `timeout`, else [`DEFAULT_TIMEOUT_SECS`]) and [`SYNC_MARGIN_SECS`].
    pub fn synchronous_wait(&self) -> Duration {
        Duration::from_secs(self.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS) + SYNC_MARGIN_SECS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body() -> serde_json::Value {
        json!({"source_image_url": "https://cdn.example/face.jpg",
            "target_image_url": "https://cdn.example/picture.png"})
    }

    fn field_of(value: serde_json::Value) -> String {
        Request::from_value(&value).unwrap_err().field
    }

    #[test]
    fn a_valid_request_keeps_its_fields_and_drops_the_callback() {
        let mut with = body();
        with["timeout"] = json!(60);
        with["callback_url"] = json!("https://evil.example/hook");
        let request = Request::from_json(&serde_json::to_vec(&with).unwrap()).unwrap();
        assert_eq!(request.timeout, Some(60));
        assert_eq!(request.source_image_url, "https://cdn.example/face.jpg");
        let value = request.to_value().unwrap();
        assert_eq!(
            value,
            json!({"source_image_url": "https://cdn.example/face.jpg",
                "target_image_url": "https://cdn.example/picture.png", "timeout": 60})
        );
        assert_eq!(Request::from_value(&value).unwrap(), request);
        let sent: serde_json::Value = serde_json::from_slice(
            &request
                .to_upstream_json(Some("https://p/hooks/acedata/t"))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(sent["callback_url"], "https://p/hooks/acedata/t");
        let sent: serde_json::Value =
            serde_json::from_slice(&request.to_upstream_json(None).unwrap()).unwrap();
        assert!(sent.get("callback_url").is_none(), "{sent}");
        assert_eq!(request.synchronous_wait(), Duration::from_secs(90));
        let plain = Request::from_value(&body()).unwrap();
        assert_eq!(plain.timeout, None);
        assert_eq!(
            plain.synchronous_wait(),
            Duration::from_secs(DEFAULT_TIMEOUT_SECS + SYNC_MARGIN_SECS)
        );
    }

    #[test]
    fn each_field_is_named_when_wrong() {
        for (field, bad) in [
            ("source_image_url", json!("ftp://cdn.example/a.jpg")),
            ("source_image_url", json!("")),
            ("source_image_url", json!(3)),
            ("target_image_url", json!("javascript:alert(1)")),
            ("target_image_url", json!("https://cdn.example/a b.jpg")),
            ("timeout", json!(0)),
            ("timeout", json!(-5)),
            ("timeout", json!(1.5)),
            ("timeout", json!(MAX_TIMEOUT_SECS + 1)),
            ("timeout", json!("60")),
        ] {
            let mut value = body();
            value[field] = bad.clone();
            assert_eq!(field_of(value), field, "{field} = {bad}");
        }
        let mut missing = body();
        missing.as_object_mut().unwrap().remove("target_image_url");
        assert_eq!(field_of(missing), "target_image_url");
        let mut extra = body();
        extra["face_index"] = json!(1);
        assert_eq!(field_of(extra), "face_index");
        let mut top = body();
        top["timeout"] = json!(MAX_TIMEOUT_SECS);
        assert_eq!(
            Request::from_value(&top).unwrap().timeout,
            Some(MAX_TIMEOUT_SECS)
        );
        let mut null = body();
        null["timeout"] = serde_json::Value::Null;
        assert_eq!(Request::from_value(&null).unwrap().timeout, None);
    }
}
