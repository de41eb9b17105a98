//! The provider seam: what every face-swap provider has in common, and the [`Adapter`] trait that
//! each provider module implements.
//!
//! An adapter is sans-IO (the shape of `quinn-proto` or `h2`'s codec): it parses, validates and
//! prices a browser's request, builds the upstream request as plain data ([`UpstreamRequest`]),
//! and reads the provider's answers (submit, callback, poll) into neutral values
//! ([`SubmitOutcome`], [`TaskUpdate`], [`ProviderFault`]). The proxy does the I/O, the same way for
//! every provider; [`crate::registry`] lists the adapters it serves.

mod adapter;
mod catalog;
mod cost;
mod fault;
mod fields;
pub mod form;
pub mod image;
pub mod rate_limit;
mod settings;
mod update;
mod upstream;
pub mod video;

pub use adapter::{Adapter, BuildError, CallbackTarget, OperationSpec, Prepared};
pub use catalog::{Catalog, CheckFn, FieldNames, PriceFn, SwapFaceSpec};
pub use cost::{Cost, CostUnit, PriceInputs};
pub use fault::{FaultKind, ProviderFault};
pub use fields::{FieldKind, FieldSpec, FieldValue, FieldValues};
pub use form::{FormInput, FormValue};
pub use image::LimitedImage;
pub use settings::{AdapterSettings, SettingSpec};
pub use update::{ResultInfo, SubmitOutcome, TaskUpdate};
pub use upstream::{Part, PartValue, UpstreamBody, UpstreamMethod, UpstreamRequest};
pub use video::{billed_duration, VideoInput};

/// How the provider's API key is sent upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Authorization: Bearer KEY` (aifaceswap, AceData).
    Bearer,
    /// The key as the value of a header of its own, for example `x-api-key` (PiAPI, AIPhotoCraft).
    Header(&'static str),
}

/// How a task's result comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultDelivery {
    /// The provider POSTs the result to a callback URL given with the request; there is nothing
    /// to poll.
    Callback,
    /// The proxy asks the provider's status endpoint until the task ends.
    Polling,
    /// A callback, and polling once no terminal callback came within a wait.
    CallbackThenPolling,
}

impl ResultDelivery {
    /// True when the proxy polls tasks of this provider (at once or after a wait).
    pub const fn polls(self) -> bool {
        !matches!(self, ResultDelivery::Callback)
    }

    /// True when the provider is given a callback URL.
    pub const fn calls_back(self) -> bool {
        !matches!(self, ResultDelivery::Polling)
    }
}

/// The fixed facts about one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderInfo {
    /// Short name, used in proxy routes (`/api/{id}/...`, `/hooks/{id}/{token}`) and, in
    /// capitals, in configuration (`{ID}_API_KEY`).
    pub id: &'static str,
    /// The public API's base URL.
    pub default_base_url: &'static str,
    /// How the key travels.
    pub auth: AuthScheme,
    /// How results arrive.
    pub delivery: ResultDelivery,
    /// The header in which the provider echoes a per-task callback secret, when it has one: the
    /// proxy then makes a fresh secret per task and accepts a callback only with it.
    pub callback_secret_header: Option<&'static str>,
    /// The unit its prices are in.
    pub cost_unit: CostUnit,
    /// Settings the operator may give beyond the key and base URL (PiAPI's `service_mode`);
    /// their values reach [`Adapter::upstream_request`].
    pub settings: &'static [SettingSpec],
    /// What the proxy answers an accepted callback with.
    pub callback_ack: CallbackAck,
    /// The longest a submit's upstream call may wait for the provider's answer when that is
    /// longer than a usual call (AceData's synchronous answer: its `timeout` and a margin);
    /// `None` for providers that answer a submit at once. The proxy's submit and the browser
    /// library's default submit time limit both cover it
    /// ([`Adapter::longest_upstream_wait`]).
    pub longest_submit_wait: Option<core::time::Duration>,
    /// The spend cap's older name, when it is not `{ID}_SPEND_CAP_PER_HOUR` (aifaceswap's
    /// `SPEND_CAP_CREDITS_PER_HOUR`); `None` for every provider added since.
    pub legacy_spend_cap: Option<LegacySpendCap>,
}

/// The answer a provider expects to an accepted callback (one it may retry otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackAck {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body, as text.
    pub body: &'static str,
}

impl CallbackAck {
    /// `200 {"code":200,"message":"OK"}`: aifaceswap's answer shape, which the proxy has given
    /// every provider so far; where a provider's page names no answer, this is the project's
    /// assumption.
    pub const OK: CallbackAck = CallbackAck {
        status: 200,
        body: r#"{"code":200,"message":"OK"}"#,
    };
}

/// A spend cap kept under the name it had before every provider got `{ID}_SPEND_CAP_PER_HOUR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacySpendCap {
    /// The environment variable (`SPEND_CAP_CREDITS_PER_HOUR`).
    pub env: &'static str,
    /// The flag without its dashes (`spend-cap-credits-per-hour`).
    pub flag: &'static str,
    /// The cap when unset, in the provider's unit, whole.
    pub default: u64,
}

/// A callback request's headers as plain data: `(name, value)` pairs, names in lower case,
/// values that are not text left out.
pub type CallbackHeaders<'a> = &'a [(&'a str, &'a str)];

/// One operation of a provider, typed: its name in routes, its upstream path and whether it
/// starts a task whose result arrives later. The browser library and the sandbox use these; the
/// proxy uses the [`Adapter`] over them.
pub trait ProviderOperation: Copy + Sized + 'static {
    /// Every operation of the provider.
    const ALL: &'static [Self];

    /// The operation's name as it appears in the provider's path (`faceswap`).
    fn name(self) -> &'static str;

    /// Path relative to the provider's base URL (`api/aifaceswap/v1/faceswap`).
    fn upstream_path(self) -> &'static str;

    /// True when the call starts a task whose result is delivered later.
    fn starts_task(self) -> bool;

    /// The operation with this name, if the provider has one.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|op| op.name() == name)
    }
}
