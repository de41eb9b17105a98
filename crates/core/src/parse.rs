//! Deserialisation that reports the field at fault, whatever the data format (JSON in the proxy and
//! sandbox, JS values in the browser library).

use alloc::{borrow::ToOwned, format, string::ToString};
use serde::de::DeserializeOwned;
use serde::Deserializer;

use crate::FieldError;

/// Deserialises `T` from `deserializer`; a failure names the field path (`ref_info[1].duration`)
/// or, for a missing field, the field itself.
pub fn deserialize_with_path<'de, D, T>(deserializer: D) -> Result<T, FieldError>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner().to_string();
        field_error_from_serde(&path, &inner)
    })
}

/// Parses a JSON body into `T`, naming the field at fault.
pub fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, FieldError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = deserialize_with_path(&mut de)?;
    de.end()
        .map_err(|_| FieldError::new("body", "body has trailing data after the JSON value"))?;
    Ok(value)
}

/// Reads `T` from a JSON value, naming the field at fault.
pub fn from_value<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, FieldError> {
    deserialize_with_path(value)
}

fn field_error_from_serde(path: &str, message: &str) -> FieldError {
    // serde reports a missing field at the parent's path: "missing field `source_image`".
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        let field = if path == "." || path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        return FieldError::required(field);
    }
    // An empty or unknown (`?`, a syntax error) path, or one that starts with an index, means the
    // body itself is not a valid object.
    if path == "." || path == "?" || path.is_empty() || path.starts_with('[') {
        let detail = message.split(" at line").next().unwrap_or(message);
        return FieldError::new("body", format!("body is not a valid request: {detail}"));
    }
    let detail = message.split(" at line").next().unwrap_or(message);
    FieldError::new(path, format!("{path} has the wrong type: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{string::String, vec::Vec};
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        face_ref: String,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        list: Vec<Inner>,
    }

    #[test]
    fn names_missing_and_mistyped_fields() {
        let err = from_json::<Outer>(br#"{"list": []}"#).unwrap_err();
        assert_eq!(err.field, "name");
        let err = from_json::<Outer>(br#"{"name": "a", "list": [{}]}"#).unwrap_err();
        assert_eq!(err.field, "list[0].face_ref");
        let err = from_json::<Outer>(br#"{"name": 5, "list": []}"#).unwrap_err();
        assert_eq!(err.field, "name");
        assert!(
            err.message.starts_with("name has the wrong type"),
            "{}",
            err.message
        );
        let err = from_json::<Outer>(b"[1,2]").unwrap_err();
        assert_eq!(err.field, "body");
        let err = from_json::<Outer>(br#"{"name": "a", "list": []} x"#).unwrap_err();
        assert_eq!(err.field, "body");
    }

    #[test]
    fn malformed_json_is_about_the_body() {
        for bad in [&b"{not json"[..], b"", b"{\"name\": \"a\""] {
            let err = from_json::<Outer>(bad).unwrap_err();
            assert_eq!(err.field, "body", "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
