//! AceData's face swap (`POST face/swap` on `https://api.acedata.cloud`): the request and its
//! validation, the answers (the synchronous result, `{task_id}` when a callback URL was given,
//! the callback, the error envelope), and the [`Adapter`](crate::provider::Adapter).
//!
//! Field names are exactly the provider's (`source_image_url`, `target_image_url`). The source
//! image supplies the face; the target is the picture that receives it.

mod adapter;
mod fault;
mod request;
mod response;

pub use adapter::{AceData, CATALOG, OPERATIONS, ROUTE};
pub use fault::{fault, ERROR_CODES};
pub use request::{
    check_timeout, check_timeout_number, Request, DEFAULT_TIMEOUT_SECS, MAX_TIMEOUT_SECS,
    SYNC_MARGIN_SECS,
};
pub use response::{CallbackBody, ErrorBody, ErrorEnvelope, SwapAnswer};

use core::time::Duration;

use crate::provider::{
    AuthScheme, CallbackAck, CostUnit, ProviderInfo, ResultDelivery, SettingSpec,
};

/// How the proxy asks AceData for results: `ACEDATA_DELIVERY`.
///
/// `callback` (the default) sends `callback_url = PUBLIC_URL/hooks/acedata/{token}`, so AceData
/// answers `{task_id}` at once and POSTs the result later; `synchronous` sends no callback URL,
/// so the submit waits for the image (one to two minutes), for a proxy AceData cannot reach.
pub const DELIVERY: SettingSpec = SettingSpec {
    name: "delivery",
    help: "How AceData returns results: callback (AceData POSTs to PUBLIC_URL/hooks/acedata/...) \
           or synchronous (no callback URL; the submit waits for the image, for a proxy AceData \
           cannot reach)",
    allowed: &[DELIVERY_CALLBACK, DELIVERY_SYNCHRONOUS],
};

/// [`DELIVERY`]'s value for results by callback (the default).
pub const DELIVERY_CALLBACK: &str = "callback";
/// [`DELIVERY`]'s value for results in the submit's answer.
pub const DELIVERY_SYNCHRONOUS: &str = "synchronous";

/// The provider's fixed facts: `Authorization: Bearer KEY`, results by `callback_url` (or in a
/// synchronous answer, which may take the largest `timeout` and a margin), prices in requests.
pub const PROVIDER: ProviderInfo = ProviderInfo {
    id: "acedata",
    default_base_url: "https://api.acedata.cloud",
    auth: AuthScheme::Bearer,
    delivery: ResultDelivery::Callback,
    callback_secret_header: None,
    cost_unit: CostUnit::Requests,
    settings: &[DELIVERY],
    // The page names no answer to a callback: the project's assumption.
    callback_ack: CallbackAck::OK,
    longest_submit_wait: Some(Duration::from_secs(MAX_TIMEOUT_SECS + SYNC_MARGIN_SECS)),
    legacy_spend_cap: None,
};

/// Path of the face swap, under the base URL.
pub const SUBMIT_PATH: &str = "face/swap";
