//! The library's own executor: every async call of the library (a submit, an upload, a wait, the
//! media helpers) is a Rust future that waits only on JS promises, one at a time, so `drive` in
//! `src/browser.js` can do the waiting: it calls [`Run::step`], awaits the promise the future
//! stopped at ([`settle`]) and hands its outcome back with the next step, until the future ends.
//!
//! This replaces `wasm-bindgen-futures`, whose task queue, wakers and promise callbacks (JS
//! closures) weighed about 4 KB gzipped in every entry of the package (measured with
//! `npm run bench -- bundle`). What it cannot do, and the library never needs: wait on two
//! promises at once (`Promise.race`/`all` make one promise), or wake on anything but a promise.

use alloc::boxed::Box;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use js_sys::Promise;
use wasm_bindgen::prelude::*;

use crate::error::ClientError;

/// A boxed call of the library. Boxing means one [`Run`] type for the whole library, which keeps
/// the wasm small.
pub type Pending = Pin<Box<dyn Future<Output = Result<JsValue, ClientError>>>>;

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    /// Steps `run` to its end; resolves its result or rejects with its error.
    #[wasm_bindgen(js_name = drive)]
    fn drive_in_js(run: Run) -> Promise;
    /// Tells `drive` the promise the stepping call now waits on.
    #[wasm_bindgen(js_name = waitOn)]
    fn wait_on(promise: &Promise);
    /// The outcome of that promise when `drive` resumes the call: its value, or its rejection
    /// as `Err`.
    #[wasm_bindgen(catch)]
    fn settled() -> Result<JsValue, JsValue>;
}

/// Turns a call into a promise that resolves its result or rejects with its `ClientError` as a
/// JS `Error`.
pub fn run(future: Pending) -> Promise {
    drive_in_js(Run { future })
}

/// A call of the library in progress, stepped by `drive` in `src/browser.js`.
#[wasm_bindgen(private, skip_typescript)]
pub struct Run {
    future: Pending,
}

#[wasm_bindgen]
impl Run {
    /// Runs the call until it waits on a promise (which it hands to `drive` with `waitOn`;
    /// `undefined` is returned then) or ends: returns its result, or throws its error.
    pub fn step(&mut self) -> Result<JsValue, JsValue> {
        match self
            .future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(result) => result.map_err(JsValue::from),
            Poll::Pending => Ok(JsValue::UNDEFINED),
        }
    }
}

/// A promise as a future that [`Run`] can drive: resolves its value, or its rejection as `Err`.
pub struct Settle(Option<Promise>);

/// Awaits `promise` (in place of `wasm_bindgen_futures::JsFuture`).
pub fn settle(promise: Promise) -> Settle {
    Settle(Some(promise))
}

impl Future for Settle {
    type Output = Result<JsValue, JsValue>;

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        match self.0.take() {
            Some(promise) => {
                wait_on(&promise);
                Poll::Pending
            }
            None => Poll::Ready(settled()),
        }
    }
}
