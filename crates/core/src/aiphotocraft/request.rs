//! The four operations' forms and their validation. Every image is a file part (or, in the
//! proxy, a URL it fetches for the browser); the text fields are `enhance` and `swap_index`.

use serde_json::{Map, Value};

use super::Operation;
use crate::provider::form::stand_in_field;
use crate::provider::ProviderOperation;
use crate::url::check_http_url;
use crate::FieldError;

/// The order of a couple swap: which face of `srcimage` goes onto which face of `targetimage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwapIndex {
    /// `"1,2"`: face 1 onto face 1, face 2 onto face 2 (the default).
    Keep,
    /// `"2,1"`: face 2 onto face 1, face 1 onto face 2.
    Cross,
}

impl SwapIndex {
    /// The value on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            SwapIndex::Keep => "1,2",
            SwapIndex::Cross => "2,1",
        }
    }

    /// For each face of the target (0-based, left to right), the face of the source put there.
    pub const fn source_faces(self) -> [usize; 2] {
        match self {
            SwapIndex::Keep => [0, 1],
            SwapIndex::Cross => [1, 0],
        }
    }
}

/// Checks `enhance`: `"true"` or `"false"` (any case, spaces around ignored).
pub fn check_enhance(value: &str) -> Result<bool, FieldError> {
    match value.trim() {
        v if v.eq_ignore_ascii_case("true") => Ok(true),
        v if v.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(FieldError::new(
            "enhance",
            "enhance must be \"true\" or \"false\"",
        )),
    }
}

/// Checks `swap_index`: the 1-based `"1,2"` (keep the order) or `"2,1"` (cross it); spaces
/// around the numbers are ignored.
pub fn check_swap_index(value: &str) -> Result<SwapIndex, FieldError> {
    let mut numbers = value.split(',').map(str::trim);
    let pair = (numbers.next(), numbers.next(), numbers.next());
    match pair {
        (Some("1"), Some("2"), None) => Ok(SwapIndex::Keep),
        (Some("2"), Some("1"), None) => Ok(SwapIndex::Cross),
        _ => Err(FieldError::new(
            "swap_index",
            "swap_index must be \"1,2\" (keep the order) or \"2,1\" (cross it); faces are counted \
             from 1",
        )),
    }
}

/// A checked request: the operation, each file field's value (a file's stand-in URL or an
/// http(s) URL), and the text fields in their normal form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The operation.
    pub operation: Operation,
    /// `(field, value)` for each file field, in the provider's order.
    pub images: Vec<(&'static str, String)>,
    /// `enhance` of a basic swap (`false` when not sent).
    pub enhance: bool,
    /// `swap_index` of a couple swap (`"1,2"` when not sent).
    pub swap_index: SwapIndex,
}

impl Request {
    /// Reads and checks the fields of `operation` from a form's (or JSON body's) object; fields
    /// of other operations are ignored. Each error names its field.
    pub fn from_object(
        operation: Operation,
        object: &Map<String, Value>,
    ) -> Result<Self, FieldError> {
        let text = |field: &str| -> Result<Option<&str>, FieldError> {
            match object.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) => Ok(Some(text.as_str())),
                Some(_) => Err(FieldError::new(field, format!("{field} must be a string"))),
            }
        };
        let mut images = Vec::with_capacity(operation.file_fields().len());
        for &field in operation.file_fields() {
            let value = text(field)?
                .filter(|v| !v.is_empty())
                .ok_or_else(|| FieldError::required(field))?;
            if stand_in_field(value).is_none() {
                check_http_url(field, value)?;
            }
            images.push((field, value.to_owned()));
        }
        let enhance = match (operation, text("enhance")?) {
            (Operation::BasicSwap, Some(value)) => check_enhance(value)?,
            _ => false,
        };
        let swap_index = match (operation, text("swap_index")?) {
            (Operation::CoupleSwap, Some(value)) => check_swap_index(value)?,
            _ => SwapIndex::Keep,
        };
        Ok(Self {
            operation,
            images,
            enhance,
            swap_index,
        })
    }

    /// The request as a JSON object with the provider's field names (text fields in their normal
    /// form), the shape [`Request::from_object`] reads back.
    pub fn to_object(&self) -> Map<String, Value> {
        let mut object: Map<String, Value> = self
            .images
            .iter()
            .map(|(field, value)| ((*field).to_owned(), Value::String(value.clone())))
            .collect();
        match self.operation {
            Operation::BasicSwap => {
                let enhance = if self.enhance { "true" } else { "false" };
                object.insert("enhance".into(), Value::String(enhance.into()));
            }
            Operation::CoupleSwap => {
                object.insert(
                    "swap_index".into(),
                    Value::String(self.swap_index.as_str().into()),
                );
            }
            Operation::Swap1From2 | Operation::SwapFaceSameImage => {}
        }
        object
    }

    /// The operation's name on the wire.
    pub fn name(&self) -> &'static str {
        self.operation.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::form::file_stand_in;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn every_file_field_is_required_and_named() {
        for &op in Operation::ALL {
            for &missing in op.file_fields() {
                let mut fields = Map::new();
                for &field in op.file_fields().iter().filter(|f| **f != missing) {
                    fields.insert(field.into(), Value::String(file_stand_in(field)));
                }
                let err = Request::from_object(op, &fields).unwrap_err();
                assert_eq!(err.field, missing, "{op:?}");
                assert!(err.message.contains("required"), "{}", err.message);
            }
        }
        let err = Request::from_object(
            Operation::SwapFaceSameImage,
            &object(json!({"srcimage": "ftp://x/y.png"})),
        )
        .unwrap_err();
        assert_eq!(err.field, "srcimage");
        let err = Request::from_object(
            Operation::SwapFaceSameImage,
            &object(json!({"srcimage": 3})),
        )
        .unwrap_err();
        assert_eq!(err.field, "srcimage");
    }

    #[test]
    fn enhance_and_swap_index_are_checked_and_normalised() {
        let basic = |enhance: &str| {
            Request::from_object(
                Operation::BasicSwap,
                &object(json!({"srcimage": file_stand_in("srcimage"),
                    "targetimage": "https://a.example/t.jpg", "enhance": enhance})),
            )
        };
        assert!(basic(" TRUE ").unwrap().enhance);
        assert!(!basic("false").unwrap().enhance);
        assert_eq!(basic("1").unwrap_err().field, "enhance");
        assert_eq!(basic("yes").unwrap_err().field, "enhance");
        assert_eq!(basic("true").unwrap().to_object()["enhance"], "true");

        assert_eq!(check_swap_index("1,2"), Ok(SwapIndex::Keep));
        assert_eq!(check_swap_index(" 2 , 1 "), Ok(SwapIndex::Cross));
        for bad in ["0,1", "1,0", "1,1", "2,2", "1,2,3", "1", "", "a,b", "1;2"] {
            assert_eq!(
                check_swap_index(bad).unwrap_err().field,
                "swap_index",
                "{bad}"
            );
        }
        assert_eq!(SwapIndex::Cross.source_faces(), [1, 0]);
        let couple = Request::from_object(
            Operation::CoupleSwap,
            &object(json!({"srcimage": file_stand_in("srcimage"), "targetimage": file_stand_in("targetimage")})),
        )
        .unwrap();
        assert_eq!(couple.to_object()["swap_index"], "1,2");
        assert_eq!(
            Request::from_object(Operation::CoupleSwap, &couple.to_object()),
            Ok(couple)
        );
    }
}
