//! The four operations' forms and their validation. Every image is a file part (or, in the
//! proxy, a URL it fetches for the browser); the text fields are `enhance` and `swap_index`.

use alloc::{borrow::ToOwned, string::String, vec::Vec};
use serde_json::{Map, Value};

use super::Operation;
use crate::provider::form::stand_in_field;
use crate::provider::ProviderOperation;
use crate::url::check_http_url;
use crate::FieldError;

/// The `swap_index` of a couple swap, as the caller wrote it: two different whole numbers from
/// 0 to 2, `"a,b"`. The page says only "Tuple of indexes to swap" and prints `0,1`, counted from
/// 0; the provider's couple-swap page counts from 1 (`1,2`). Both are accepted and forwarded as
/// written: which convention the provider applies is its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapIndex {
    written: String,
    pair: [u8; 2],
}

impl SwapIndex {
    /// The largest index accepted (faces counted from 0 or from 1 in a two-face picture).
    pub const MAX: u8 = 2;

    /// The value on the wire, as the caller wrote it (spaces around the numbers removed).
    pub fn as_str(&self) -> &str {
        &self.written
    }

    /// The two numbers.
    pub const fn pair(&self) -> [u8; 2] {
        self.pair
    }

    /// For each face of the target (0-based, left to right), the face of the source put there,
    /// as the sandbox reads the pair: ascending (`0,1`, `1,2`) keeps the order of the couple,
    /// descending (`1,0`, `2,1`) crosses it. The project's reading, not the provider's: its
    /// page does not say.
    pub const fn source_faces(&self) -> [usize; 2] {
        if self.pair[0] < self.pair[1] {
            [0, 1]
        } else {
            [1, 0]
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

/// Checks `swap_index`: two different whole numbers from 0 to [`SwapIndex::MAX`], `"a,b"`
/// (the page's example is `"0,1"`); spaces around the numbers are ignored.
pub fn check_swap_index(value: &str) -> Result<SwapIndex, FieldError> {
    let number = |text: Option<&str>| -> Option<u8> {
        let text = text?.trim();
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || text.len() > 1 {
            return None;
        }
        text.parse::<u8>().ok().filter(|n| *n <= SwapIndex::MAX)
    };
    let mut numbers = value.split(',');
    let pair = (
        number(numbers.next()),
        number(numbers.next()),
        numbers.next(),
    );
    match pair {
        (Some(a), Some(b), None) if a != b => Ok(SwapIndex {
            written: crate::text!(a, ",", b),
            pair: [a, b],
        }),
        _ => Err(FieldError::new(
            "swap_index",
            "swap_index must be two different whole numbers from 0 to 2, written \"a,b\" (the \
             provider's example: \"0,1\")",
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
    /// `enhance`: for a basic swap always set (the page makes it required; `false` when the
    /// caller gave none is the project's default), for a couple swap only when the caller gave it
    /// (the page does not list it there).
    pub enhance: Option<bool>,
    /// `swap_index` of a couple swap, when the caller gave it (the page: optional).
    pub swap_index: Option<SwapIndex>,
}

impl Request {
    /// Reads and checks the fields of `operation` from a form's (or JSON body's) object; fields
    /// of other operations are ignored. Each error names its field.
    pub fn from_object(
        operation: Operation,
        object: &Map<String, Value>,
    ) -> Result<Self, FieldError> {
        Self::from_texts(operation, |field| match object.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.as_str())),
            Some(_) => Err(FieldError::new(
                field,
                crate::text!(field, " must be a string"),
            )),
        })
    }

    /// Reads and checks the fields of `operation` from `text`, which gives each field's text
    /// (a file's stand-in URL for a file) or `None` when absent: the one rule behind
    /// [`Request::from_object`], which the browser library calls with the values it read (Blobs
    /// as their stand-ins), so the browser and the proxy judge a request alike.
    pub fn from_texts<'a>(
        operation: Operation,
        text: impl Fn(&str) -> Result<Option<&'a str>, FieldError>,
    ) -> Result<Self, FieldError> {
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
            (Operation::BasicSwap, None) => Some(false),
            (Operation::BasicSwap | Operation::CoupleSwap, Some(value)) => {
                Some(check_enhance(value)?)
            }
            _ => None,
        };
        let swap_index = match (operation, text("swap_index")?) {
            (Operation::CoupleSwap, Some(value)) => Some(check_swap_index(value)?),
            _ => None,
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
        if let Some(index) = &self.swap_index {
            object.insert("swap_index".into(), Value::String(index.as_str().into()));
        }
        if let Some(enhance) = self.enhance {
            let enhance = if enhance { "true" } else { "false" };
            object.insert("enhance".into(), Value::String(enhance.into()));
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
        assert_eq!(basic(" TRUE ").unwrap().enhance, Some(true));
        assert_eq!(basic("false").unwrap().enhance, Some(false));
        assert_eq!(basic("1").unwrap_err().field, "enhance");
        assert_eq!(basic("yes").unwrap_err().field, "enhance");
        assert_eq!(basic("true").unwrap().to_object()["enhance"], "true");

        assert_eq!(check_swap_index("0,1").unwrap().as_str(), "0,1");
        assert_eq!(check_swap_index(" 2 , 1 ").unwrap().as_str(), "2,1");
        assert_eq!(check_swap_index("2,1").unwrap().source_faces(), [1, 0]);
        assert_eq!(check_swap_index("1,2").unwrap().source_faces(), [0, 1]);
        for bad in [
            "1,1", "2,2", "0,3", "1,2,3", "1", "", "a,b", "1;2", "01,2", "+1,2",
        ] {
            assert_eq!(
                check_swap_index(bad).unwrap_err().field,
                "swap_index",
                "{bad}"
            );
        }
        let couple = Request::from_object(
            Operation::CoupleSwap,
            &object(json!({"srcimage": file_stand_in("srcimage"), "targetimage": file_stand_in("targetimage")})),
        )
        .unwrap();
        assert_eq!(
            couple.to_object().get("swap_index"),
            None,
            "sent only when given"
        );
        assert_eq!(
            couple.to_object().get("enhance"),
            None,
            "sent only when given"
        );
        assert_eq!(
            Request::from_object(Operation::CoupleSwap, &couple.to_object()),
            Ok(couple)
        );
    }
}
