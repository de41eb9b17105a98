//! Prices in US dollars, from PiAPI's price list: 0.01 per face swap, 0.015 per multi-face swap.
//!
//! The video swap's price per frame is not documented. Assumption: it costs the face swap's price
//! per started second of the `duration` the request gives (a 5.2 s video: 6 x 0.01), and the face
//! swap's price when no duration is given. This is the one place to change when PiAPI documents
//! it.

use super::Operation;

/// One face swap, in US dollars.
pub const FACE_SWAP_USD: f64 = 0.01;
/// One multi-face swap, in US dollars.
pub const MULTI_FACE_SWAP_USD: f64 = 0.015;

/// The price of `op` in US dollars; `duration` (seconds) matters for the video swap only.
pub fn price(op: Operation, duration: Option<f64>) -> f64 {
    match op {
        Operation::FaceSwap => FACE_SWAP_USD,
        Operation::MultiFaceSwap => MULTI_FACE_SWAP_USD,
        Operation::VideoFaceSwap => match duration {
            Some(seconds) if seconds.is_finite() && seconds > 0.0 => {
                // Whole cents times seconds, then to dollars: 0.05 rather than 0.05000000000000001.
                crate::float::round(FACE_SWAP_USD * 100.0 * crate::float::ceil(seconds)) / 100.0
            }
            _ => FACE_SWAP_USD,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_follow_the_list_and_the_video_assumption() {
        assert_eq!(price(Operation::FaceSwap, Some(9.0)), 0.01);
        assert_eq!(price(Operation::MultiFaceSwap, None), 0.015);
        assert_eq!(price(Operation::VideoFaceSwap, None), 0.01);
        assert_eq!(price(Operation::VideoFaceSwap, Some(5.0)), 0.05);
        assert_eq!(price(Operation::VideoFaceSwap, Some(5.2)), 0.06);
        assert_eq!(price(Operation::VideoFaceSwap, Some(0.0)), 0.01);
        assert_eq!(price(Operation::VideoFaceSwap, Some(f64::NAN)), 0.01);
    }
}
