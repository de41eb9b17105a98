//! What each operation asks of the engine, and the face counts it needs, checked at submit the
//! way AIPhotoCraft answers them (`no_face_detected`, `face_count_mismatch`).

use faceswap_core::aiphotocraft::{ErrorCode, Operation, Request, SwapIndex};
use faceswap_core::provider::form::file_stand_in;

use crate::engine::fetch::Source;
use crate::engine::jobs::FacePair;
use crate::engine::tasks::{Job, ReplacementSource};

/// How many faces a file field must show: exactly one, or exactly two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Faces {
    /// Exactly one face.
    One,
    /// Exactly two faces.
    Two,
}

/// The faces each file field of `op` must show.
pub fn faces_needed(op: Operation, field: &str) -> Faces {
    match (op, field) {
        (Operation::CoupleSwap, _)
        | (Operation::Swap1From2, "srcimage")
        | (Operation::SwapFaceSameImage, _) => Faces::Two,
        _ => Faces::One,
    }
}

/// The provider's error for `found` faces in `field` when `needed`, if it is one.
pub fn face_count_error(field: &str, needed: Faces, found: usize) -> Option<(ErrorCode, String)> {
    match (needed, found) {
        (_, 0) => Some((
            ErrorCode::NoFaceDetected,
            format!("No face detected in {field}"),
        )),
        (Faces::One, n) if n != 1 => Some((
            ErrorCode::FaceCountMismatch,
            format!("{field} must contain exactly 1 face, found {n}"),
        )),
        (Faces::Two, n) if n != 2 => Some((
            ErrorCode::FaceCountMismatch,
            format!("{field} must contain exactly 2 faces, found {n}"),
        )),
        _ => None,
    }
}

fn file(field: &str) -> Source {
    Source::new(field, file_stand_in(field))
}

fn pair(label: &str, from: usize, at: usize) -> FacePair {
    FacePair {
        from_label: label.to_owned(),
        at_label: label.to_owned(),
        from,
        at,
    }
}

/// The engine's work for a checked request (its files are in the request's uploads).
///
/// - `basicswap`: the face of `srcimage` onto the face of `targetimage`;
/// - `faceswap2`: the two faces of `srcimage` onto the two faces of `targetimage`, left to
///   right; a descending `swap_index` (`1,0`, `2,1`) crosses the couple, an ascending one or none
///   keeps its order (the sandbox's reading; the page says only "Tuple of indexes to swap");
/// - `swap1from2`: the face of `targetimage1` onto the left face of `srcimage`, that of
///   `targetimage2` onto the right one;
/// - `swapfacesameimage`: the two faces of `srcimage` exchanged.
pub fn job(request: &Request) -> Job {
    match request.operation {
        Operation::BasicSwap => Job::LargestFaceSwap {
            source: file("targetimage"),
            face: file("srcimage"),
        },
        Operation::CoupleSwap => Job::PairedFaceSwap {
            source: file("targetimage"),
            face: file("srcimage"),
            pairs: request
                .swap_index
                .as_ref()
                .map_or([0, 1], SwapIndex::source_faces)
                .iter()
                .enumerate()
                .map(|(at, &from)| pair("swap_index", from, at))
                .collect(),
        },
        Operation::Swap1From2 => Job::MultiFaceSwap {
            source: file("srcimage"),
            replacements: ["targetimage1", "targetimage2"]
                .iter()
                .enumerate()
                .map(|(at, field)| ReplacementSource {
                    label: (*field).to_owned(),
                    at,
                    face: file(field),
                })
                .collect(),
        },
        Operation::SwapFaceSameImage => Job::PairedFaceSwap {
            source: file("srcimage"),
            face: file("srcimage"),
            pairs: vec![pair("srcimage", 1, 0), pair("srcimage", 0, 1)],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn face_counts_are_worded_as_the_provider_does() {
        assert_eq!(faces_needed(Operation::BasicSwap, "srcimage"), Faces::One);
        assert_eq!(faces_needed(Operation::Swap1From2, "srcimage"), Faces::Two);
        assert_eq!(
            faces_needed(Operation::Swap1From2, "targetimage1"),
            Faces::One
        );
        assert_eq!(
            face_count_error("srcimage", Faces::One, 0).map(|e| e.0),
            Some(ErrorCode::NoFaceDetected)
        );
        assert_eq!(
            face_count_error("targetimage", Faces::Two, 1).map(|e| e.0),
            Some(ErrorCode::FaceCountMismatch)
        );
        assert_eq!(face_count_error("srcimage", Faces::Two, 2), None);
        assert_eq!(
            face_count_error("srcimage", Faces::One, 3).map(|e| e.0),
            Some(ErrorCode::FaceCountMismatch)
        );
        assert_eq!(face_count_error("srcimage", Faces::One, 1), None);
    }
}
