//! The engine's blocking jobs with aifaceswap's field names, as the tests call them: bytes in,
//! errors as their messages.

use faceswap_sandbox::engine::jobs::{self, Input, Replacement};
use faceswap_sandbox::engine::video::SwapStats;
use std::path::Path;

pub use faceswap_sandbox::engine::codec::encode_png;

/// One reference of a multi-video swap: the crop's bytes and the new face's bytes.
pub struct Reference {
    pub face_ref: Vec<u8>,
    pub face: Vec<u8>,
}

/// `faceswap`: every face of `source` gets the face of `face`.
pub fn face_swap(source: &[u8], face: &[u8]) -> Result<Vec<u8>, String> {
    jobs::face_swap(
        &Input::new("source_image", source.to_vec()),
        &Input::new("face_image", face.to_vec()),
    )
    .map_err(|e| e.to_string())
}

/// `multi_faceswap`: face `index[i]` of `source` gets the face of `faces[i]`.
pub fn multi_face_swap(source: &[u8], faces: &[Vec<u8>], index: &[i64]) -> Result<Vec<u8>, String> {
    let replacements: Vec<Replacement> = index
        .iter()
        .zip(faces)
        .enumerate()
        .map(|(i, (&at, face))| Replacement {
            label: format!("index[{i}]"),
            at: usize::try_from(at).unwrap(),
            face: Input::new(format!("face_image[{i}]"), face.clone()),
        })
        .collect();
    jobs::multi_face_swap(&Input::new("source_image", source.to_vec()), &replacements)
        .map_err(|e| e.to_string())
}

/// `video_faceswap` on files.
pub fn video_face_swap(
    input: &Path,
    output: &Path,
    work: &Path,
    face: &[u8],
) -> Result<SwapStats, String> {
    jobs::video_face_swap(
        input,
        output,
        work,
        &Input::new("face_image", face.to_vec()),
    )
    .map_err(|e| e.to_string())
}

/// `multi_video_faceswap` on files.
pub fn multi_video_face_swap(
    input: &Path,
    output: &Path,
    work: &Path,
    refs: &[Reference],
) -> Result<SwapStats, String> {
    let refs: Vec<jobs::Reference> = refs
        .iter()
        .enumerate()
        .map(|(i, r)| jobs::Reference {
            face_ref: Input::new(format!("ref_info[{i}].face_ref"), r.face_ref.clone()),
            face: Input::new(format!("ref_info[{i}].face_url"), r.face.clone()),
        })
        .collect();
    jobs::multi_video_face_swap(input, output, work, &refs).map_err(|e| e.to_string())
}
