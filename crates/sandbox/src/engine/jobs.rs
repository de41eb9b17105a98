//! The work behind each kind of swap, as plain blocking functions: decode, detect, swap, encode.
//! Inputs carry the request field they came from, so errors name it in the provider's words;
//! nothing here knows a provider. The async side ([`super::tasks`]) fetches inputs and runs these
//! on the blocking pool.

use bytes::Bytes;
use image::RgbImage;
use std::path::Path;

use super::codec::{decode_image, encode_png, ImageError};
use super::detect::{Face, FaceDetector};
use super::similarity::{assign, Descriptor};
use super::swap::{paste, SourceFace};
use super::video::{swap_video, FrameEditor, SwapStats, VideoError};

/// The bytes of one input and the request field they came from (named in error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The request field, in the provider's spelling (`face_image[1]`).
    pub field: String,
    /// The file's bytes.
    pub bytes: Bytes,
}

impl Input {
    /// The input `bytes` of `field`.
    pub fn new(field: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Self {
            field: field.into(),
            bytes: bytes.into(),
        }
    }
}

/// One face of a group image to replace: which (left to right), and with what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    /// What the request calls this choice (`index[0]`), for messages.
    pub label: String,
    /// The face's place, left to right, from 0.
    pub at: usize,
    /// The image holding the new face.
    pub face: Input,
}

/// One pairing of a paired swap: face `from` of the image holding the new faces goes onto face
/// `at` of the target (both counted left to right, from 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacePair {
    /// What the request calls the choice of `from` (`input.swap_faces_index[0]`), for messages.
    pub from_label: String,
    /// What the request calls the choice of `at` (`input.target_faces_index[0]`), for messages.
    pub at_label: String,
    /// The new face's place in the image holding the new faces.
    pub from: usize,
    /// The replaced face's place in the target.
    pub at: usize,
}

/// One reference of a multi-video swap: the crop that shows who, and the new face's image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// A crop of the face as it appears in the video.
    pub face_ref: Input,
    /// The image holding the new face.
    pub face: Input,
}

