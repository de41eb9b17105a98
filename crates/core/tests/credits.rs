//! Credit estimates, including the provider's own examples, and property
//! tests for the price rules.

#![allow(clippy::unwrap_used)]

use faceswap_core::aifaceswap::{CreditInputs, Operation, Request};
use proptest::prelude::*;
use serde_json::json;

fn inputs(duration: f64, enhance: u8, faces: usize) -> CreditInputs {
    CreditInputs {
        duration,
        enhance,
        faces,
    }
}

#[test]
fn providers_examples() {
    assert_eq!(Operation::VideoFaceSwap.credits(&inputs(5.0, 0, 1)), 10);
    assert_eq!(
        Operation::MultiVideoFaceSwap.credits(&inputs(5.0, 0, 1)),
        20
    );
}

#[test]
fn fixed_prices() {
    let any = inputs(12.0, 2, 3);
    assert_eq!(Operation::FaceSwap.credits(&any), 2);
    assert_eq!(Operation::ExtractFace.credits(&any), 2);
    assert_eq!(Operation::ExtractBase64Face.credits(&any), 2);
    assert_eq!(Operation::MultiFaceSwap.credits(&any), 5);
}

#[test]
fn per_second_prices_and_rounding() {
    assert_eq!(Operation::VideoFaceSwap.credits(&inputs(5.0, 1, 1)), 20);
    assert_eq!(Operation::VideoFaceSwap.credits(&inputs(5.0, 2, 1)), 30);
    assert_eq!(Operation::VideoFaceSwap.credits(&inputs(4.01, 0, 1)), 10);
    assert_eq!(Operation::VideoFaceSwap.credits(&inputs(0.2, 0, 1)), 2);
    assert_eq!(
        Operation::MultiVideoFaceSwap.credits(&inputs(3.0, 2, 3)),
        36
    );
    assert_eq!(
        Operation::VideoFaceSwap.credits(&inputs(1e300, 2, 1)),
        u64::MAX
    );
}

#[test]
fn request_credits_match_the_table() {
    let body = json!({
        "source_video": "https://cdn.example/v.mp4",
        "ref_info": [
            {"face_ref": "/9j/4AAQSkZJRg==", "face_url": "https://cdn.example/a.jpg"},
            {"face_ref": "/9j/4AAQSkZJRg==", "face_url": "https://cdn.example/b.jpg"}
        ],
        "duration": 2.5, "enhance": 1
    });
    let request = Request::from_json(
        Operation::MultiVideoFaceSwap,
        &serde_json::to_vec(&body).unwrap(),
    )
    .unwrap();
    // (2 faces + 1 + enhance 1) x 2 per second x ceil(2.5) = 24
    assert_eq!(request.credits(), 24);
}

proptest! {
    #[test]
    fn video_price_is_two_per_level_per_started_second(duration in 0.001f64..10_000.0, enhance in 0u8..=2) {
        let seconds = duration.ceil() as u64;
        prop_assert_eq!(Operation::VideoFaceSwap.credits(&inputs(duration, enhance, 1)), seconds * 2 * (u64::from(enhance) + 1));
    }

    #[test]
    fn multi_video_price_follows_the_formula(duration in 0.001f64..10_000.0, enhance in 0u8..=2, faces in 1usize..=3) {
        let seconds = duration.ceil() as u64;
        let expected = (faces as u64 + 1 + u64::from(enhance)) * 2 * seconds;
        prop_assert_eq!(Operation::MultiVideoFaceSwap.credits(&inputs(duration, enhance, faces)), expected);
    }

    #[test]
    fn price_never_falls_as_a_video_gets_longer(a in 0.001f64..5_000.0, extra in 0.0f64..5_000.0, enhance in 0u8..=2, faces in 1usize..=3) {
        for op in [Operation::VideoFaceSwap, Operation::MultiVideoFaceSwap] {
            prop_assert!(op.credits(&inputs(a, enhance, faces)) <= op.credits(&inputs(a + extra, enhance, faces)));
        }
    }

    #[test]
    fn more_faces_or_enhancement_never_cost_less(duration in 0.001f64..1_000.0, enhance in 0u8..2, faces in 1usize..3) {
        let op = Operation::MultiVideoFaceSwap;
        let base = op.credits(&inputs(duration, enhance, faces));
        prop_assert!(op.credits(&inputs(duration, enhance + 1, faces)) > base);
        prop_assert!(op.credits(&inputs(duration, enhance, faces + 1)) > base);
    }
}
