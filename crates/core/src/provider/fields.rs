//! An operation's inputs as data: which fields it takes, of what kind ([`FieldSpec`]), and the
//! values a browser's request gave them ([`FieldValues`]), for a provider whose catalog entry
//! checks requests from such values ([`super::Catalog::check`]): the browser library's generic
//! client then reads, checks, uploads and sends every operation of that provider with no code of
//! the provider's own.

use alloc::{string::String, vec::Vec};

use crate::FieldError;

/// What a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// An image: a URL, or a Blob in the browser (uploaded through the proxy, or sent as a file
    /// where the operation takes files).
    Image,
    /// A video, likewise.
    Video,
    /// A number.
    Number,
    /// Text.
    Text,
}

impl FieldKind {
    /// The kind's name in `/api/config` (`image`, `video`, `number`, `text`).
    pub const fn as_str(self) -> &'static str {
        match self {
            FieldKind::Image => "image",
            FieldKind::Video => "video",
            FieldKind::Number => "number",
            FieldKind::Text => "text",
        }
    }

    /// True for an image or a video.
    pub const fn is_media(self) -> bool {
        matches!(self, FieldKind::Image | FieldKind::Video)
    }
}

/// One input of an operation, named as the provider's wire names it (`target_image_url`); the
/// browser library's request names it in camelCase (`targetImageUrl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The provider's name of the field.
    pub wire: &'static str,
    /// What it takes.
    pub kind: FieldKind,
    /// True when a request must give it.
    pub required: bool,
}

/// A value a request gave a field: text (a URL, or a file's stand-in URL
/// [`super::form::file_stand_in`]) or a number.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// Text: a URL, a stand-in URL, or a text field's value.
    Text(String),
    /// A number.
    Number(f64),
}

/// The values a request gave, by the fields' wire names, in the order read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldValues {
    /// `(wire name, value)` pairs.
    pub values: Vec<(&'static str, FieldValue)>,
}

impl FieldValues {
    /// The value of `wire`, if given.
    pub fn get(&self, wire: &str) -> Option<&FieldValue> {
        self.values
            .iter()
            .find(|(name, _)| *name == wire)
            .map(|(_, value)| value)
    }

    /// The text of `wire`: `required` when absent, an error naming it when not text.
    pub fn text(&self, wire: &str) -> Result<&str, FieldError> {
        match self.get(wire) {
            Some(FieldValue::Text(text)) => Ok(text),
            Some(FieldValue::Number(_)) => {
                Err(FieldError::new(wire, crate::text!(wire, " must be text")))
            }
            None => Err(FieldError::required(wire)),
        }
    }

    /// The number of `wire`, if given; an error naming it when not a number.
    pub fn number(&self, wire: &str) -> Result<Option<f64>, FieldError> {
        match self.get(wire) {
            Some(FieldValue::Number(number)) => Ok(Some(*number)),
            Some(FieldValue::Text(_)) => Err(FieldError::new(
                wire,
                crate::text!(wire, " must be a number"),
            )),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn values_are_read_by_kind_and_name_the_field() {
        let values = FieldValues {
            values: vec![
                (
                    "image_url",
                    FieldValue::Text("https://a.example/x.png".into()),
                ),
                ("timeout", FieldValue::Number(30.0)),
            ],
        };
        assert_eq!(values.text("image_url"), Ok("https://a.example/x.png"));
        assert_eq!(values.number("timeout"), Ok(Some(30.0)));
        assert_eq!(values.number("other"), Ok(None));
        assert_eq!(values.text("other").unwrap_err().field, "other");
        assert_eq!(values.text("timeout").unwrap_err().field, "timeout");
        assert_eq!(values.number("image_url").unwrap_err().field, "image_url");
        assert!(FieldKind::Video.is_media() && !FieldKind::Number.is_media());
        assert_eq!(FieldKind::Image.as_str(), "image");
    }
}
