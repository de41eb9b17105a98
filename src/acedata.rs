//! `AceDataClient`, AceData's class: `faceSwap` (on `/api/acedata/face/swap`), plus `upload`
//! and `waitForResult`.
//!
//! AceData's catalog entry declares its fields (`source_image_url`, `target_image_url`,
//! `timeout`) and their check, so the generic client ([`crate::declared`]) runs it: both images
//! and `timeout` are checked by core's rules before anything is sent, Blobs are uploaded through
//! the proxy, then AceData's body is POSTed. The proxy sets the callback URL; when AceData
//! answers with the image at once, the task is already succeeded and `waitForResult` resolves on
//! its first event.

use faceswap_core::acedata::CATALOG;

crate::client_class! {
    /// A client of `faceswap-proxy` for AceData's face swap. It never holds the provider's key:
    /// the proxy does. AceData may answer a swap only when the image is made (one to two
    /// minutes, `ACEDATA_DELIVERY=synchronous`), so without `timeoutMs` a submit's time limit is
    /// 390000 ms: AceData's longest wait (its largest `timeout`, 300 s, and a 30 s margin) and
    /// the usual 60000.
    AceDataClient for CATALOG, run crate::declared::submit {
        /// Puts the face of `sourceImageUrl` onto the picture `targetImageUrl` (each a URL, or a
        /// Blob, which is uploaded first); `timeout` (seconds) is AceData's own time limit.
        /// Resolves `{ taskId }`; follow the task with `waitForResult`.
        faceSwap(face_swap, "AceDataFaceSwapRequest") -> "Promise<ProviderTaskCreated>";
    }
}

#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** `AceDataClient.faceSwap`: the face of `sourceImageUrl` onto the picture `targetImageUrl`; `timeout` is AceData's own limit in seconds, at most 300 (a bound of the proxy's own, checked before anything is uploaded). */
export interface AceDataFaceSwapRequest { sourceImageUrl: ImageInput; targetImageUrl: ImageInput; timeout?: number; }
export interface ProviderClients { acedata: AceDataClient; }
"#;
