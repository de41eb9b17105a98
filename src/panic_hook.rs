//! Turns a Rust panic into a thrown JS `Error` carrying the panic's message and where it
//! happened, instead of an opaque `unreachable` trap.
//!
//! In the wasm build, without std, this is the panic handler itself: it reads the message only
//! when it is plain text (`PanicMessage::as_str`), so no formatting code is linked. With std
//! (native builds and the wasm tests, feature `std`) it is std's panic hook.

#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
use core::panic::PanicInfo;

/// The thrown error's text: `faceswap-wasm internal error: <message> at <file>:<line>`.
#[cfg(any(target_arch = "wasm32", feature = "std", test))]
fn describe(message: &str, location: Option<&core::panic::Location<'_>>) -> alloc::string::String {
    let at = location
        .map(|l| faceswap_core::text!(" at ", l.file(), ":", l.line()))
        .unwrap_or_default();
    faceswap_core::text!("faceswap-wasm internal error: ", message, at)
}

#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    let message = info
        .message()
        .as_str()
        .unwrap_or("a panic (its message needs formatting)");
    wasm_bindgen::throw_str(&describe(message, info.location()))
}

/// With std: installs the hook once, when the module starts.
#[cfg(feature = "std")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
fn install_panic_hook() {
    std::panic::set_hook(alloc::boxed::Box::new(|info| {
        let message = match info.payload().downcast_ref::<&str>() {
            Some(text) => (*text).into(),
            None => info
                .payload()
                .downcast_ref::<alloc::string::String>()
                .cloned()
                .unwrap_or_else(|| "unknown panic".into()),
        };
        wasm_bindgen::throw_str(&describe(&message, info.location()));
    }));
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_reads_as_the_librarys_internal_error_with_its_place() {
        let location = core::panic::Location::caller();
        let text = super::describe("index out of range", Some(location));
        assert!(
            text.starts_with("faceswap-wasm internal error: index out of range at "),
            "{text}"
        );
        assert!(
            text.ends_with(&faceswap_core::text!(":", location.line())),
            "{text}"
        );
        assert_eq!(
            super::describe("boom", None),
            "faceswap-wasm internal error: boom"
        );
    }
}