/// Why a swap or a detection failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// An input image could not be decoded.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// The built-in detector model could not be read.
    #[error("the face detector model is unusable")]
    Model,
    /// No face in an input that needs one.
    #[error("no face found in {0}")]
    NoFace(String),
    /// The new face is too small to paste.
    #[error("the face in {0} is too small")]
    FaceTooSmall(String),
    /// A replacement names a face the image does not have.
    #[error("{label} is {at} but {image} has {faces} faces")]
    NoSuchFace {
        /// The replacement's label (`index[0]`).
        label: String,
        /// The place it asked for.
        at: usize,
        /// The image's field.
        image: String,
        /// How many faces the image has.
        faces: usize,
    },
    /// The result could not be encoded.
    #[error("encoding the result failed: {0}")]
    Encode(#[source] image::ImageError),
    /// The video could not be swapped.
    #[error(transparent)]
    Video(#[from] VideoError),
}

fn detector() -> Result<FaceDetector, JobError> {
    FaceDetector::new().ok_or(JobError::Model)
}

fn decode(input: &Input) -> Result<RgbImage, JobError> {
    Ok(decode_image(&input.field, &input.bytes)?)
}

fn encode(image: &RgbImage) -> Result<Vec<u8>, JobError> {
    encode_png(image).map_err(JobError::Encode)
}

/// The faces of an image, left to right.
pub fn detect(input: &Input) -> Result<Vec<Face>, JobError> {
    let image = decode(input)?;
    Ok(detector()?.detect_rgb(&image))
}

/// The largest face of a list.
pub fn largest(faces: &[Face]) -> Option<Face> {
    faces
        .iter()
        .copied()
        .max_by(|a, b| (a.width() * a.height()).total_cmp(&(b.width() * b.height())))
}

/// The new face of `input`: the largest face in the image.
pub fn source_face(input: &Input, detector: &mut FaceDetector) -> Result<SourceFace, JobError> {
    let image = decode(input)?;
    let face = largest(&detector.detect_rgb(&image))
        .ok_or_else(|| JobError::NoFace(input.field.clone()))?;
    SourceFace::from_image(&image, &face).ok_or_else(|| JobError::FaceTooSmall(input.field.clone()))
}

/// The faces of `source`, decoded; at least one.
fn targets(source: &Input, detector: &mut FaceDetector) -> Result<(RgbImage, Vec<Face>), JobError> {
    let image = decode(source)?;
    let faces = detector.detect_rgb(&image);
    if faces.is_empty() {
        return Err(JobError::NoFace(source.field.clone()));
    }
    Ok((image, faces))
}

/// Every face of `source` gets the face of `face`. Answers PNG bytes.
pub fn face_swap(source: &Input, face: &Input) -> Result<Vec<u8>, JobError> {
    let mut detector = detector()?;
    let new_face = source_face(face, &mut detector)?;
    let (mut image, targets) = targets(source, &mut detector)?;
    for target in &targets {
        paste(&mut image, target, &new_face);
    }
    encode(&image)
}

/// Only the largest face of `source` gets the face of `face`. Answers PNG bytes.
pub fn largest_face_swap(source: &Input, face: &Input) -> Result<Vec<u8>, JobError> {
    let mut detector = detector()?;
    let new_face = source_face(face, &mut detector)?;
    let (mut image, targets) = targets(source, &mut detector)?;
    let target = largest(&targets).ok_or_else(|| JobError::NoFace(source.field.clone()))?;
    paste(&mut image, &target, &new_face);
    encode(&image)
}

/// The new faces of `face` that `pairs` take, in the order of `pairs`.
fn paired_faces(
    face: &Input,
    pairs: &[FacePair],
    detector: &mut FaceDetector,
) -> Result<Vec<SourceFace>, JobError> {
    let image = decode(face)?;
    let found = detector.detect_rgb(&image);
    pairs
        .iter()
        .map(|pair| {
            let at = found.get(pair.from).ok_or_else(|| JobError::NoSuchFace {
                label: pair.from_label.clone(),
                at: pair.from,
                image: face.field.clone(),
                faces: found.len(),
            })?;
            SourceFace::from_image(&image, at)
                .ok_or_else(|| JobError::FaceTooSmall(face.field.clone()))
        })
        .collect()
}

/// For each pair, face `at` of `source` gets face `from` of `face`. Answers PNG bytes.
pub fn paired_face_swap(
    source: &Input,
    face: &Input,
    pairs: &[FacePair],
) -> Result<Vec<u8>, JobError> {
    let mut detector = detector()?;
    let new_faces = paired_faces(face, pairs, &mut detector)?;
    let (mut image, targets) = targets(source, &mut detector)?;
    let mut plan = Vec::with_capacity(pairs.len());
    for (pair, new_face) in pairs.iter().zip(&new_faces) {
        let target = targets.get(pair.at).ok_or_else(|| JobError::NoSuchFace {
            label: pair.at_label.clone(),
            at: pair.at,
            image: source.field.clone(),
            faces: targets.len(),
        })?;
        plan.push((*target, new_face));
    }
    for (target, new_face) in plan {
        paste(&mut image, &target, new_face);
    }
    encode(&image)
}

/// Each replacement's face (left to right) of `source` gets its new face. Answers PNG bytes.
pub fn multi_face_swap(source: &Input, replacements: &[Replacement]) -> Result<Vec<u8>, JobError> {
    let mut detector = detector()?;
    let (mut image, targets) = targets(source, &mut detector)?;
    let mut plan = Vec::with_capacity(replacements.len());
    for replacement in replacements {
        let target = targets
            .get(replacement.at)
            .ok_or_else(|| JobError::NoSuchFace {
                label: replacement.label.clone(),
                at: replacement.at,
                image: source.field.clone(),
                faces: targets.len(),
            })?;
        plan.push((*target, source_face(&replacement.face, &mut detector)?));
    }
    for (target, new_face) in &plan {
        paste(&mut image, target, new_face);
    }
    encode(&image)
}

/// Swaps every face of a video for one new face.
struct EveryFace {
    face: SourceFace,
}

impl FrameEditor for EveryFace {
    fn label(&mut self, _frame: &RgbImage, faces: &[Face]) -> Vec<Option<usize>> {
        vec![Some(0); faces.len()]
    }

    fn edit(&mut self, frame: &mut RgbImage, faces: &[(Face, usize)]) {
        for (target, _) in faces {
            paste(frame, target, &self.face);
        }
    }
}

/// Swaps the faces of a video by their place in the frame, left to right.
struct ByPlace {
    /// The place each new face goes to.
    at: Vec<usize>,
    faces: Vec<SourceFace>,
}

impl FrameEditor for ByPlace {
    fn label(&mut self, _frame: &RgbImage, faces: &[Face]) -> Vec<Option<usize>> {
        (0..faces.len())
            .map(|place| self.at.iter().position(|&at| at == place))
            .collect()
    }

    fn edit(&mut self, frame: &mut RgbImage, faces: &[(Face, usize)]) {
        for (target, label) in faces {
            if let Some(face) = self.faces.get(*label) {
                paste(frame, target, face);
            }
        }
    }
}

/// Swaps the faces of a video that resemble a reference for that reference's new face.
struct ByReference {
    refs: Vec<Option<Descriptor>>,
    faces: Vec<SourceFace>,
}

impl FrameEditor for ByReference {
    fn label(&mut self, frame: &RgbImage, faces: &[Face]) -> Vec<Option<usize>> {
        let found: Vec<Option<Descriptor>> =
            faces.iter().map(|f| Descriptor::of(frame, f)).collect();
        assign(&found, &self.refs)
    }

    fn edit(&mut self, frame: &mut RgbImage, faces: &[(Face, usize)]) {
        for (target, label) in faces {
            if let Some(face) = self.faces.get(*label) {
                paste(frame, target, face);
            }
        }
    }
}

/// Every face of the video at `input` gets the face of `face`; the result is written to
/// `output` (mp4); `work` holds ffmpeg's logs.
pub fn video_face_swap(
    input: &Path,
    output: &Path,
    work: &Path,
    face: &Input,
) -> Result<SwapStats, JobError> {
    let mut detector = detector()?;
    let face = source_face(face, &mut detector)?;
    Ok(swap_video(
        input,
        output,
        work,
        &mut detector,
        &mut EveryFace { face },
    )?)
}

/// For each pair, face `at` of every detection frame of the video at `input` (left to right)
/// gets face `from` of `face`; a frame with fewer faces keeps the ones it lacks unchanged. The
/// result is written to `output` (mp4); `work` holds ffmpeg's logs.
pub fn paired_video_face_swap(
    input: &Path,
    output: &Path,
    work: &Path,
    face: &Input,
    pairs: &[FacePair],
) -> Result<SwapStats, JobError> {
    let mut detector = detector()?;
    let faces = paired_faces(face, pairs, &mut detector)?;
    let mut editor = ByPlace {
        at: pairs.iter().map(|pair| pair.at).collect(),
        faces,
    };
    Ok(swap_video(input, output, work, &mut detector, &mut editor)?)
}

/// The appearance descriptor of a reference crop: of the face found in it, or of the whole crop
/// when the detector finds none (tight crops can be too small for it).
pub fn reference_descriptor(
    crop: &Input,
    detector: &mut FaceDetector,
) -> Result<Option<Descriptor>, JobError> {
    let crop = decode(crop)?;
    let whole = Face {
        x1: 0.0,
        y1: 0.0,
        x2: crop.width() as f32,
        y2: crop.height() as f32,
        score: 0.0,
        keypoints: None,
    };
    let face = largest(&detector.detect_rgb(&crop)).unwrap_or(whole);
    Ok(Descriptor::of(&crop, &face))
}

/// Each face of the video is matched to the reference it resembles most and gets that
/// reference's new face; faces that match none are left unchanged.
pub fn multi_video_face_swap(
    input: &Path,
    output: &Path,
    work: &Path,
    refs: &[Reference],
) -> Result<SwapStats, JobError> {
    let mut detector = detector()?;
    let mut descriptors = Vec::with_capacity(refs.len());
    let mut faces = Vec::with_capacity(refs.len());
    for reference in refs {
        descriptors.push(reference_descriptor(&reference.face_ref, &mut detector)?);
        faces.push(source_face(&reference.face, &mut detector)?);
    }
    let mut editor = ByReference {
        refs: descriptors,
        faces,
    };
    Ok(swap_video(input, output, work, &mut detector, &mut editor)?)
}
