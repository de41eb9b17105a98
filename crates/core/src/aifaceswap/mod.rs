//! The aifaceswap.io API: its six operations, their request and response shapes, validation,
//! credit prices and the webhook callback.
//!
//! Field names are exactly the provider's (`source_image`, `ref_info[].face_ref`, ...).

mod adapter;
mod credits;
mod request;
mod response;
mod webhook;

pub use adapter::{Aifaceswap, CATALOG, OPERATIONS};
pub use credits::CreditInputs;
pub use request::{
    check_duration, check_enhance, check_ref_count, ExtractBase64FaceRequest, ExtractFaceRequest,
    FaceSwapRequest, MultiFaceSwapRequest, MultiVideoFaceSwapRequest, RefInfo, Request, Validate,
    VideoFaceSwapRequest, MAX_REF_INFO,
};
pub use response::{Envelope, ExtractedBase64Faces, ExtractedFaces, FaceBox, TaskCreated};
pub use webhook::WebhookCallback;

use crate::provider::{
    AuthScheme, CallbackAck, CostUnit, LegacySpendCap, ProviderInfo, ProviderOperation,
    ResultDelivery,
};

/// The provider's fixed facts: Bearer auth, results by webhook only (there is no status endpoint).
pub const PROVIDER: ProviderInfo = ProviderInfo {
    id: "aifaceswap",
    default_base_url: "https://aifaceswap.io",
    auth: AuthScheme::Bearer,
    delivery: ResultDelivery::Callback,
    callback_secret_header: None,
    cost_unit: CostUnit::Credits,
    settings: &[],
    // The webhook section names no answer; aifaceswap's own answers have this shape.
    callback_ack: CallbackAck::OK,
    longest_submit_wait: None,
    legacy_spend_cap: Some(LegacySpendCap {
        env: "SPEND_CAP_CREDITS_PER_HOUR",
        flag: "spend-cap-credits-per-hour",
        default: 1000,
    }),
};

/// The six operations of `POST api/aifaceswap/v1/{op}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `faceswap`: one face onto one image; a task.
    FaceSwap,
    /// `extract_face`: face boxes of an image; answers at once.
    ExtractFace,
    /// `multi_faceswap`: chosen faces of a group image; a task.
    MultiFaceSwap,
    /// `video_faceswap`: one face onto a video; a task.
    VideoFaceSwap,
    /// `extract_base64_face`: face boxes of a base64 image; answers at once.
    ExtractBase64Face,
    /// `multi_video_faceswap`: up to three faces of a video, matched by reference crops; a task.
    MultiVideoFaceSwap,
}

impl ProviderOperation for Operation {
    const ALL: &'static [Self] = &[
        Operation::FaceSwap,
        Operation::ExtractFace,
        Operation::MultiFaceSwap,
        Operation::VideoFaceSwap,
        Operation::ExtractBase64Face,
        Operation::MultiVideoFaceSwap,
    ];

    fn name(self) -> &'static str {
        match self {
            Operation::FaceSwap => "faceswap",
            Operation::ExtractFace => "extract_face",
            Operation::MultiFaceSwap => "multi_faceswap",
            Operation::VideoFaceSwap => "video_faceswap",
            Operation::ExtractBase64Face => "extract_base64_face",
            Operation::MultiVideoFaceSwap => "multi_video_faceswap",
        }
    }

    fn upstream_path(self) -> &'static str {
        match self {
            Operation::FaceSwap => "api/aifaceswap/v1/faceswap",
            Operation::ExtractFace => "api/aifaceswap/v1/extract_face",
            Operation::MultiFaceSwap => "api/aifaceswap/v1/multi_faceswap",
            Operation::VideoFaceSwap => "api/aifaceswap/v1/video_faceswap",
            Operation::ExtractBase64Face => "api/aifaceswap/v1/extract_base64_face",
            Operation::MultiVideoFaceSwap => "api/aifaceswap/v1/multi_video_faceswap",
        }
    }

    fn starts_task(self) -> bool {
        matches!(
            self,
            Operation::FaceSwap
                | Operation::MultiFaceSwap
                | Operation::VideoFaceSwap
                | Operation::MultiVideoFaceSwap
        )
    }
}

impl Operation {
    /// True for the operations whose images may also be sent as multipart files
    /// (`faceswap`: source_image and face_image; `extract_face`: img; `multi_faceswap`:
    /// source_image and one face_image per face, the first page's "Method2").
    pub fn accepts_files(self) -> bool {
        matches!(
            self,
            Operation::FaceSwap | Operation::ExtractFace | Operation::MultiFaceSwap
        )
    }

    /// The fields that may carry a file in the multipart form of this operation.
    pub fn file_fields(self) -> &'static [&'static str] {
        match self {
            Operation::FaceSwap | Operation::MultiFaceSwap => &["source_image", "face_image"],
            Operation::ExtractFace => &["img"],
            _ => &[],
        }
    }

    /// Credits this operation costs for the given inputs (the provider's price table).
    pub fn credits(self, inputs: &CreditInputs) -> u64 {
        credits::credits(self, inputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn names_paths_and_lookup_agree() {
        for &op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(op));
            assert!(op.upstream_path().ends_with(op.name()));
            assert!(op.upstream_path().starts_with("api/aifaceswap/v1/"));
        }
        assert_eq!(Operation::from_name("../v2/faceswap"), None);
        assert_eq!(Operation::from_name("FaceSwap"), None);
        let tasks: Vec<_> = Operation::ALL
            .iter()
            .filter(|op| op.starts_task())
            .collect();
        assert_eq!(tasks.len(), 4);
    }
}
