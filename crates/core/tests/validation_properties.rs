//! Property tests: validation never panics, and each rule holds for generated inputs.

#![allow(clippy::unwrap_used)]

use base64::Engine;
use faceswap_core::aifaceswap::{Operation, Request};
use faceswap_core::base64_image::{decode_head, BASE64};
use faceswap_core::media::SNIFF_LEN;
use faceswap_core::provider::ProviderOperation;
use proptest::prelude::*;
use serde_json::json;

const FACE: &str = "https://cdn.example/face.jpg";

proptest! {
    #[test]
    fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256), which in 0usize..6) {
        let op = Operation::ALL[which];
        if let Err(err) = Request::from_json(op, &body) {
            prop_assert!(!err.field.is_empty());
            prop_assert!(!err.message.is_empty());
        }
    }

    #[test]
    fn index_is_accepted_exactly_when_non_negative_distinct_and_matching(index in proptest::collection::vec(-3i64..6, 0..5), faces in 0usize..5) {
        let body = json!({
            "source_image": FACE,
            "face_image": vec![FACE; faces],
            "index": index,
        });
        let result = Request::from_json(Operation::MultiFaceSwap, &serde_json::to_vec(&body).unwrap());
        let mut sorted = index.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let valid = faces > 0 && index.len() == faces && index.iter().all(|&i| i >= 0) && sorted.len() == index.len();
        match result {
            Ok(_) => prop_assert!(valid),
            Err(err) => {
                prop_assert!(!valid);
                prop_assert!(err.field == "index" || err.field == "face_image", "{}", err.field);
            }
        }
    }

    #[test]
    fn durations_are_accepted_exactly_when_positive(duration in prop_oneof![any::<f64>(), -10.0f64..10.0]) {
        let body = json!({"source_video": FACE, "face_image": FACE, "duration": duration});
        // serde_json writes non-finite numbers as null, which must be rejected too.
        let result = Request::from_json(Operation::VideoFaceSwap, &serde_json::to_vec(&body).unwrap());
        let valid = duration.is_finite() && duration > 0.0;
        prop_assert_eq!(result.is_ok(), valid, "duration {}", duration);
        if let Err(err) = result {
            prop_assert_eq!(err.field, "duration");
        }
    }

    #[test]
    fn ref_info_length_rule(count in 0usize..7) {
        let entry = json!({"face_ref": BASE64.encode([0xFF, 0xD8, 0xFF, 0xDB]), "face_url": FACE});
        let body = json!({"source_video": FACE, "ref_info": vec![entry; count], "duration": 1});
        let result = Request::from_json(Operation::MultiVideoFaceSwap, &serde_json::to_vec(&body).unwrap());
        prop_assert_eq!(result.is_ok(), (1..=3).contains(&count));
    }

    #[test]
    fn base64_check_agrees_with_the_base64_crate(text in "[A-Za-z0-9+/=]{0,12}|[A-Za-z0-9+/]{4,40}={0,3}|[ -~]{0,12}") {
        let full = BASE64.decode(&text).ok();
        let head = decode_head(&text);
        prop_assert_eq!(head.is_some(), full.is_some(), "{:?}", text);
        if let (Some(head), Some(full)) = (head, full) {
            prop_assert_eq!(&head[..], &full[..full.len().min(SNIFF_LEN)]);
        }
    }

    #[test]
    fn base64_heads_of_encoded_bytes_decode(bytes in proptest::collection::vec(any::<u8>(), 0..200), unpadded in any::<bool>()) {
        let mut text = BASE64.encode(&bytes);
        if unpadded {
            text = text.trim_end_matches('=').to_owned();
        }
        let head = decode_head(&text).unwrap();
        prop_assert_eq!(&head[..], &bytes[..bytes.len().min(SNIFF_LEN)]);
    }

    #[test]
    fn base64_of_non_images_is_rejected(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let is_image = bytes.starts_with(&[0xFF, 0xD8, 0xFF])
            || bytes.starts_with(b"\x89PNG\r\n\x1a\n")
            || (bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP");
        let body = json!({"base64_img": BASE64.encode(&bytes)});
        let result = Request::from_json(Operation::ExtractBase64Face, &serde_json::to_vec(&body).unwrap());
        prop_assert_eq!(result.is_ok(), is_image);
    }

    #[test]
    fn urls_with_whitespace_are_rejected(prefix in "[a-z]{1,8}", ws in prop_oneof![Just(' '), Just('\t'), Just('\n'), Just('\u{a0}')]) {
        let url = format!("https://{prefix}.example/{ws}x.png");
        let body = json!({"img": url});
        let err = Request::from_json(Operation::ExtractFace, &serde_json::to_vec(&body).unwrap()).unwrap_err();
        prop_assert_eq!(err.field, "img");
    }

    #[test]
    fn only_http_schemes_pass(scheme in "[a-z][a-z0-9+.-]{0,9}") {
        let body = json!({"img": format!("{scheme}://host.example/x.png")});
        let result = Request::from_json(Operation::ExtractFace, &serde_json::to_vec(&body).unwrap());
        prop_assert_eq!(result.is_ok(), scheme == "http" || scheme == "https");
    }
}
