//! Videos through Debian's ffmpeg as subprocesses: probe, decode to raw RGB frames, swap faces
//! frame by frame (detection on every k-th frame, boxes interpolated between), re-encode H.264
//! mp4 (yuv420p, faststart) with the source's audio track.

use image::RgbImage;
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::detect::{Face, FaceDetector};

/// Faces are detected on every this many frames; frames between get interpolated boxes.
pub const KEY_INTERVAL: u64 = 5;
/// Largest frame the sandbox accepts, in pixels (4K UHD).
pub const MAX_PIXELS: u64 = 3840 * 2160;
/// Longest video the sandbox accepts, in seconds.
pub const MAX_SECONDS: f64 = 600.0;
/// Longest a video swap may take; past it ffmpeg is stopped and the task fails.
pub const DEADLINE: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// Frame rate used when ffprobe reports none in 0..=240 frames per second.
pub const FALLBACK_FRAME_RATE: &str = "25/1";

/// Why a video could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    /// ffmpeg or ffprobe could not be started.
    #[error("cannot run {tool}: {source}")]
    Tool {
        /// `ffmpeg` or `ffprobe`.
        tool: &'static str,
        /// Why it did not start.
        source: std::io::Error,
    },
    /// The file is not an mp4, webm or mov video.
    #[error("source_video must be an mp4, webm or mov video")]
    NotVideo,
    /// ffprobe could not read it.
    #[error("the file is not a video ffmpeg can read")]
    Unreadable,
    /// ffprobe's answer was not JSON.
    #[error("ffprobe gave no readable answer")]
    Probe(#[source] serde_json::Error),
    /// There is no video stream.
    #[error("the file has no video stream")]
    NoVideoStream,
    /// Frames outside the size limit.
    #[error("frames of {width}x{height} are outside what the sandbox accepts (up to 3840x2160)")]
    FrameSize {
        /// Width ffprobe reported (0 when none).
        width: u64,
        /// Height ffprobe reported (0 when none).
        height: u64,
    },
    /// Longer than [`MAX_SECONDS`].
    #[error("the video lasts {0:.0} s; the sandbox accepts up to {MAX_SECONDS:.0} s")]
    TooLong(f64),
    /// The input file could not be read.
    #[error("cannot read the video: {0}")]
    Read(#[source] std::io::Error),
    /// A log file could not be made.
    #[error("cannot write a log: {0}")]
    Log(#[source] std::io::Error),
    /// A child process has no pipe.
    #[error("the {0} has no pipe")]
    NoPipe(&'static str),
    /// Reading decoded frames failed.
    #[error("reading frames failed: {0}")]
    Frames(#[source] std::io::Error),
    /// The decoder stopped inside a frame.
    #[error("the decoder stopped inside a frame")]
    PartialFrame,
    /// A frame buffer did not match the frame size.
    #[error("a frame has the wrong size")]
    FrameBuffer,
    /// The encoder stopped taking frames.
    #[error("the encoder stopped: {source} ({log})")]
    EncoderStopped {
        /// The write error.
        source: std::io::Error,
        /// The end of the encoder's log.
        log: String,
    },
    /// Waiting for a child failed.
    #[error("waiting for the {tool} failed: {source}")]
    Wait {
        /// `decoder` or `encoder`.
        tool: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// The swap ran past [`DEADLINE`].
    #[error("the swap took longer than {} minutes", DEADLINE.as_secs() / 60)]
    Deadline,
    /// The decoder failed or gave no frame.
    #[error("the video could not be decoded ({0})")]
    Decode(String),
    /// The encoder failed.
    #[error("encoding failed ({0})")]
    Encode(String),
}

/// What ffprobe says about a video.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Frame rate as ffmpeg writes it (`25/1`, `30000/1001`).
    pub frame_rate: String,
    /// Container duration in seconds, when the container gives one.
    pub duration: Option<f64>,
    /// Whether there is an audio stream.
    pub has_audio: bool,
}

/// Runs ffprobe on `path`, which must be an mp4, webm or mov file (ffmpeg would read a still
/// image as a one-frame video; the sandbox does not).
pub fn probe(path: &Path) -> Result<VideoInfo, VideoError> {
    let mut head = [0u8; faceswap_core::media::SNIFF_LEN];
    let read = File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(VideoError::Read)?;
    if faceswap_core::MediaType::sniff(&head[..read]).is_none_or(|kind| kind.is_image()) {
        return Err(VideoError::NotVideo);
    }
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries"])
        .arg("stream=codec_type,width,height,r_frame_rate,avg_frame_rate:format=duration")
        .args(["-of", "json"])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| VideoError::Tool {
            tool: "ffprobe",
            source,
        })?;
    if !output.status.success() {
        return Err(VideoError::Unreadable);
    }
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(VideoError::Probe)?;
    let streams: &[serde_json::Value] = json["streams"].as_array().map_or(&[], Vec::as_slice);
    let video = streams
        .iter()
        .find(|s| s["codec_type"] == "video")
        .ok_or(VideoError::NoVideoStream)?;
    let size = (video["width"].as_u64(), video["height"].as_u64());
    let (width, height) = match size {
        (Some(width), Some(height)) if width > 0 && height > 0 && width * height <= MAX_PIXELS => {
            (width, height)
        }
        (width, height) => {
            return Err(VideoError::FrameSize {
                width: width.unwrap_or(0),
                height: height.unwrap_or(0),
            })
        }
    };
    let rate = |key: &str| {
        video[key]
            .as_str()
            .filter(|r| parse_rate(r).is_some_and(|v| v > 0.0 && v <= 240.0))
            .map(str::to_owned)
    };
    let frame_rate = rate("r_frame_rate")
        .or_else(|| rate("avg_frame_rate"))
        .unwrap_or_else(|| FALLBACK_FRAME_RATE.to_owned());
    let duration = json["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse::<f64>().ok());
    if let Some(duration) = duration.filter(|d| *d > MAX_SECONDS) {
        return Err(VideoError::TooLong(duration));
    }
    Ok(VideoInfo {
        width: width as u32,
        height: height as u32,
        frame_rate,
        duration,
        has_audio: streams.iter().any(|s| s["codec_type"] == "audio"),
    })
}

/// `25/1` as 25.0.
pub fn parse_rate(rate: &str) -> Option<f64> {
    let (n, d) = rate.split_once('/').unwrap_or((rate, "1"));
    let (n, d) = (n.parse::<f64>().ok()?, d.parse::<f64>().ok()?);
    (d > 0.0).then_some(n / d)
}

/// What happens to the faces of each frame.
pub trait FrameEditor {
    /// Called on each detection frame: which replacement (if any) each face gets.
    fn label(&mut self, frame: &RgbImage, faces: &[Face]) -> Vec<Option<usize>>;
    /// Replaces the given faces in `frame`, each with the replacement its label names.
    fn edit(&mut self, frame: &mut RgbImage, faces: &[(Face, usize)]);
}

/// Counts from one video swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SwapStats {
    /// Frames decoded and encoded.
    pub frames: u64,
    /// Frames that ran face detection.
    pub detections: u64,
    /// Face boxes edited over all frames.
    pub faces_edited: u64,
}

struct Key {
    index: u64,
    faces: Vec<(Face, usize)>,
}

/// The boxes of frame `index` between keys `a` and `b`: matched faces move linearly, the others
/// hold until half way.
fn interpolate(a: &Key, b: &Key, index: u64) -> Vec<(Face, usize)> {
    let span = (b.index - a.index).max(1) as f32;
    let t = (index - a.index) as f32 / span;
    let mut used = vec![false; b.faces.len()];
    let mut out = Vec::new();
    for (fa, label) in &a.faces {
        let (ca_x, ca_y) = fa.centre();
        let best = b
            .faces
            .iter()
            .enumerate()
            .filter(|(j, (fb, lb))| {
                let (cb_x, cb_y) = fb.centre();
                let reach = 0.6 * fa.width().max(fb.width());
                !used[*j] && lb == label && (ca_x - cb_x).hypot(ca_y - cb_y) <= reach
            })
            .min_by(|(_, (f1, _)), (_, (f2, _))| {
                let d = |f: &Face| {
                    let (x, y) = f.centre();
                    (x - ca_x).hypot(y - ca_y)
                };
                d(f1).total_cmp(&d(f2))
            })
            .map(|(j, _)| j);
        match best {
            Some(j) => {
                used[j] = true;
                out.push((fa.lerp(&b.faces[j].0, t), *label));
            }
            None if t < 0.5 => out.push((*fa, *label)),
            None => {}
        }
    }
    if t >= 0.5 {
        out.extend(
            b.faces
                .iter()
                .zip(&used)
                .filter(|(_, used)| !**used)
                .map(|(face, _)| *face),
        );
    }
    out
}

struct Children {
    decoder: Child,
    encoder: Child,
}

impl Drop for Children {
    fn drop(&mut self) {
        // Both have normally exited; killing an exited child is harmless.
        let _ = self.decoder.kill();
        let _ = self.encoder.kill();
        let _ = self.decoder.wait();
        let _ = self.encoder.wait();
    }
}

fn read_frame(reader: &mut impl Read, buf: &mut [u8]) -> Result<bool, VideoError> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(VideoError::Frames(err)),
        }
    }
    match filled {
        0 => Ok(false),
        n if n == buf.len() => Ok(true),
        _ => Err(VideoError::PartialFrame),
    }
}

