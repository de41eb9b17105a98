//! The [`Adapter`] trait: one provider's rules, as plain functions of data.

use super::{
    AdapterSettings, CallbackHeaders, Cost, FaultKind, FormInput, PriceInputs, ProviderFault,
    ProviderInfo, SubmitOutcome, TaskUpdate, UpstreamRequest, VideoInput,
};
use crate::FieldError;
use alloc::{borrow::ToOwned, format, string::String, vec::Vec};
use core::time::Duration;

/// One operation as the proxy and the library's price table see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationSpec {
    /// The operation's name on the provider's wire (`faceswap`, `face-swap`, `basicswap`).
    pub name: &'static str,
    /// The library's method for it (`faceSwap`, `basicSwap`).
    pub js_name: &'static str,
    /// The browser-facing route under `/api/{provider}/` (`v1/faceswap`, `v1/task`). Several
    /// operations may share one route; the body then tells them apart.
    pub route: &'static str,
    /// True when the call starts a task whose result comes later.
    pub starts_task: bool,
    /// The fields that may carry a file in a multipart submit; empty when the operation takes
    /// JSON only.
    pub file_fields: &'static [&'static str],
    /// The text fields of a multipart submit besides the file fields (`enhance`).
    pub form_text_fields: &'static [&'static str],
    /// The fields of a multipart submit that may be sent more than once, one part per entry
    /// (aifaceswap's `multi_faceswap`: `face_image` files, `index` numbers). The n-th file of
    /// such a field is kept under [`super::form::repeated_key`] (`face_image[0]`).
    pub repeated_fields: &'static [&'static str],
    /// True when the operation takes a JSON body.
    pub accepts_json: bool,
    /// Its inputs, where the provider declares them for the browser library's generic client
    /// ([`super::Catalog::check`]); empty for an operation whose provider has a client module of
    /// its own.
    pub fields: &'static [super::FieldSpec],
}

/// A validated, priced request, ready to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The operation.
    pub operation: &'static OperationSpec,
    /// The request with the provider's field names, normalised by validation; files of a
    /// multipart submit appear as their stand-in URLs ([`super::form::file_stand_in`]).
    pub request: serde_json::Value,
    /// What it costs.
    pub cost: Cost,
    /// True when it came (and goes upstream) as a multipart form.
    pub multipart: bool,
}

/// Where the provider should deliver a task's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackTarget {
    /// `PUBLIC_URL/hooks/{provider}/{token}`.
    pub url: String,
    /// The per-task secret, for providers that echo one
    /// ([`ProviderInfo::callback_secret_header`]).
    pub secret: Option<String>,
}

/// Why an upstream request could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The request could not be written as JSON.
    #[error("the request cannot be serialised: {0}")]
    Json(#[from] serde_json::Error),
    /// The prepared request does not parse as the operation's shape (a bug in the adapter).
    #[error("the prepared request does not match {operation}: {reason}")]
    Shape {
        /// The operation.
        operation: &'static str,
        /// What did not match.
        reason: FieldError,
    },
}

