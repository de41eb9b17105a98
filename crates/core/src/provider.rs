//! What every face-swap provider has in common, so that a new provider (PiAPI, AIPhotoCraft,
//! AceData) is a module of its own that fills in a [`ProviderInfo`] and its operations, without
//! touching [`crate::aifaceswap`].

/// How the provider's API key is sent upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Authorization: Bearer KEY` (aifaceswap).
    Bearer,
    /// The key as the value of a header of its own, for example `X-API-Key` (PiAPI, AIPhotoCraft).
    Header(&'static str),
}

/// How a task's result comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultDelivery {
    /// The provider POSTs the result to a `webhook` URL given with the request.
    Webhook,
    /// The caller asks a status path until the task ends; `{task_id}` in the path is replaced.
    Polling {
        /// Path of the status endpoint, relative to the base URL.
        status_path: &'static str,
    },
}

/// The fixed facts about one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderInfo {
    /// Short name, used in proxy routes (`/api/{id}/...`) and configuration.
    pub id: &'static str,
    /// The public API's base URL.
    pub default_base_url: &'static str,
    /// How the key travels.
    pub auth: AuthScheme,
    /// How results arrive.
    pub delivery: ResultDelivery,
}

/// One operation of a provider: its name in routes, its upstream path and whether it starts a
/// task whose result arrives later.
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