/// The last lines of an ffmpeg log, for an error message.
fn tail(path: &Path) -> String {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => return format!("its log is unreadable: {err}"),
    };
    let lines: Vec<&str> = text.lines().rev().take(3).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join("; ")
}

/// Decodes `input`, lets `editor` swap faces frame by frame and writes an H.264 mp4 to `output`
/// with the same size, frame rate and frame count, and the input's audio re-encoded as AAC.
/// `work_dir` holds ffmpeg's logs.
pub fn swap_video(
    input: &Path,
    output: &Path,
    work_dir: &Path,
    detector: &mut FaceDetector,
    editor: &mut dyn FrameEditor,
) -> Result<SwapStats, VideoError> {
    let info = probe(input)?;
    let (width, height) = (info.width, info.height);
    let decoder_log = work_dir.join("decoder.log");
    let encoder_log = work_dir.join("encoder.log");
    let log_file = |path: &Path| File::create(path).map_err(VideoError::Log);
    let decoder = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-noautorotate",
            "-i",
        ])
        .arg(input)
        .args([
            "-map",
            "0:v:0",
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "pipe:1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file(&decoder_log)?)
        .spawn()
        .map_err(|source| VideoError::Tool {
            tool: "ffmpeg",
            source,
        })?;
    // yuv420p needs even sides: an odd edge is padded by one pixel.
    let pad = "pad=ceil(iw/2)*2:ceil(ih/2)*2";
    let mut encode = Command::new("ffmpeg");
    encode
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-s"])
        .arg(format!("{width}x{height}"))
        .args(["-framerate", &info.frame_rate, "-i", "pipe:0"]);
    if info.has_audio {
        encode
            .arg("-i")
            .arg(input)
            .args(["-map", "0:v:0", "-map", "1:a:0"]);
        encode.args(["-c:a", "aac", "-b:a", "128k"]);
    }
    encode
        .args([
            "-vf", pad, "-c:v", "libx264", "-preset", "veryfast", "-crf", "18",
        ])
        .args([
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
        ])
        .arg(output);
    let encoder = match encode
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(log_file(&encoder_log)?)
        .spawn()
    {
        Ok(child) => child,
        Err(source) => {
            let mut decoder = decoder;
            let _ = decoder.kill();
            let _ = decoder.wait();
            return Err(VideoError::Tool {
                tool: "ffmpeg",
                source,
            });
        }
    };
    let mut children = Children { decoder, encoder };
    let mut frames_in = children
        .decoder
        .stdout
        .take()
        .ok_or(VideoError::NoPipe("decoder"))?;
    let mut frames_out = children
        .encoder
        .stdin
        .take()
        .ok_or(VideoError::NoPipe("encoder"))?;

    let frame_len = width as usize * height as usize * 3;
    let mut stats = SwapStats::default();
    let mut write = |frame: &RgbImage, stats: &mut SwapStats| -> Result<(), VideoError> {
        stats.frames += 1;
        frames_out
            .write_all(frame.as_raw())
            .map_err(|source| VideoError::EncoderStopped {
                source,
                log: tail(&encoder_log),
            })
    };
    let mut detect =
        |frame: &RgbImage, index: u64, stats: &mut SwapStats, editor: &mut dyn FrameEditor| {
            stats.detections += 1;
            let faces = detector.detect_rgb(frame);
            let labels = editor.label(frame, &faces);
            Key {
                index,
                faces: faces
                    .into_iter()
                    .zip(labels)
                    .filter_map(|(face, label)| label.map(|l| (face, l)))
                    .collect(),
            }
        };

    let started = std::time::Instant::now();
    let mut previous: Option<Key> = None;
    let mut pending: Vec<(u64, RgbImage)> = Vec::new();
    let mut index = 0u64;
    loop {
        let mut buf = vec![0u8; frame_len];
        if !read_frame(&mut frames_in, &mut buf)? {
            break;
        }
        if started.elapsed() > DEADLINE {
            return Err(VideoError::Deadline);
        }
        let frame = RgbImage::from_raw(width, height, buf).ok_or(VideoError::FrameBuffer)?;
        if index % KEY_INTERVAL == 0 {
            let mut frame = frame;
            let key = detect(&frame, index, &mut stats, editor);
            if let Some(previous) = &previous {
                for (i, mut between) in pending.drain(..) {
                    let faces = interpolate(previous, &key, i);
                    stats.faces_edited += faces.len() as u64;
                    editor.edit(&mut between, &faces);
                    write(&between, &mut stats)?;
                }
            }
            stats.faces_edited += key.faces.len() as u64;
            editor.edit(&mut frame, &key.faces);
            write(&frame, &mut stats)?;
            previous = Some(key);
        } else {
            pending.push((index, frame));
        }
        index += 1;
    }
    // The frames after the last detection: detect once more on the very last frame.
    if let (Some(previous), Some((last_index, _))) = (&previous, pending.last()) {
        let last_index = *last_index;
        let closing = {
            let (_, last) = &pending[pending.len() - 1];
            detect(last, last_index, &mut stats, editor)
        };
        for (i, mut frame) in pending.drain(..) {
            let faces = if i == last_index {
                closing.faces.clone()
            } else {
                interpolate(previous, &closing, i)
            };
            stats.faces_edited += faces.len() as u64;
            editor.edit(&mut frame, &faces);
            write(&frame, &mut stats)?;
        }
    }
    drop(frames_out);
    let decoded = children.decoder.wait().map_err(|source| VideoError::Wait {
        tool: "decoder",
        source,
    })?;
    let encoded = children.encoder.wait().map_err(|source| VideoError::Wait {
        tool: "encoder",
        source,
    })?;
    if !decoded.success() || stats.frames == 0 {
        return Err(VideoError::Decode(tail(&decoder_log)));
    }
    if !encoded.success() {
        return Err(VideoError::Encode(tail(&encoder_log)));
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32) -> Face {
        Face {
            x1: x,
            y1: 0.0,
            x2: x + 20.0,
            y2: 20.0,
            score: 5.0,
            keypoints: None,
        }
    }

    #[test]
    fn boxes_move_between_keys_and_unmatched_ones_switch_half_way() {
        let a = Key {
            index: 0,
            faces: vec![(face(0.0), 0), (face(100.0), 1)],
        };
        let b = Key {
            index: 4,
            faces: vec![(face(8.0), 0), (face(300.0), 1)],
        };
        let early = interpolate(&a, &b, 1);
        assert_eq!(early.len(), 2);
        assert_eq!(early[0].0.x1, 2.0);
        assert_eq!(early[1].0.x1, 100.0);
        let late = interpolate(&a, &b, 3);
        assert_eq!(late.len(), 2);
        assert_eq!(late[0].0.x1, 6.0);
        assert_eq!(late[1].0.x1, 300.0);
    }

    #[test]
    fn rates_parse() {
        assert_eq!(parse_rate("25/1"), Some(25.0));
        assert!((parse_rate("30000/1001").unwrap_or(0.0) - 29.97).abs() < 0.01);
        assert_eq!(parse_rate("0/0"), None);
        assert_eq!(parse_rate("x"), None);
    }
}
