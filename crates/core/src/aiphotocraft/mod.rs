//! AIPhotoCraft's face swaps (`https://aiapi.aiphotocraft.com`): four multipart operations under
//! `api/faceswap/`, whose images are files; a task id answered at once and polled at
//! `GET api/task-status/{task_id}`; the key in `X-Api-Key`; a per-key budget per hour and per day
//! announced in `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`.
//!
//! Field names are exactly the provider's (`srcimage`, `targetimage1`, `swap_index`, ...).
//! `swap_index` is optional and forwarded as written (two different whole numbers from 0 to 2;
//! the page's example is `"0,1"`).

mod adapter;
mod request;
mod response;

pub use adapter::{AiPhotoCraft, CATALOG, OPERATIONS};
pub use request::{check_enhance, check_swap_index, Request, SwapIndex};
pub use response::{read_error, read_status, read_task_id, ErrorCode, STATUS_PATH};

use crate::provider::{
    AuthScheme, CallbackAck, CostUnit, ProviderInfo, ProviderOperation, ResultDelivery,
};

/// The provider's fixed facts: key in `X-Api-Key`, results by polling task-status, prices in
/// requests of the plan's budget.
pub const PROVIDER: ProviderInfo = ProviderInfo {
    id: "aiphotocraft",
    default_base_url: "https://aiapi.aiphotocraft.com",
    auth: AuthScheme::Header("x-api-key"),
    delivery: ResultDelivery::Polling,
    callback_secret_header: None,
    cost_unit: CostUnit::Requests,
    settings: &[],
    // Never called back (polled); kept at the project's default.
    callback_ack: CallbackAck::OK,
    longest_submit_wait: None,
    legacy_spend_cap: None,
};

/// About how long a swap takes before its result is ready: the proxy's first poll waits this long.
/// The project's assumption (the page does not say); the operator may set another
/// (`AIPHOTOCRAFT_POLL_AFTER_MS`).
pub const TYPICAL_TASK_SECS: u64 = 10;

/// Polls of task-status a typical swap needs: the first, after [`TYPICAL_TASK_SECS`], and one
/// more after the back-off. The project's assumption, like the time it rests on.
pub const TYPICAL_POLLS: u32 = 2;

/// Requests of the plan's budget that one swap spends, as priced and charged to the client's
/// spend cap: the page counts every request per key ("Rate limits are applied on a per-API-key
/// basis, not per-endpoint"), polls included, so a swap is its submit and its
/// [`TYPICAL_POLLS`]. A slower task polls more (each poll is one more request of the key's
/// budget, spaced by a back-off doubling up to 30 s); the price is of a typical one.
pub const REQUESTS_PER_OPERATION: f64 = 1.0 + TYPICAL_POLLS as f64;

/// The four operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `basicswap`: the face of `srcimage` onto the face of `targetimage` (one face each).
    BasicSwap,
    /// `faceswap2`: a couple swap; the two faces of `srcimage` onto the two faces of
    /// `targetimage`, paired by `swap_index`.
    CoupleSwap,
    /// `swap1from2`: the faces of `targetimage1` and `targetimage2` (one each) onto the two faces
    /// of `srcimage`.
    Swap1From2,
    /// `swapfacesameimage`: the two faces of `srcimage` exchanged with each other.
    SwapFaceSameImage,
}

impl ProviderOperation for Operation {
    const ALL: &'static [Self] = &[
        Operation::BasicSwap,
        Operation::CoupleSwap,
        Operation::Swap1From2,
        Operation::SwapFaceSameImage,
    ];

    fn name(self) -> &'static str {
        match self {
            Operation::BasicSwap => "basicswap",
            Operation::CoupleSwap => "faceswap2",
            Operation::Swap1From2 => "swap1from2",
            Operation::SwapFaceSameImage => "swapfacesameimage",
        }
    }

    fn upstream_path(self) -> &'static str {
        match self {
            Operation::BasicSwap => "api/faceswap/basicswap",
            Operation::CoupleSwap => "api/faceswap/faceswap2",
            Operation::Swap1From2 => "api/faceswap/swap1from2",
            Operation::SwapFaceSameImage => "api/faceswap/swapfacesameimage",
        }
    }

    fn starts_task(self) -> bool {
        true
    }
}

impl Operation {
    /// The file fields, in the provider's order; each is required.
    pub const fn file_fields(self) -> &'static [&'static str] {
        match self {
            Operation::BasicSwap | Operation::CoupleSwap => &["srcimage", "targetimage"],
            Operation::Swap1From2 => &["srcimage", "targetimage1", "targetimage2"],
            Operation::SwapFaceSameImage => &["srcimage"],
        }
    }

    /// The text fields besides the files. `enhance` is required by the page on basicswap (sent
    /// as `"false"` when the caller gave none: the project's default); on faceswap2, which the
    /// page does not list it for, it is sent only when the caller gave it.
    pub const fn text_fields(self) -> &'static [&'static str] {
        match self {
            Operation::BasicSwap => &["enhance"],
            Operation::CoupleSwap => &["swap_index", "enhance"],
            Operation::Swap1From2 | Operation::SwapFaceSameImage => &[],
        }
    }
}
