//! Response bodies: the provider's envelope and the `data` of each operation.

use alloc::{borrow::ToOwned, string::String, vec::Vec};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::number::serialize_whole_as_integer;

/// The provider's envelope: `{"code":200,"data":{...},"message":"OK","extra_data":{}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// 200 on success; other values are provider errors.
    pub code: i64,
    /// The operation's result; absent on errors.
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
    /// `OK`, or what went wrong.
    #[serde(default)]
    pub message: String,
    /// Extra provider information, passed through untouched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_data: Option<serde_json::Value>,
}

fn none<T>() -> Option<T> {
    None
}

impl<T> Envelope<T> {
    /// A successful envelope around `data`.
    pub fn ok(data: T) -> Self {
        Self {
            code: 200,
            data: Some(data),
            message: "OK".to_owned(),
            extra_data: Some(serde_json::Value::Object(Default::default())),
        }
    }

    /// An error envelope with the provider's code and message.
    pub fn error(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            data: None,
            message: message.into(),
            extra_data: None,
        }
    }
}

/// `data` of the four task operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCreated {
    /// The task's id; the webhook carries the same id.
    pub task_id: String,
    /// Credits the task costs.
    pub points: u64,
}

/// A face box `[x1, y1, x2, y2]` in pixels from the top-left corner. Whole numbers are written
/// without a fraction, as the provider writes them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceBox(pub [f64; 4]);

impl Serialize for FaceBox {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut tuple = serializer.serialize_tuple(4)?;
        for v in &self.0 {
            tuple.serialize_element(&WholeAsInteger(*v))?;
        }
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for FaceBox {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <[f64; 4]>::deserialize(deserializer).map(FaceBox)
    }
}

struct WholeAsInteger(f64);

impl Serialize for WholeAsInteger {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_whole_as_integer(&self.0, serializer)
    }
}

/// `data` of `extract_face`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractedFaces {
    /// The faces found, left to right.
    pub faces: Vec<FaceBox>,
    /// Credits the call cost.
    #[serde(default)]
    pub points: u64,
}

/// `data` of `extract_base64_face`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractedBase64Faces {
    /// The faces found, left to right.
    pub pos: Vec<FaceBox>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn parses_the_providers_examples() {
        let created: Envelope<TaskCreated> = serde_json::from_str(
            r#"{"code":200,"data":{"points":2,"task_id":"ac3eb7ab5852233a3d2076031103b4fe"},"extra_data":{},"message":"OK"}"#,
        )
        .unwrap();
        assert_eq!(created.code, 200);
        assert_eq!(created.data.unwrap().points, 2);

        let faces: Envelope<ExtractedFaces> = serde_json::from_str(
            r#"{"code":200,"data":{"faces":[[146,256,240,381],[297,521,371,621],[441,208,529,332]],"points":2},"message":"OK"}"#,
        )
        .unwrap();
        let faces = faces.data.unwrap();
        assert_eq!(faces.faces.len(), 3);
        assert_eq!(faces.faces[0], FaceBox([146.0, 256.0, 240.0, 381.0]));
    }

    #[test]
    fn boxes_serialise_whole_numbers_as_integers() {
        let json = serde_json::to_string(&ExtractedBase64Faces {
            pos: vec![FaceBox([1.0, 2.0, 3.5, 4.0])],
        })
        .unwrap();
        assert_eq!(json, r#"{"pos":[[1,2,3.5,4]]}"#);
    }

    #[test]
    fn error_envelope_has_no_data() {
        let json = serde_json::to_string(&Envelope::<TaskCreated>::error(401, "bad key")).unwrap();
        assert_eq!(json, r#"{"code":401,"message":"bad key"}"#);
        let back: Envelope<TaskCreated> = serde_json::from_str(&json).unwrap();
        assert!(back.data.is_none());
    }
}
