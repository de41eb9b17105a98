//! What a task costs, in the unit its provider prices in.

use serde::{Deserialize, Serialize};

/// The unit a provider prices in: aifaceswap credits, PiAPI US dollars, AIPhotoCraft and AceData
/// requests (their plans count requests).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostUnit {
    /// aifaceswap's credits (`points`).
    Credits,
    /// US dollars.
    Usd,
    /// One request of a plan's request budget.
    Requests,
}

impl CostUnit {
    /// The unit's word in JSON (`credits`, `usd`, `requests`).
    pub const fn as_str(self) -> &'static str {
        match self {
            CostUnit::Credits => "credits",
            CostUnit::Usd => "usd",
            CostUnit::Requests => "requests",
        }
    }
}

/// A price: `{"amount": 10, "unit": "credits"}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// How many units.
    pub amount: f64,
    /// Which unit.
    pub unit: CostUnit,
}

impl Cost {
    /// `amount` of `unit`.
    pub const fn new(amount: f64, unit: CostUnit) -> Self {
        Self { amount, unit }
    }

    /// A whole number of credits.
    pub fn credits(credits: u64) -> Self {
        Self::new(credits as f64, CostUnit::Credits)
    }
}

/// What a price may depend on, for a price shown before a request is made
/// (`estimateCost(provider, operation, params)`). Operations read what they need; absent values
/// take the operation's default.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PriceInputs {
    /// Video length in seconds.
    pub duration: Option<f64>,
    /// Enhancement level (aifaceswap's 0, 1 or 2).
    pub enhance: Option<u8>,
    /// Number of faces replaced.
    pub faces: Option<usize>,
    /// Number of video frames, where a provider prices by frame.
    pub frames: Option<u64>,
}
