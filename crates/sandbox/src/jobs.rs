//! The work behind each operation, as plain blocking functions: decode, detect, swap, encode.
//! The async side ([`crate::tasks`]) fetches inputs and runs these on the blocking pool.

use faceswap_core::FieldError;
use image::{ImageFormat, ImageReader, Limits, RgbImage};
use std::io::Cursor;
use std::path::Path;

use crate::detect::{Face, FaceDetector};
use crate::similarity::{assign, Descriptor};
use crate::swap::{paste, SourceFace};
use crate::video::{swap_video, FrameEditor, SwapStats};

/// Largest image side the sandbox decodes.
pub const MAX_IMAGE_SIDE: u32 = 8192;

/// Decodes a JPEG, PNG or WebP image given as `field`.
pub fn decode_image(field: &str, bytes: &[u8]) -> Result<RgbImage, FieldError> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| FieldError::new(field, format!("{field} could not be read")))?;
    if !matches!(
        reader.format(),
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP)
    ) {
        return Err(FieldError::new(
            field,
            format!("{field} must be a JPEG, PNG or WebP image"),
        ));
    }
    reader.limits(limits);
    reader
        .decode()
        .map(|img| img.to_rgb8())
        .map_err(|err| FieldError::new(field, format!("{field} could not be decoded: {err}")))
}

/// Encodes a result as PNG.
pub fn encode_png(image: &RgbImage) -> Result<Vec<u8>, String> {
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, ImageFormat::Png)
        .map_err(|err| format!("encoding the result failed: {err}"))?;
    Ok(out.into_inner())
}

fn detector() -> Result<FaceDetector, String> {
    FaceDetector::new().ok_or_else(|| "the face detector model is unusable".to_owned())
}

/// The faces of an image, left to right.
pub fn detect(field: &str, bytes: &[u8]) -> Result<Vec<Face>, FieldError> {
    let image = decode_image(field, bytes)?;
    let mut detector = detector().map_err(|m| FieldError::new(field, m))?;
    Ok(detector.detect_rgb(&image))
}

/// The largest face of a list.
pub fn largest(faces: &[Face]) -> Option<Face> {
    faces
        .iter()
        .copied()
        .max_by(|a, b| (a.width() * a.height()).total_cmp(&(b.width() * b.height())))
}

/// The new face of `field`: the largest face in the image.
pub fn source_face(
    field: &str,
    bytes: &[u8],
    detector: &mut FaceDetector,
) -> Result<SourceFace, String> {
    let image = decode_image(field, bytes).map_err(|e| e.message)?;
    let face =
        largest(&detector.detect_rgb(&image)).ok_or_else(|| format!("no face found in {field}"))?;
    SourceFace::from_image(&image, &face).ok_or_else(|| format!("the face in {field} is too small"))
}

/// `faceswap`: every face of `source` gets the face of `face`. Answers PNG bytes.
pub fn face_swap(source: &[u8], face: &[u8]) -> Result<Vec<u8>, String> {
    let mut detector = detector()?;
    let new_face = source_face("face_image", face, &mut detector)?;
    let mut image = decode_image("source_image", source).map_err(|e| e.message)?;
    let targets = detector.detect_rgb(&image);
    if targets.is_empty() {
        return Err("no face found in source_image".to_owned());
    }
    for target in &targets {
        paste(&mut image, target, &new_face);
    }
    encode_png(&image)
}

/// `multi_faceswap`: face `index[i]` (left to right) of `source` gets the face of `faces[i]`.
pub fn multi_face_swap(source: &[u8], faces: &[Vec<u8>], index: &[i64]) -> Result<Vec<u8>, String> {
    let mut detector = detector()?;
    let mut image = decode_image("source_image", source).map_err(|e| e.message)?;
    let targets = detector.detect_rgb(&image);
    if targets.is_empty() {
        return Err("no face found in source_image".to_owned());
    }
    let mut plan = Vec::with_capacity(index.len());
    for (i, (&at, bytes)) in index.iter().zip(faces).enumerate() {
        let target = usize::try_from(at)
            .ok()
            .and_then(|at| targets.get(at))
            .ok_or_else(|| {
                format!(
                    "index[{i}] is {at} but source_image has {} faces",
                    targets.len()
                )
            })?;
        plan.push((
            *target,
            source_face(&format!("face_image[{i}]"), bytes, &mut detector)?,
        ));
    }
    for (target, new_face) in &plan {
        paste(&mut image, target, new_face);
    }
    encode_png(&image)
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

/// `video_faceswap`: every face of the video at `input` gets the face of `face`; the result is
/// written to `output` (mp4).
pub fn video_face_swap(
    input: &Path,
    output: &Path,
    work: &Path,
    face: &[u8],
) -> Result<SwapStats, String> {
    let mut detector = detector()?;
    let face = source_face("face_image", face, &mut detector)?;
    swap_video(input, output, work, &mut detector, &mut EveryFace { face })
        .map_err(|e| e.to_string())
}

/// One reference of a multi-video swap: the crop that shows who, and the new face's image.
pub struct Reference {
    /// The decoded `face_ref` (a crop of the face as it appears in the video).
    pub face_ref: Vec<u8>,
    /// The bytes of `face_url`.
    pub face: Vec<u8>,
}

/// The appearance descriptor of a `face_ref` crop: of the face found in it, or of the whole crop
/// when the detector finds none (tight crops can be too small for it).
pub fn reference_descriptor(
    field: &str,
    bytes: &[u8],
    detector: &mut FaceDetector,
) -> Result<Option<Descriptor>, String> {
    let crop = decode_image(field, bytes).map_err(|e| e.message)?;
    let whole = Face {
        x1: 0.0,
        y1: 0.0,
        x2: crop.width() as f32,
        y2: crop.height() as f32,
        score: 0.0,
    };
    let face = largest(&detector.detect_rgb(&crop)).unwrap_or(whole);
    Ok(Descriptor::of(&crop, &face))
}

/// `multi_video_faceswap`: each face of the video is matched to the reference it resembles most
/// and gets that reference's new face; faces that match none are left unchanged.
pub fn multi_video_face_swap(
    input: &Path,
    output: &Path,
    work: &Path,
    refs: &[Reference],
) -> Result<SwapStats, String> {
    let mut detector = detector()?;
    let mut descriptors = Vec::with_capacity(refs.len());
    let mut faces = Vec::with_capacity(refs.len());
    for (i, reference) in refs.iter().enumerate() {
        descriptors.push(reference_descriptor(
            &format!("ref_info[{i}].face_ref"),
            &reference.face_ref,
            &mut detector,
        )?);
        faces.push(source_face(
            &format!("ref_info[{i}].face_url"),
            &reference.face,
            &mut detector,
        )?);
    }
    let mut editor = ByReference {
        refs: descriptors,
        faces,
    };
    swap_video(input, output, work, &mut detector, &mut editor).map_err(|e| e.to_string())
}
