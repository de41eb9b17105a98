//! [`client_class!`]: one macro builds a provider's client class from its catalog entry and the
//! function that runs its operations, so every class has the same constructor, `waitForResult`
//! and `upload`, and one method per listed operation.

use alloc::boxed::Box;

use faceswap_core::provider::{Catalog, OperationSpec};
use js_sys::Promise;
use wasm_bindgen::JsValue;

use crate::drive::{run, Pending};
use crate::error::ClientError;
use crate::provider_client::ProviderClient;

/// Runs one operation of a provider: `(its catalog entry, client, operation, request, options)`.
pub type SubmitFn =
    fn(&'static Catalog, ProviderClient, &'static OperationSpec, JsValue, JsValue) -> Pending;

/// What a class method starts.
#[derive(Clone, Copy)]
pub enum Call {
    /// The operation with this JS name, through the class's [`SubmitFn`].
    Operation(&'static str),
    /// `waitForResult(taskId, options)`.
    WaitForResult,
    /// `upload(file, options)`.
    Upload,
}

/// Starts `call` of `entry`'s class with its two arguments: one future for every method of
/// every class built by [`client_class!`].
pub fn start(
    entry: &'static Catalog,
    submit: SubmitFn,
    client: &ProviderClient,
    call: Call,
    a: JsValue,
    b: JsValue,
) -> Promise {
    let client = client.clone();
    match call {
        Call::Operation(name) => match entry.operation_named(name) {
            Some(operation) => run(submit(entry, client, operation, a, b)),
            None => run(Box::pin(async move {
                Err(ClientError::internal("this build has no such operation"))
            })),
        },
        Call::WaitForResult => run(Box::pin(
            async move { client.wait_for_result(&a, &b).await },
        )),
        Call::Upload => run(Box::pin(async move { client.upload_call(a, &b).await })),
    }
}

/// Declares a provider's client class: `client_class!(/// docs Name for CATALOG, run SUBMIT {
/// /// docs jsName(method_name, "RequestType") -> "Promise<ResultType>"; ... })`. The class holds
/// a [`ProviderClient`] of the catalog entry's provider; each listed operation becomes a method
/// `jsName(request, options?)` that runs `SUBMIT`; `waitForResult` and `upload` are the same in
/// every class.
#[macro_export]
macro_rules! client_class {
    (
        $(#[$class_doc:meta])*
        $class:ident for $catalog:path, run $submit:path {
            $(
                $(#[$op_doc:meta])*
                $js:ident($method:ident, $request:tt) -> $returns:tt;
            )*
        }
    ) => {
        $(#[$class_doc])*
        #[wasm_bindgen::prelude::wasm_bindgen]
        pub struct $class {
            core: $crate::provider_client::ProviderClient,
        }

        #[wasm_bindgen::prelude::wasm_bindgen]
        impl $class {
            /// A client for the proxy at `options.baseUrl` (default `"/api"`), with
            /// `options.timeoutMs` as the time limit of each call: by default 60000, and for a
            /// submit to a provider that may answer only when its result is made (AceData) its
            /// longest wait on top (390000 for AceData).
            #[wasm_bindgen(constructor)]
            pub fn new(
                #[wasm_bindgen(unchecked_optional_param_type = "FaceSwapClientOptions")]
                options: wasm_bindgen::JsValue,
            ) -> Result<$class, wasm_bindgen::JsValue> {
                Ok(Self {
                    core: $crate::provider_client::ProviderClient::from_options(
                        $catalog.info,
                        &options,
                    )?,
                })
            }

            $(
                $(#[$op_doc])*
                #[wasm_bindgen(js_name = $js, unchecked_return_type = $returns)]
                pub fn $method(
                    &self,
                    #[wasm_bindgen(unchecked_param_type = $request)] request: wasm_bindgen::JsValue,
                    #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")]
                    options: wasm_bindgen::JsValue,
                ) -> js_sys::Promise {
                    self.start($crate::class::Call::Operation(stringify!($js)), request, options)
                }
            )*

            /// Follows a task until it ends (`/{provider}/tasks/{id}/events` under the base
            /// URL). Resolves the task when it succeeded (`resultUrl` is the result); rejects
            /// with `code: "task_failed"` or `"timeout"` (the task attached as `task`),
            /// `"aborted"` when `signal` fires. `onStatus` is called on each status change.
            /// Gives up with `"timeout"` after `timeoutMs`: by default 7260000 (2 h 1 min, the
            /// proxy's default task deadline and a minute), `Infinity` for no limit.
            #[wasm_bindgen(js_name = waitForResult, unchecked_return_type = "Promise<Task>")]
            pub fn wait_for_result(
                &self,
                #[wasm_bindgen(unchecked_param_type = "string")] task_id: wasm_bindgen::JsValue,
                #[wasm_bindgen(unchecked_optional_param_type = "WaitOptions")]
                options: wasm_bindgen::JsValue,
            ) -> js_sys::Promise {
                self.start($crate::class::Call::WaitForResult, task_id, options)
            }

            /// Stores a file on the proxy; resolves `{ url, size, contentType }` with a URL the
            /// provider can fetch.
            #[wasm_bindgen(unchecked_return_type = "Promise<Uploaded>")]
            pub fn upload(
                &self,
                #[wasm_bindgen(unchecked_param_type = "Blob")] file: wasm_bindgen::JsValue,
                #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")]
                options: wasm_bindgen::JsValue,
            ) -> js_sys::Promise {
                self.start($crate::class::Call::Upload, file, options)
            }
        }

        impl $class {
            fn start(
                &self,
                call: $crate::class::Call,
                a: wasm_bindgen::JsValue,
                b: wasm_bindgen::JsValue,
            ) -> js_sys::Promise {
                $crate::class::start(&$catalog, $submit, &self.core, call, a, b)
            }
        }
    };
}
