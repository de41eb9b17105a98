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

/// The module's memory in bytes.
fn memory_bytes() -> u32 {
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length()
}

/// The allocator (src/allocator.rs) reuses what is freed: two thousand 1 KiB blocks freed out of
/// order merge back into one region that then holds a 1 MiB buffer without the memory growing,
/// and a hundred rounds of 1 MiB allocated and freed grow it by far less than 100 MiB.
#[wasm_bindgen_test]
fn freed_memory_is_merged_and_reused() {
    let mut blocks: Vec<Vec<u8>> = Vec::with_capacity(2048);
    for i in 0..2048 {
        blocks.push(vec![(i % 251) as u8; 1024]);
    }
    // Every other block first, then the rest: the free list must merge neighbours.
    for i in (0..2048).step_by(2) {
        blocks[i] = Vec::new();
    }
    drop(blocks);
    let before = memory_bytes();
    let big = vec![7u8; 1 << 20];
    assert_eq!(big[(1 << 20) - 1], 7);
    assert_eq!(
        memory_bytes(),
        before,
        "a 1 MiB buffer did not fit in 2 MiB freed"
    );
    drop(big);

    let start = memory_bytes();
    for round in 0..100u8 {
        let buffer = vec![round; 1 << 20];
        assert_eq!(buffer[1234], round);
    }
    let grown = memory_bytes() - start;
    assert!(grown < 4 << 20, "memory grew by {grown} bytes");
}
