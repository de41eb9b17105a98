//! Multipart submits, and the one rule for a file that stands in for a URL.
//!
//! Request shapes name their image and video inputs as URLs. Where a file is sent instead (a
//! multipart part in the proxy and the sandbox, a `Blob` in the browser library before it is
//! uploaded), validation sees a stand-in URL that names the field: [`file_stand_in`]. It passes
//! the URL rule, and [`stand_in_field`] turns it back into the field whose file it stands for.

use alloc::{string::String, vec::Vec};

use crate::MediaType;

/// Prefix of every stand-in URL. `.invalid` never resolves (RFC 2606), so a stand-in that
/// escaped by mistake could not fetch anything.
pub const FILE_STAND_IN_PREFIX: &str = "https://file-part.invalid/";

/// The stand-in URL of the file sent under `field`.
pub fn file_stand_in(field: &str) -> String {
    crate::text!(FILE_STAND_IN_PREFIX, field)
}

/// The field whose file `url` stands for, when it is a stand-in.
pub fn stand_in_field(url: &str) -> Option<&str> {
    url.strip_prefix(FILE_STAND_IN_PREFIX)
        .filter(|field| !field.is_empty())
}

/// The key of the `n`-th value (from 0) of a field sent more than once
/// ([`super::OperationSpec::repeated_fields`]): `face_image[1]`. The proxy keeps the n-th file
/// under it, and its stand-in names it.
pub fn repeated_key(field: &str, n: usize) -> String {
    crate::text!(field, "[", n, "]")
}

/// One value of a multipart submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormValue {
    /// A text part.
    Text(String),
    /// A file part, checked by its magic bytes; the proxy keeps the bytes.
    File(MediaType),
}

/// A multipart submit as the adapter sees it: the fields it asked for, in the order sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormInput {
    /// `(field name, value)` pairs.
    pub fields: Vec<(String, FormValue)>,
}

impl FormInput {
    /// The value of `name`, if sent.
    pub fn get(&self, name: &str) -> Option<&FormValue> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value)
    }

    /// Every value of `name`, in the order sent (several for a repeated field).
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a FormValue> + 'a {
        self.fields
            .iter()
            .filter(move |(field, _)| field == name)
            .map(|(_, value)| value)
    }

    /// The fields as a JSON object: text as strings, files as their stand-in URLs. A request
    /// shape then parses and validates a form exactly as it does a JSON body.
    pub fn to_json_object(&self) -> serde_json::Map<String, serde_json::Value> {
        self.fields
            .iter()
            .map(|(name, value)| {
                let text = match value {
                    FormValue::Text(text) => text.clone(),
                    FormValue::File(_) => file_stand_in(name),
                };
                (name.clone(), serde_json::Value::String(text))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_ins_name_their_field_and_pass_the_url_rule() {
        let url = file_stand_in("srcimage");
        assert_eq!(stand_in_field(&url), Some("srcimage"));
        assert_eq!(stand_in_field("https://img.example/a.jpg"), None);
        assert_eq!(stand_in_field(FILE_STAND_IN_PREFIX), None);
        assert!(crate::url::check_http_url("srcimage", &url).is_ok());
    }
}
