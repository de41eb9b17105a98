//! A provider's [`Catalog`] entry: what every layer needs to know of it besides the request
//! building and answer parsing of its [`super::Adapter`], as `'static` data and one plain price
//! function. The browser library reads only catalog entries
//! ([`crate::registry::CATALOG`]), so holding one links no adapter method into the wasm.

use super::{Cost, FieldValues, OperationSpec, PriceInputs, ProviderInfo};
use crate::FieldError;

/// The price of one task of an operation for these inputs, before a request is made: the one
/// price rule the library's `estimateCost` and `estimateCredits` and the adapter share. An input
/// the price depends on and that has no default (a video's `duration`) is an error naming it.
pub type PriceFn = fn(&OperationSpec, &PriceInputs) -> Result<Cost, FieldError>;

/// Checks the values a request gave an operation's declared fields
/// ([`OperationSpec::fields`]) by the rules the adapter checks a request's body with, before
/// anything is uploaded or sent: the browser library's generic client calls it with Blobs as
/// their stand-in URLs.
pub type CheckFn = fn(&OperationSpec, &FieldValues) -> Result<(), FieldError>;

/// How a provider's field names differ from the library's flat camelCase ones, beyond
/// snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldNames {
    /// The object the provider wraps its inputs in (PiAPI's `{"input": {...}}`): the JS requests
    /// are flat, so `input.swap_faces_index` is the request's `swapFacesIndex`.
    pub wrapper: Option<&'static str>,
    /// Field names that run two words together (AIPhotoCraft's `srcimage`, `targetimage1`), as
    /// (provider prefix, JS spelling of it).
    pub run_together: &'static [(&'static str, &'static str)],
}

impl FieldNames {
    /// Field names that are plain snake_case.
    pub const SNAKE_CASE: Self = Self {
        wrapper: None,
        run_together: &[],
    };
}

/// The provider's one-face swap, which `swapFace(provider, { target, face })` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapFaceSpec {
    /// The operation's JS name (`faceSwap`, `basicSwap`).
    pub operation: &'static str,
    /// The JS field of its request that takes the picture receiving the face.
    pub target: &'static str,
    /// The JS field that takes the face.
    pub face: &'static str,
}

/// One provider as every layer sees it.
#[derive(Debug, Clone, Copy)]
pub struct Catalog {
    /// Id, base URL, authentication, delivery, cost unit, settings.
    pub info: &'static ProviderInfo,
    /// Every operation: JS name, wire name, route, fields, file fields.
    pub operations: &'static [OperationSpec],
    /// The price rule.
    pub price: PriceFn,
    /// How its field names map onto the library's.
    pub field_names: FieldNames,
    /// Its one-face swap.
    pub swap_face: SwapFaceSpec,
    /// The browser library's class for it (`FaceSwapClient`), which `/api/config` names so a
    /// page can find the class without a list of its own.
    pub client_class: &'static str,
    /// The check of its operations' declared fields, for the browser library's generic client;
    /// `None` for a provider whose client module builds its own typed requests (and checks them
    /// with the same rules).
    pub check: Option<CheckFn>,
}

impl Catalog {
    /// The provider's id (`aifaceswap`).
    pub const fn id(&self) -> &'static str {
        self.info.id
    }

    /// The operation with this wire or JS name.
    pub fn operation_named(&self, name: &str) -> Option<&'static OperationSpec> {
        self.operations
            .iter()
            .find(|op| op.name == name || op.js_name == name)
    }

    /// What `operation` costs for `inputs`, in the provider's unit.
    pub fn price_of(
        &self,
        operation: &OperationSpec,
        inputs: &PriceInputs,
    ) -> Result<Cost, FieldError> {
        (self.price)(operation, inputs)
    }
}
