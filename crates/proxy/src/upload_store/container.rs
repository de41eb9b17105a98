//! Whether a spooled video is the container its magic bytes claim, read from start to end, and
//! how long it lasts. MP4 and QuickTime through the `mp4` crate: top-level boxes that tile the
//! file exactly, with `ftyp` and a `moov` whose movie header (`mvhd`) gives the duration. WebM
//! through `webm-iterable`: an EBML header, then a Segment, every element of known type and
//! within the file, read to the end; the duration is the Segment Info's `Duration` times its
//! `TimestampScale`. Images are not read here (their magic bytes are their check).

use faceswap_core::MediaType;
use std::io::{BufReader, Read, Seek};
use webm_iterable::errors::TagIteratorError;
use webm_iterable::matroska_spec::{EbmlTag, Master, MatroskaSpec};
use webm_iterable::WebmIterator;

/// Why a file is not the video its first bytes say.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// The MP4 or QuickTime boxes do not parse.
    #[error("is not a complete {0} file: {1}")]
    Mp4(&'static str, String),
    /// The boxes parse but do not cover the file.
    #[error("is not a complete {0} file: its boxes end at byte {1} of {2}")]
    Untiled(&'static str, u64, u64),
    /// The WebM elements do not parse.
    #[error("is not a complete webm file: {0}")]
    Webm(String),
    /// Reading the spooled file failed.
    #[error("could not be read: {0}")]
    Io(#[from] std::io::Error),
}

/// What the container says of a video.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct VideoFacts {
    /// Its duration in milliseconds, where the container gives one (a WebM recorded live by a
    /// browser often does not).
    pub duration_ms: Option<u64>,
}

/// Reads the whole `file` (`len` bytes) as `media`: `Ok(None)` for an image, the video's facts
/// when its container parses from start to end, else why not. Blocking: run it off the runtime.
pub fn probe<R: Read + Seek>(
    media: MediaType,
    file: R,
    len: u64,
) -> Result<Option<VideoFacts>, ContainerError> {
    match media {
        MediaType::Jpeg | MediaType::Png | MediaType::Webp => Ok(None),
        MediaType::Mp4 => iso_bmff("mp4", file, len).map(Some),
        MediaType::Mov => iso_bmff("mov", file, len).map(Some),
        MediaType::Webm => webm(file, len).map(Some),
    }
}

fn iso_bmff<R: Read + Seek>(
    kind: &'static str,
    file: R,
    len: u64,
) -> Result<VideoFacts, ContainerError> {
    let reader = mp4::Mp4Reader::read_header(BufReader::new(file), len)
        .map_err(|err| ContainerError::Mp4(kind, err.to_string()))?;
    // `read_header` stops at a box that claims the rest of the file (size 0) and skips past a box
    // that claims more than is left: either way its end is not the file's.
    if reader.size() != len {
        return Err(ContainerError::Untiled(kind, reader.size(), len));
    }
    let header = &reader.moov.mvhd;
    let duration_ms = (header.timescale > 0 && header.duration > 0).then(|| {
        let ms = u128::from(header.duration) * 1000 / u128::from(header.timescale);
        u64::try_from(ms).unwrap_or(u64::MAX)
    });
    Ok(VideoFacts { duration_ms })
}

/// The default `TimestampScale`: one millisecond, in nanoseconds.
const DEFAULT_TIMESTAMP_SCALE_NS: u64 = 1_000_000;

fn webm<R: Read>(file: R, len: u64) -> Result<VideoFacts, ContainerError> {
    let mut tags = WebmIterator::new(BufReader::new(file), &[]);
    // No element may claim more than the file holds.
    tags.set_max_allowable_tag_size(Some(usize::try_from(len).unwrap_or(usize::MAX)));
    let mut depth = 0usize;
    let mut top_level = Vec::new();
    let mut duration = None;
    let mut scale = DEFAULT_TIMESTAMP_SCALE_NS;
    for tag in tags {
        let tag = tag.map_err(|err: TagIteratorError| ContainerError::Webm(err.to_string()))?;
        if depth == 0 {
            top_level.push(match &tag {
                MatroskaSpec::Ebml(_) => "EBML",
                MatroskaSpec::Segment(_) => "Segment",
                MatroskaSpec::Void(_) => "Void",
                _ => {
                    return Err(ContainerError::Webm(
                        "an element outside the EBML header and the Segment".into(),
                    ))
                }
            });
        }
        match &tag {
            MatroskaSpec::Duration(value) => duration = Some(*value),
            MatroskaSpec::TimestampScale(value) if *value > 0 => scale = *value,
            _ => {}
        }
        match tag.as_master() {
            Some(Master::Start) => depth += 1,
            Some(Master::End) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let starts = top_level.first() == Some(&"EBML");
    if !starts || !top_level.contains(&"Segment") {
        return Err(ContainerError::Webm(
            "it needs an EBML header followed by a Segment".into(),
        ));
    }
    let duration_ms = duration
        .filter(|d| d.is_finite() && *d > 0.0)
        // Duration is in TimestampScale units (nanoseconds each); a saturating cast.
        .map(|d| (d * scale as f64 / 1_000_000.0).round() as u64);
    Ok(VideoFacts { duration_ms })
}
