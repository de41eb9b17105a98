//! PiAPI's face swaps (`Qubico/image-toolkit` and `Qubico/video-toolkit` on `POST api/v1/task`):
//! the three accepted (model, task_type) pairs, their inputs and validation, prices in US
//! dollars, the task object of its answers and webhooks, and the [`Adapter`](crate::provider::Adapter).
//!
//! Field names are exactly the provider's (`input.target_image`, `input.swap_faces_index`, ...).

use alloc::string::String;

mod adapter;
mod price;
mod request;
mod response;

pub use adapter::{PiApi, CATALOG, OPERATIONS};
pub use price::{price, FACE_SWAP_USD, MULTI_FACE_SWAP_USD};
pub use request::{
    check_faces_index_pair, check_image, check_video, parse_faces_index, FaceSwapInput,
    MultiFaceSwapInput, Request, VideoFaceSwapInput,
};
pub use response::{Task, TaskEnvelope, TaskError, TaskOutput, WebhookBody};

use crate::provider::{
    AuthScheme, CallbackAck, CostUnit, ProviderInfo, ProviderOperation, ResultDelivery, SettingSpec,
};

/// The one setting of PiAPI an operator gives: `PIAPI_SERVICE_MODE`, sent as
/// `config.service_mode`.
pub const SERVICE_MODE: SettingSpec = SettingSpec {
    name: "service_mode",
    help: "PiAPI's service mode for every task: public (pay as you go) or private (the \
           account's own workers)",
    allowed: &["public", "private"],
};

/// The provider's fixed facts: key in `x-api-key`, results by webhook (with a per-task secret
/// in `x-webhook-secret`) and by polling Get Task when no terminal webhook came.
pub const PROVIDER: ProviderInfo = ProviderInfo {
    id: "piapi",
    default_base_url: "https://api.piapi.ai",
    auth: AuthScheme::Header("x-api-key"),
    delivery: ResultDelivery::CallbackThenPolling,
    callback_secret_header: Some("x-webhook-secret"),
    cost_unit: CostUnit::Usd,
    settings: &[SERVICE_MODE],
    // The pages name no answer to a webhook: the project's assumption.
    callback_ack: CallbackAck::OK,
    longest_submit_wait: None,
    legacy_spend_cap: None,
};

/// The image toolkit's model name.
pub const IMAGE_MODEL: &str = "Qubico/image-toolkit";
/// The video toolkit's model name.
pub const VIDEO_MODEL: &str = "Qubico/video-toolkit";
/// The largest image PiAPI takes, in pixels: "both swap_image and target_image should be under
/// 2048 x 2048 resolution each" (read as at most 2048 on each side). Checked for base64 inputs
/// by the proxy and for files by the library before anything is spent; a URL is left to PiAPI.
pub const MAX_IMAGE: crate::media::MaxResolution = crate::media::MaxResolution {
    width: 2048,
    height: 2048,
};

/// Path of Create Task.
pub const SUBMIT_PATH: &str = "api/v1/task";

/// The three accepted (model, task_type) pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `Qubico/image-toolkit` `face-swap`: the target image's largest face replaced.
    FaceSwap,
    /// `Qubico/image-toolkit` `multi-face-swap`: chosen faces of the target, paired by index.
    MultiFaceSwap,
    /// `Qubico/video-toolkit` `face-swap`: the faces of an MP4 video.
    VideoFaceSwap,
}

impl ProviderOperation for Operation {
    const ALL: &'static [Self] = &[
        Operation::FaceSwap,
        Operation::MultiFaceSwap,
        Operation::VideoFaceSwap,
    ];

    fn name(self) -> &'static str {
        match self {
            Operation::FaceSwap => "face-swap",
            Operation::MultiFaceSwap => "multi-face-swap",
            Operation::VideoFaceSwap => "video-face-swap",
        }
    }

    fn upstream_path(self) -> &'static str {
        SUBMIT_PATH
    }

    fn starts_task(self) -> bool {
        true
    }
}

impl Operation {
    /// The `model` on the wire.
    pub const fn model(self) -> &'static str {
        match self {
            Operation::FaceSwap | Operation::MultiFaceSwap => IMAGE_MODEL,
            Operation::VideoFaceSwap => VIDEO_MODEL,
        }
    }

    /// The `task_type` on the wire.
    pub const fn task_type(self) -> &'static str {
        match self {
            Operation::FaceSwap | Operation::VideoFaceSwap => "face-swap",
            Operation::MultiFaceSwap => "multi-face-swap",
        }
    }

    /// The operation of a (model, task_type) pair; anything else names the field at fault:
    /// `model` when no operation has that model, else `task_type`.
    pub fn of_pair(model: &str, task_type: &str) -> Result<Self, crate::FieldError> {
        if let Some(op) = Self::ALL
            .iter()
            .copied()
            .find(|op| op.model() == model && op.task_type() == task_type)
        {
            return Ok(op);
        }
        if Self::ALL.iter().any(|op| op.model() == model) {
            // Built by hand: `[&str]::join` links a generic joiner into the browser library.
            let mut allowed = String::new();
            for op in Self::ALL.iter().filter(|op| op.model() == model) {
                if !allowed.is_empty() {
                    allowed.push_str(" or ");
                }
                allowed.push_str(op.task_type());
            }
            return Err(crate::FieldError::new(
                "task_type",
                crate::text!("task_type must be ", allowed, " for model ", model),
            ));
        }
        Err(crate::FieldError::new(
            "model",
            crate::text!("model must be ", IMAGE_MODEL, " or ", VIDEO_MODEL),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_three_pairs_are_accepted() {
        for &op in Operation::ALL {
            assert_eq!(Operation::of_pair(op.model(), op.task_type()), Ok(op));
            assert_eq!(Operation::from_name(op.name()), Some(op));
        }
        let field = |model, task_type| Operation::of_pair(model, task_type).unwrap_err().field;
        assert_eq!(field(VIDEO_MODEL, "multi-face-swap"), "task_type");
        assert_eq!(field(IMAGE_MODEL, "upscale"), "task_type");
        assert_eq!(field(IMAGE_MODEL, "Face-Swap"), "task_type");
        assert_eq!(field("Qubico/flux1-dev", "face-swap"), "model");
        assert_eq!(field("", ""), "model");
    }
}
