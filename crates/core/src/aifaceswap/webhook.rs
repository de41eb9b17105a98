//! The provider's webhook callback: `{success, type, task_id, result_image}`.

use alloc::string::String;
use core::fmt;
use serde::de::{self, Unexpected, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::parse::from_json;
use crate::FieldError;

/// What the provider POSTs to the `webhook` URL when a task ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookCallback {
    /// Whether the task succeeded; the provider sends `1` or `0` (booleans are accepted too).
    #[serde(serialize_with = "as_flag", deserialize_with = "from_flag")]
    pub success: bool,
    /// The provider's task type number.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<i64>,
    /// The task this result belongs to.
    pub task_id: String,
    /// URL of the result image or video; absent on failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_image: Option<String>,
}

impl WebhookCallback {
    /// Parses a callback body; a success must carry a non-empty `task_id` and a `result_image`.
    pub fn from_json(body: &[u8]) -> Result<Self, FieldError> {
        let callback: Self = from_json(body)?;
        if callback.task_id.trim().is_empty() {
            return Err(FieldError::required("task_id"));
        }
        if callback.success && callback.result_image.as_deref().unwrap_or("").is_empty() {
            return Err(FieldError::new(
                "result_image",
                "result_image is required when success is 1",
            ));
        }
        Ok(callback)
    }
}

fn as_flag<S: Serializer>(flag: &bool, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u8(u8::from(*flag))
}

fn from_flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    struct Flag;
    impl Visitor<'_> for Flag {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("1, 0, true or false")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
            match v {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(E::invalid_value(Unexpected::Unsigned(v), &self)),
            }
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
            match v {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(E::invalid_value(Unexpected::Signed(v), &self)),
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
            match v {
                "0" | "false" => Ok(false),
                "1" | "true" => Ok(true),
                _ => Err(E::invalid_value(Unexpected::Str(v), &self)),
            }
        }
    }
    deserializer.deserialize_any(Flag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_success_and_failure() {
        let ok = WebhookCallback::from_json(
            br#"{"success":1,"type":1,"task_id":"abc","result_image":"https://cdn.example/r.jpg"}"#,
        )
        .unwrap();
        assert!(ok.success);
        assert_eq!(ok.kind, Some(1));
        let failed = WebhookCallback::from_json(br#"{"success":0,"task_id":"abc"}"#).unwrap();
        assert!(!failed.success);
        assert_eq!(failed.result_image, None);
        assert!(
            WebhookCallback::from_json(br#"{"success":true,"task_id":"x","result_image":"u"}"#)
                .unwrap()
                .success
        );
    }

    #[test]
    fn rejects_incomplete_callbacks() {
        assert_eq!(
            WebhookCallback::from_json(br#"{"success":1,"task_id":"abc"}"#)
                .unwrap_err()
                .field,
            "result_image"
        );
        assert_eq!(
            WebhookCallback::from_json(br#"{"success":1,"result_image":"u"}"#)
                .unwrap_err()
                .field,
            "task_id"
        );
        assert_eq!(
            WebhookCallback::from_json(br#"{"success":2,"task_id":"a"}"#)
                .unwrap_err()
                .field,
            "success"
        );
        assert_eq!(
            WebhookCallback::from_json(br#"{"success":0,"task_id":" "}"#)
                .unwrap_err()
                .field,
            "task_id"
        );
    }

    #[test]
    fn serialises_like_the_provider() {
        let json = serde_json::to_string(&WebhookCallback {
            success: true,
            kind: Some(1),
            task_id: "t".into(),
            result_image: Some("https://r".into()),
        })
        .unwrap();
        assert_eq!(
            json,
            r#"{"success":1,"type":1,"task_id":"t","result_image":"https://r"}"#
        );
    }
}
