//! Turns a Rust panic into a thrown JS `Error` carrying the panic's message, instead of an opaque
//! `unreachable` trap.

use wasm_bindgen::prelude::*;

/// Installs the hook once, when the module starts.
#[wasm_bindgen(start)]
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = match info.payload().downcast_ref::<&str>() {
            Some(text) => (*text).to_owned(),
            None => info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "unknown panic".to_owned()),
        };
        let location = info
            .location()
            .map(|l| faceswap_core::text!(" at ", l.file(), ":", l.line()))
            .unwrap_or_default();
        wasm_bindgen::throw_str(&faceswap_core::text!(
            "faceswap-wasm internal error: ",
            message,
            location
        ));
    }));
}
