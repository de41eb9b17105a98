//! What the wasm tests of the client classes share: a stand-in `fetch` that records requests,
//! and small helpers for JS values.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use js_sys::{Array, Function, Promise, Reflect, JSON};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// A 1x1 PNG, base64.
pub const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

/// Replaces the global `fetch` with `answer(path)` (returning `[status, body]`) and records each
/// request as `{ path, method, body }` (the body as text when it is text) in
/// `globalThis.__requests`; the real `fetch` comes back on drop.
pub struct FakeFetch {
    original: JsValue,
}

impl FakeFetch {
    /// Installs the stand-in; `answer` is JS source of `(path) => [status, body]`.
    pub fn install(answer: &str) -> Self {
        let global = js_sys::global();
        let original = Reflect::get(&global, &"fetch".into()).unwrap();
        Reflect::set(&global, &"__requests".into(), &Array::new()).unwrap();
        let fake = Function::new_with_args(
            "answer",
            "return async function(request, init) {
                const req = new Request(request, init);
                const path = new URL(req.url).pathname;
                const type = req.headers.get('content-type') ?? '';
                const body = type.includes('json') ? await req.text()
                    : type.includes('multipart') ? JSON.stringify([...(await req.formData()).entries()]
                        .map(([name, value]) => [name, typeof value === 'string' ? value : 'file:' + value.name]))
                    : null;
                globalThis.__requests.push({ path, method: req.method, type, body });
                const [status, json] = answer(path);
                return new Response(JSON.stringify(json), { status, headers: { 'Content-Type': 'application/json' } });
            };",
        )
        .call1(&JsValue::NULL, &js_sys::eval(answer).unwrap())
        .unwrap();
        Reflect::set(&global, &"fetch".into(), &fake).unwrap();
        Self { original }
    }

    /// The multipart fields of the last request as JSON text: `[[name, value or "file:NAME"], ...]`.
    pub fn last_form(&self) -> String {
        let last = self.requests().pop().unwrap();
        prop(&last, "body").as_string().unwrap()
    }

    /// Every request recorded so far.
    pub fn requests(&self) -> Vec<JsValue> {
        Array::from(&Reflect::get(&js_sys::global(), &"__requests".into()).unwrap()).to_vec()
    }

    /// The path of every request recorded so far.
    pub fn paths(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| prop(r, "path").as_string().unwrap())
            .collect()
    }

    /// The JSON body of the last request, written back as canonical JSON text.
    pub fn last_body(&self) -> String {
        let last = self.requests().pop().unwrap();
        let parsed = JSON::parse(&prop(&last, "body").as_string().unwrap()).unwrap();
        String::from(JSON::stringify(&parsed).unwrap())
    }
}

impl Drop for FakeFetch {
    fn drop(&mut self) {
        Reflect::set(&js_sys::global(), &"fetch".into(), &self.original).unwrap();
    }
}

pub fn object(source: &str) -> JsValue {
    js_sys::eval(&format!("({source})")).unwrap()
}

pub fn prop(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &name.into()).unwrap()
}

/// Canonical JSON text of a JS object literal.
pub fn json(source: &str) -> String {
    String::from(JSON::stringify(&object(source)).unwrap())
}

pub async fn rejection(promise: Promise) -> JsValue {
    match JsFuture::from(promise).await {
        Ok(value) => panic!("expected a rejection, got {value:?}"),
        Err(err) => err,
    }
}

/// A PNG Blob.
pub fn png_blob() -> String {
    format!("new Blob([Uint8Array.from(atob('{PNG_BASE64}'), c => c.charCodeAt(0))], {{ type: 'image/png' }})")
}

/// Records the milliseconds of every `AbortSignal.timeout(ms)` the library asks for (the time
/// limits of its calls and waits) in `globalThis.__timeouts`, still making the signals; the real
/// `AbortSignal.timeout` comes back on drop.
pub struct RecordedTimeouts {
    original: JsValue,
}

impl RecordedTimeouts {
    /// Starts recording.
    pub fn install() -> Self {
        let signal = Reflect::get(&js_sys::global(), &"AbortSignal".into()).unwrap();
        let original = Reflect::get(&signal, &"timeout".into()).unwrap();
        Reflect::set(&js_sys::global(), &"__timeouts".into(), &Array::new()).unwrap();
        let recording = Function::new_with_args(
            "original",
            "return function(ms) { globalThis.__timeouts.push(ms); return original.call(AbortSignal, ms); };",
        )
        .call1(&JsValue::NULL, &original)
        .unwrap();
        Reflect::set(&signal, &"timeout".into(), &recording).unwrap();
        Self { original }
    }

    /// Every time limit asked for so far, in milliseconds.
    pub fn millis(&self) -> Vec<f64> {
        Array::from(&Reflect::get(&js_sys::global(), &"__timeouts".into()).unwrap())
            .iter()
            .map(|ms| ms.as_f64().unwrap())
            .collect()
    }
}

impl Drop for RecordedTimeouts {
    fn drop(&mut self) {
        let signal = Reflect::get(&js_sys::global(), &"AbortSignal".into()).unwrap();
        Reflect::set(&signal, &"timeout".into(), &self.original).unwrap();
    }
}
