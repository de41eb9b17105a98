//! `ExampleClient`, the example provider's class (the feature `example-provider`, for the tests
//! that prove the provider seam): its catalog entry declares its fields, so the generic client
//! ([`crate::declared`]) runs it, and this module is all the library holds of it.

use faceswap_core::example::CATALOG;
use wasm_bindgen::prelude::*;

crate::client_class! {
    /// A client of `faceswap-proxy` for the example provider.
    ExampleClient for CATALOG, run crate::declared::submit {
        /// Puts the face of `faceUrl` onto the picture `targetUrl` (each a URL, or a Blob, which
        /// is uploaded first). Resolves `{ taskId }`.
        faceSwap(face_swap, "ExampleFaceSwapRequest") -> "Promise<ProviderTaskCreated>";
    }
}

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** `ExampleClient.faceSwap`: the face of `faceUrl` onto the picture `targetUrl`. */
export interface ExampleFaceSwapRequest { targetUrl: ImageInput; faceUrl: ImageInput; }
export interface ProviderClients { example: ExampleClient; }
"#;