/// One provider: how its requests are checked, priced and built, and how its answers read.
///
/// Every method is sans-IO. The proxy serves each registered adapter on the same generic routes
/// (`/api/{id}/{route}`, `/hooks/{id}/{token}`, `/api/{id}/tasks/{task_id}`); the sandbox and the
/// library use the same rules.
pub trait Adapter: Send + Sync + 'static {
    /// The provider's fixed facts: its [`super::Catalog`] entry's `info`.
    fn info(&self) -> &'static ProviderInfo;

    /// Every operation: its catalog entry's `operations`.
    fn operations(&self) -> &'static [OperationSpec];

    /// The price of one task of `operation` for these inputs, as shown before a request is
    /// made: its catalog entry's `price`, with an input it needs and lacks priced as nothing
    /// (the library shows that error instead). A prepared request is priced by
    /// [`Adapter::prepare_json`] from its own fields. `crate::registry`'s test checks that both
    /// agree.
    fn price(&self, operation: &OperationSpec, inputs: &PriceInputs) -> Cost;

    /// Parses, validates and prices a JSON submit to `route`.
    fn prepare_json(&self, route: &str, body: &[u8]) -> Result<Prepared, FieldError>;

    /// Validates and prices a multipart submit to `route`, whose fields the proxy read as the
    /// route's operations list them ([`OperationSpec::file_fields`], `form_text_fields`).
    fn prepare_form(&self, route: &str, form: &FormInput) -> Result<Prepared, FieldError>;

    /// The upstream call for a prepared request; `callback` is set for task operations of
    /// providers that call back; `settings` holds the operator's values of
    /// [`ProviderInfo::settings`].
    fn upstream_request(
        &self,
        prepared: &Prepared,
        callback: Option<&CallbackTarget>,
        settings: &AdapterSettings,
    ) -> Result<UpstreamRequest, BuildError>;

    /// Whether the provider is given a callback URL under the operator's `settings`: by default
    /// whether its [`ProviderInfo::delivery`] calls back; an adapter with a setting that turns
    /// callbacks off (AceData's `ACEDATA_DELIVERY=synchronous`) says so here. The proxy warns at
    /// start when such a provider has a key and `PUBLIC_URL` cannot be reached from the internet.
    fn calls_back(&self, settings: &AdapterSettings) -> bool {
        let _ = settings;
        self.info().delivery.calls_back()
    }

    /// The longest an upstream call of this adapter may take when its request asks for more
    /// than the proxy's upstream timeout ([`UpstreamRequest::timeout`]); `None` when no call
    /// does. The proxy holds every request's timeout to it and lets a submit of this provider run
    /// that much longer. By default the catalog's [`ProviderInfo::longest_submit_wait`], the
    /// number the browser library's default submit time limit is made from too.
    fn longest_upstream_wait(&self) -> Option<Duration> {
        self.info().longest_submit_wait
    }

    /// Reads a successful (2xx) answer to a submit.
    fn read_submit(&self, prepared: &Prepared, body: &[u8])
        -> Result<SubmitOutcome, ProviderFault>;

    /// Reads a non-2xx answer (other than redirects, 429 and 5xx, which the proxy judges the
    /// same way for every provider).
    fn read_error(&self, status: u16, body: &[u8]) -> ProviderFault {
        let _ = body;
        let message = match status {
            401 | 403 => "the provider refused the proxy's credentials".to_owned(),
            _ => format!("the provider rejected the request (code {status})"),
        };
        ProviderFault::new(FaultKind::Upstream, message)
    }

    /// The submit's answer as the browser gets it: unchanged, unless it echoes something the
    /// browser must not see (PiAPI's callback secret).
    fn browser_answer(&self, body: &[u8]) -> Vec<u8> {
        body.to_vec()
    }

    /// Reads a callback into an update: its body and its request's headers (for a provider
    /// that signs or describes its callback there; empty for a callback held from before the
    /// headers were kept). The secret, where the provider has one, has been checked by then.
    fn read_callback(
        &self,
        body: &[u8],
        headers: CallbackHeaders<'_>,
    ) -> Result<TaskUpdate, FieldError>;

    /// About how long a task of this provider takes, where the project knows: a polled task's
    /// first poll waits this long, since a poll before the result only spends a request. `None`
    /// (the default): polled from the proxy's poll interval on.
    fn typical_task_time(&self) -> Option<Duration> {
        None
    }

    /// The status call of a polled provider's task.
    fn poll_request(&self, task_id: &str) -> Option<UpstreamRequest> {
        let _ = task_id;
        None
    }

    /// Reads a successful (2xx) answer to [`Adapter::poll_request`].
    fn read_poll(&self, task_id: &str, body: &[u8]) -> Result<TaskUpdate, ProviderFault> {
        let _ = (task_id, body);
        Err(ProviderFault::malformed(format!(
            "{} has no status endpoint",
            self.info().id
        )))
    }

    /// The video a prepared request names and the `duration` it declared, for the proxy to
    /// price it by what it knows of the video ([`super::video::billed_duration`]); `None` (the
    /// default) for an operation without a video.
    fn video_input(&self, prepared: &Prepared) -> Option<VideoInput> {
        let _ = prepared;
        None
    }

    /// The prepared request with its video's `duration` set to `seconds` and priced by it (what
    /// [`super::video::billed_duration`] decided). By default the request as it is.
    fn with_duration(&self, prepared: &Prepared, seconds: f64) -> Result<Prepared, FieldError> {
        let _ = seconds;
        Ok(prepared.clone())
    }

    /// The image URLs of a prepared request whose size the provider limits, with the limit, for
    /// the proxy to check the images it stored itself before anything is spent
    /// ([`super::image`]); empty (the default) for a provider without a size limit.
    fn limited_images(&self, prepared: &Prepared) -> Vec<super::LimitedImage> {
        let _ = prepared;
        Vec::new()
    }

    /// True when the provider takes its file fields as files only (AIPhotoCraft): a URL the
    /// browser sends as the text of a file field is then read by the proxy, under its fetch
    /// rules, and sent upstream as a file. By default URLs travel as text.
    fn files_only(&self) -> bool {
        false
    }

    /// When an answer's headers (`(name, value)` pairs, names in any case) say the provider's
    /// own request budget is spent: the epoch second (UTC) it is renewed. `now` is the current
    /// epoch second. The proxy then answers `rate_limited` for this provider until then without
    /// calling it. By default a provider announces no budget ([`super::rate_limit`] reads the
    /// common `X-RateLimit-*` headers).
    fn exhausted_until(&self, headers: &[(&str, &str)], now: u64) -> Option<u64> {
        let _ = (headers, now);
        None
    }

    /// True when some operation is served on `route`.
    fn serves_route(&self, route: &str) -> bool {
        self.operations().iter().any(|op| op.route == route)
    }

    /// The operation with this wire or JS name.
    fn operation_named(&self, name: &str) -> Option<&'static OperationSpec> {
        self.operations()
            .iter()
            .find(|op| op.name == name || op.js_name == name)
    }
}

impl core::fmt::Debug for dyn Adapter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.info().id)
    }
}
