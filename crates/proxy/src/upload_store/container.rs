//! Whether a spooled video is the container its magic bytes claim, read from start to end, and
//! how long it lasts. MP4 and QuickTime through the `mp4` crate's box headers and movie header:
//! top-level boxes that tile the file exactly, one of them a `moov` whose movie header (`mvhd`)
//! gives the duration. Only the boxes needed are read: the crate's whole-movie reader refuses
//! QuickTime's sound descriptions (an iPhone's `.mov`), which are no business of the proxy. WebM
//! through `webm-iterable`: an EBML header, then a Segment, every element of known type and
//! within the file, read to the end; the duration is the Segment Info's `Duration` times its
//! `TimestampScale`. Images are not read here (their magic bytes are their check).

use faceswap_core::MediaType;
use std::io::{BufReader, Read, Seek, SeekFrom};
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
    let bad = |err: mp4::Error| ContainerError::Mp4(kind, err.to_string());
    let mut reader = BufReader::new(file);
    let mut at = 0u64;
    let mut movie = None;
    while at < len {
        let (name, end) = next_box(&mut reader, len).map_err(|e| match e {
            BoxError::Mp4(err) => bad(err),
            BoxError::Past(end) => ContainerError::Untiled(kind, end, len),
        })?;
        if name == mp4::BoxType::MoovBox {
            movie = Some(movie_duration_ms(&mut reader, end).map_err(|e| match e {
                BoxError::Mp4(err) => bad(err),
                BoxError::Past(end) => ContainerError::Untiled(kind, end, len),
            })?);
        }
        reader.seek(SeekFrom::Start(end))?;
        at = end;
    }
    match movie {
        Some(duration_ms) => Ok(VideoFacts { duration_ms }),
        None => Err(ContainerError::Mp4(
            kind,
            "it has no movie box (moov)".into(),
        )),
    }
}

/// Why a box cannot be read.
enum BoxError {
    /// The crate could not read it.
    Mp4(mp4::Error),
    /// It ends at this offset, past its container (or the file).
    Past(u64),
}

impl From<mp4::Error> for BoxError {
    fn from(err: mp4::Error) -> Self {
        BoxError::Mp4(err)
    }
}

impl From<std::io::Error> for BoxError {
    fn from(err: std::io::Error) -> Self {
        BoxError::Mp4(mp4::Error::IoError(err))
    }
}

/// Reads the header of the box at the reader's position, inside a container that ends at
/// `limit`: its type and where it ends (a size of 0 runs to `limit`, as the last box may).
fn next_box<R: Read + Seek>(reader: &mut R, limit: u64) -> Result<(mp4::BoxType, u64), BoxError> {
    let header = mp4::BoxHeader::read(reader)?;
    // Where the crate counts the box from (it folds a 64-bit size's extra 8 bytes into it).
    let start = mp4::box_start(reader)?;
    let end = match header.size {
        0 => limit,
        size if size < mp4::HEADER_SIZE => {
            return Err(BoxError::Mp4(mp4::Error::InvalidData(
                "a box is smaller than its header",
            )))
        }
        size => start.saturating_add(size),
    };
    if end > limit {
        return Err(BoxError::Past(end));
    }
    Ok((header.name, end))
}

/// The timescale and duration of a movie header (`mvhd`) whose `content` bytes follow. The
/// `mp4` crate reads this box only inside its whole-movie reader, so its two fields are read
/// here (ISO/IEC 14496-12, 8.2.2): version and flags, then creation and modification times of
/// 32 bits (version 0) or 64 (version 1), the 32-bit timescale and the duration of the same
/// width as the times.
fn movie_header<R: Read>(reader: &mut R, content: u64) -> Result<(u32, u64), BoxError> {
    let short = || BoxError::Mp4(mp4::Error::InvalidData("the movie header is too short"));
    let mut version = [0u8; 4];
    let mut times = [0u8; 16];
    let mut scale = [0u8; 4];
    match content {
        0..4 => return Err(short()),
        _ => reader.read_exact(&mut version)?,
    }
    let wide = match version[0] {
        0 => false,
        1 => true,
        _ => {
            return Err(BoxError::Mp4(mp4::Error::InvalidData(
                "mvhd version must be 0 or 1",
            )))
        }
    };
    if content < if wide { 4 + 28 } else { 4 + 16 } {
        return Err(short());
    }
    reader.read_exact(&mut times[..if wide { 16 } else { 8 }])?;
    reader.read_exact(&mut scale)?;
    let duration = if wide {
        let mut value = [0u8; 8];
        reader.read_exact(&mut value)?;
        u64::from_be_bytes(value)
    } else {
        let mut value = [0u8; 4];
        reader.read_exact(&mut value)?;
        u64::from(u32::from_be_bytes(value))
    };
    Ok((u32::from_be_bytes(scale), duration))
}

