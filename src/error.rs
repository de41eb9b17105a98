//! The library's error: every rejection is a JS `Error` with `code`, `status` (when HTTP gave
//! one), `field` (when one input is at fault, in the JS API's camelCase) and a message a person
//! can act on.

use faceswap_core::{ErrorCode, FieldError};
use wasm_bindgen::JsValue;

/// An error on its way to JavaScript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    /// The error word: one of the proxy's codes, or `network_error`, `timeout`, `aborted`,
    /// `task_failed`, `tainted_canvas`.
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
    /// The HTTP status, when the error came from an HTTP answer.
    pub status: Option<u16>,
    /// The input at fault, in camelCase (`refInfo[1].faceRef`).
    pub field: Option<String>,
}

impl ClientError {
    /// An `invalid_parameter` error from core validation, with the field renamed to camelCase.
    pub fn invalid(err: FieldError) -> Self {
        let field = camel_case_path(&err.field);
        let message = err.message.replace(&err.field, &field);
        Self {
            code: ErrorCode::InvalidParameter.as_str().to_owned(),
            message,
            status: None,
            field: Some(field),
        }
    }
}

impl From<ClientError> for JsValue {
    fn from(err: ClientError) -> JsValue {
        let js_error = js_sys::Error::new(&err.message);
        js_error.set_name("FaceSwapError");
        let object: &JsValue = js_error.as_ref();
        // Setting a property on a fresh Error object cannot fail; ignore the impossible case
        // rather than panic.
        let _ = js_sys::Reflect::set(object, &"code".into(), &err.code.as_str().into());
        if let Some(status) = err.status {
            let _ = js_sys::Reflect::set(object, &"status".into(), &status.into());
        }
        if let Some(field) = &err.field {
            let _ = js_sys::Reflect::set(object, &"field".into(), &field.as_str().into());
        }
        js_error.into()
    }
}

/// `ref_info[0].face_ref` becomes `refInfo[0].faceRef`.
pub fn camel_case_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut upper_next = false;
    for c in path.chars() {
        if c == '_' {
            upper_next = true;
        } else if upper_next {
            out.extend(c.to_uppercase());
            upper_next = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_become_camel_case() {
        assert_eq!(
            camel_case_path("ref_info[0].face_ref"),
            "refInfo[0].faceRef"
        );
        assert_eq!(camel_case_path("base64_img"), "base64Img");
        assert_eq!(camel_case_path("index"), "index");
    }

    #[test]
    fn invalid_renames_field_in_message() {
        let err = ClientError::invalid(FieldError::required("source_image"));
        assert_eq!(err.field.as_deref(), Some("sourceImage"));
        assert_eq!(err.message, "sourceImage is required");
        assert_eq!(err.code, "invalid_parameter");
    }
}
