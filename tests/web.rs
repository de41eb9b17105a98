//! The library's exports running in headless Chromium (wasm-bindgen-test).

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use faceswap_wasm::estimate_credits;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn params(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in pairs {
        Reflect::set(&object, &(*key).into(), value).unwrap();
    }
    object.into()
}

fn error_property(err: &JsValue, name: &str) -> JsValue {
    Reflect::get(err, &name.into()).unwrap()
}

#[wasm_bindgen_test]
fn prices_match_the_providers_examples() {
    let video = params(&[("duration", 5.into()), ("enhance", 0.into())]);
    assert_eq!(estimate_credits("videoFaceSwap", video).unwrap(), 10.0);

    let ref_info = Array::of1(&Object::new());
    let multi = params(&[("duration", 5.into()), ("refInfo", ref_info.into())]);
    assert_eq!(estimate_credits("multiVideoFaceSwap", multi).unwrap(), 20.0);

    assert_eq!(
        estimate_credits("faceSwap", JsValue::UNDEFINED).unwrap(),
        2.0
    );
    assert_eq!(
        estimate_credits("multi_faceswap", JsValue::NULL).unwrap(),
        5.0
    );
}

#[wasm_bindgen_test]
fn bad_input_throws_an_error_with_code_and_camel_case_field() {
    let err = estimate_credits("videoFaceSwap", params(&[("duration", (-1).into())])).unwrap_err();
    assert!(err.is_instance_of::<js_sys::Error>());
    assert_eq!(error_property(&err, "code"), "invalid_parameter");
    assert_eq!(error_property(&err, "field"), "duration");

    let four = Array::new();
    for _ in 0..4 {
        four.push(&Object::new());
    }
    let err = estimate_credits(
        "multiVideoFaceSwap",
        params(&[("duration", 1.into()), ("refInfo", four.into())]),
    )
    .unwrap_err();
    assert_eq!(error_property(&err, "field"), "refInfo");

    let err = estimate_credits("videoFaceSwap", params(&[("duration", "5".into())])).unwrap_err();
    assert_eq!(error_property(&err, "field"), "duration");

    let err = estimate_credits("swap", JsValue::UNDEFINED).unwrap_err();
    assert_eq!(error_property(&err, "field"), "operation");
    let message = js_sys::Error::from(err).message();
    assert!(String::from(message).contains("multiVideoFaceSwap"));
}