/// The movie header's duration (ms) of the `moov` box whose content starts at the reader's
/// position and ends at `end`; `None` when it gives none (a fragmented movie's is often 0).
fn movie_duration_ms<R: Read + Seek>(reader: &mut R, end: u64) -> Result<Option<u64>, BoxError> {
    while reader.stream_position()? < end {
        let (name, child_end) = next_box(reader, end)?;
        if name == mp4::BoxType::MvhdBox {
            let content = child_end - reader.stream_position()?;
            let (timescale, duration) = movie_header(reader, content)?;
            return Ok((timescale > 0 && duration > 0).then(|| {
                let ms = u128::from(duration) * 1000 / u128::from(timescale);
                u64::try_from(ms).unwrap_or(u64::MAX)
            }));
        }
        reader.seek(SeekFrom::Start(child_end))?;
    }
    Err(BoxError::Mp4(mp4::Error::BoxNotFound(
        mp4::BoxType::MvhdBox,
    )))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(8 + body.len())
            .expect("small")
            .to_be_bytes()
            .to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    /// A version 1 movie header: 64-bit times and duration.
    fn mvhd_v1(timescale: u32, duration: u64) -> Vec<u8> {
        let mut body = vec![1, 0, 0, 0];
        body.extend_from_slice(&[0; 16]);
        body.extend_from_slice(&timescale.to_be_bytes());
        body.extend_from_slice(&duration.to_be_bytes());
        body.extend_from_slice(&[0; 80]);
        boxed(b"mvhd", &body)
    }

    fn probe_mp4(bytes: &[u8]) -> Result<Option<VideoFacts>, ContainerError> {
        probe(MediaType::Mp4, Cursor::new(bytes), bytes.len() as u64)
    }

    #[test]
    fn boxes_of_64_bit_size_and_a_last_box_to_the_end_tile_the_file() {
        let mut file = boxed(b"ftyp", b"isom\0\0\x02\0isom");
        file.extend(boxed(b"moov", &mvhd_v1(600, 6_300)));
        // An mdat with a 64-bit size.
        let mut large = 1u32.to_be_bytes().to_vec();
        large.extend_from_slice(b"mdat");
        large.extend_from_slice(&(16u64 + 32).to_be_bytes());
        large.extend_from_slice(&[7; 32]);
        file.extend(&large);
        let facts = probe_mp4(&file).expect("tiles").expect("a video");
        assert_eq!(facts.duration_ms, Some(10_500));
        // A last box of size 0 runs to the end of the file.
        let mut to_end = file.clone();
        to_end.extend_from_slice(&[0, 0, 0, 0]);
        to_end.extend_from_slice(b"free");
        to_end.extend_from_slice(&[1; 100]);
        assert!(probe_mp4(&to_end).is_ok());
        // One byte more or less than the boxes say: refused.
        let mut longer = file.clone();
        longer.push(0);
        assert!(probe_mp4(&longer).is_err());
        assert!(probe_mp4(&file[..file.len() - 1]).is_err());
    }

    #[test]
    fn a_movie_needs_its_header() {
        let mut file = boxed(b"ftyp", b"isom\0\0\x02\0isom");
        file.extend(boxed(b"moov", &boxed(b"udta", &[0; 8])));
        assert!(probe_mp4(&file).is_err());
        let mut short = boxed(b"ftyp", b"isom\0\0\x02\0isom");
        short.extend(boxed(b"moov", &boxed(b"mvhd", &[0; 12])));
        assert!(probe_mp4(&short).is_err());
        // Images are not read here.
        assert_eq!(
            probe(MediaType::Png, Cursor::new(b"not read"), 8).expect("image"),
            None
        );
    }
}
