//! Running a task: fetch its inputs, do the work on the blocking pool, store the result and keep
//! the task's record. What a task is comes from a provider module as a [`Job`]; the callback that
//! reports its end is the provider module's too.

use faceswap_core::provider::Cost;
use faceswap_core::MediaType;
use std::path::{Path, PathBuf};

use super::detect::Face;
use super::fetch::{FetchError, Source, Uploads};
use super::jobs::{self, FacePair, Input, JobError, Reference, Replacement};
use super::store::ResultStore;
use super::video::SwapStats;
use crate::state::{SandboxState, TaskRecord, TaskState};

/// One replacement of a group swap, before its new face is fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplacementSource {
    /// What the request calls this choice (`index[0]`).
    pub label: String,
    /// The face's place, left to right, from 0.
    pub at: usize,
    /// The image holding the new face.
    pub face: Source,
}

/// One reference of a multi-video swap, before its new face is fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceSource {
    /// The crop that shows who (sent inline, already decoded).
    pub face_ref: Input,
    /// The image holding the new face.
    pub face: Source,
}

/// The work of a task, in no provider's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Every face of `source` gets the face of `face`; the result is a PNG.
    FaceSwap {
        /// The image whose faces are replaced.
        source: Source,
        /// The image holding the new face.
        face: Source,
    },
    /// Only the largest face of `source` gets the face of `face`; the result is a PNG.
    LargestFaceSwap {
        /// The image whose largest face is replaced.
        source: Source,
        /// The image holding the new face.
        face: Source,
    },
    /// Faces of `source` get faces of `face`, paired by place; the result is a PNG.
    PairedFaceSwap {
        /// The image whose faces are replaced.
        source: Source,
        /// The image holding the new faces.
        face: Source,
        /// Which face of `face` goes onto which face of `source`.
        pairs: Vec<FacePair>,
    },
    /// Faces of a video get faces of `face`, paired by place in each frame; the result is an
    /// mp4.
    PairedVideoFaceSwap {
        /// The video.
        video: Source,
        /// The image holding the new faces.
        face: Source,
        /// Which face of `face` goes onto which face of each frame.
        pairs: Vec<FacePair>,
    },
    /// Chosen faces of `source` get new faces; the result is a PNG.
    MultiFaceSwap {
        /// The group image.
        source: Source,
        /// Which faces get which new face.
        replacements: Vec<ReplacementSource>,
    },
    /// Every face of a video gets the face of `face`; the result is an mp4.
    VideoFaceSwap {
        /// The video.
        video: Source,
        /// The image holding the new face.
        face: Source,
    },
    /// Faces of a video that resemble a reference get its new face; the result is an mp4.
    MultiVideoFaceSwap {
        /// The video.
        video: Source,
        /// The references.
        refs: Vec<ReferenceSource>,
    },
}

/// A task as a provider module hands it to the engine.
#[derive(Debug, Clone)]
pub struct Task {
    /// The task's id, as the provider answered it.
    pub task_id: String,
    /// The provider's id (`aifaceswap`).
    pub provider: &'static str,
    /// The operation's name on the provider's wire.
    pub operation: String,
    /// What it costs.
    pub cost: Cost,
    /// The work.
    pub job: Job,
    /// Files sent with the request, for inputs given as stand-ins.
    pub uploads: Uploads,
}

/// Why a task failed; its message is the task record's `error`.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The `fail_tasks_next` fault knob.
    #[error("the task failed (injected by the sandbox's fail_tasks_next knob)")]
    Injected,
    /// The job semaphore closed.
    #[error("the sandbox is shutting down")]
    ShuttingDown,
    /// An input could not be fetched.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The swap failed.
    #[error(transparent)]
    Job(#[from] JobError),
    /// The blocking worker panicked or was cancelled.
    #[error("the task's worker stopped unexpectedly")]
    Worker(#[from] tokio::task::JoinError),
    /// The result could not be stored.
    #[error("storing the result failed: {0}")]
    Store(#[source] std::io::Error),
    /// No scratch folder for a video.
    #[error("no scratch space: {0}")]
    Scratch(#[source] std::io::Error),
    /// The video input is not a video.
    #[error("{0} must be an mp4, webm or mov video")]
    NotVideo(String),
}

/// A new random task id: 32 lowercase hex digits, like aifaceswap's.
pub fn new_task_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Records `task` as pending.
pub fn register(state: &SandboxState, task: &Task) {
    state.put_task(TaskRecord {
        task_id: task.task_id.clone(),
        provider: task.provider,
        operation: task.operation.clone(),
        status: TaskState::Pending,
        cost: task.cost,
        result_url: None,
        error: None,
    });
}

/// Runs a registered task to its end and records the outcome: the result's URL, or why it
/// failed. The caller (the provider module) reports it in its provider's words.
pub async fn run(state: &SandboxState, task: &Task) -> Result<String, TaskError> {
    let outcome = if state.with_faults(|f| f.take_task_failure()) {
        Err(TaskError::Injected)
    } else {
        match state.jobs().acquire().await {
            Ok(_permit) => work(state, task).await,
            Err(_) => Err(TaskError::ShuttingDown),
        }
    };
    if let Err(why) = &outcome {
        tracing::info!(task_id = %task.task_id, "task failed: {why}");
    }
    if let Some(mut record) = state.task(&task.task_id) {
        match &outcome {
            Ok(url) => {
                record.status = TaskState::Succeeded;
                record.result_url = Some(url.clone());
            }
            Err(why) => {
                record.status = TaskState::Failed;
                record.error = Some(why.to_string());
            }
        }
        state.put_task(record);
    }
    outcome
}

/// The faces of an image, left to right, found on the blocking pool.
pub async fn detect_faces(input: Input) -> Result<Vec<Face>, TaskError> {
    Ok(tokio::task::spawn_blocking(move || jobs::detect(&input)).await??)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, JobError> + Send + 'static,
) -> Result<T, TaskError> {
    Ok(tokio::task::spawn_blocking(f).await??)
}

/// Fetches one image input.
async fn image(
    state: &SandboxState,
    source: &Source,
    uploads: &Uploads,
) -> Result<Input, TaskError> {
    let max_bytes = state.config().max_image_bytes;
    let bytes = state.fetcher().fetch(source, max_bytes, uploads).await?;
    Ok(Input::new(source.field.clone(), bytes))
}

/// Fetches the inputs, swaps, stores; answers the result's URL.
async fn work(state: &SandboxState, task: &Task) -> Result<String, TaskError> {
    let uploads = &task.uploads;
    let task_id = task.task_id.as_str();
    match &task.job {
        Job::FaceSwap { source, face } => {
            let (source, face) =
                tokio::try_join!(image(state, source, uploads), image(state, face, uploads))?;
            let png = blocking(move || jobs::face_swap(&source, &face)).await?;
            save_image(state, task_id, png).await
        }
        Job::LargestFaceSwap { source, face } => {
            let (source, face) =
                tokio::try_join!(image(state, source, uploads), image(state, face, uploads))?;
            let png = blocking(move || jobs::largest_face_swap(&source, &face)).await?;
            save_image(state, task_id, png).await
        }
        Job::PairedFaceSwap {
            source,
            face,
            pairs,
        } => {
            let (source, face) =
                tokio::try_join!(image(state, source, uploads), image(state, face, uploads))?;
            let pairs = pairs.clone();
            let png = blocking(move || jobs::paired_face_swap(&source, &face, &pairs)).await?;
            save_image(state, task_id, png).await
        }
        Job::PairedVideoFaceSwap { video, face, pairs } => {
            let face = image(state, face, uploads).await?;
            let scratch = fetch_video(state, task_id, video, uploads).await?;
            let pairs = pairs.clone();
            let swapped = scratch
                .run(move |input, output, dir| {
                    jobs::paired_video_face_swap(input, output, dir, &face, &pairs)
                })
                .await;
            finish_video(state, task_id, scratch, swapped).await
        }
        Job::MultiFaceSwap {
            source,
            replacements,
        } => {
            let source = image(state, source, uploads).await?;
            let mut fetched = Vec::with_capacity(replacements.len());
            for replacement in replacements {
                fetched.push(Replacement {
                    label: replacement.label.clone(),
                    at: replacement.at,
                    face: image(state, &replacement.face, uploads).await?,
                });
            }
            let png = blocking(move || jobs::multi_face_swap(&source, &fetched)).await?;
            save_image(state, task_id, png).await
        }
        Job::VideoFaceSwap { video, face } => {
            let face = image(state, face, uploads).await?;
            let scratch = fetch_video(state, task_id, video, uploads).await?;
            let swapped = scratch
                .run(move |input, output, dir| jobs::video_face_swap(input, output, dir, &face))
                .await;
            finish_video(state, task_id, scratch, swapped).await
        }
        Job::MultiVideoFaceSwap { video, refs } => {
            let mut fetched = Vec::with_capacity(refs.len());
            for reference in refs {
                fetched.push(Reference {
                    face_ref: reference.face_ref.clone(),
                    face: image(state, &reference.face, uploads).await?,
                });
            }
            let scratch = fetch_video(state, task_id, video, uploads).await?;
            let swapped = scratch
                .run(move |input, output, dir| {
                    jobs::multi_video_face_swap(input, output, dir, &fetched)
                })
                .await;
            finish_video(state, task_id, scratch, swapped).await
        }
    }
}

async fn save_image(
    state: &SandboxState,
    task_id: &str,
    png: Vec<u8>,
) -> Result<String, TaskError> {
    state
        .store()
        .save(task_id, MediaType::Png, &png)
        .await
        .map_err(TaskError::Store)?;
    Ok(state.result_url(&ResultStore::file_name(task_id, MediaType::Png)))
}

/// A task's scratch folder with the fetched video in it.
struct Scratch {
    dir: PathBuf,
    input: PathBuf,
    output: PathBuf,
}

impl Scratch {
    /// Runs a video swap from `input` to `output` on the blocking pool.
    async fn run(
        &self,
        swap: impl FnOnce(&Path, &Path, &Path) -> Result<SwapStats, JobError> + Send + 'static,
    ) -> Result<SwapStats, TaskError> {
        let (input, output, dir) = (self.input.clone(), self.output.clone(), self.dir.clone());
        blocking(move || swap(&input, &output, &dir)).await
    }
}

async fn fetch_video(
    state: &SandboxState,
    task_id: &str,
    video: &Source,
    uploads: &Uploads,
) -> Result<Scratch, TaskError> {
    let max_bytes = state.config().max_video_bytes;
    let bytes = state.fetcher().fetch(video, max_bytes, uploads).await?;
    match MediaType::sniff(&bytes) {
        Some(kind) if !kind.is_image() => {}
        _ => return Err(TaskError::NotVideo(video.field.clone())),
    }
    let dir = state
        .store()
        .work_dir(task_id)
        .await
        .map_err(TaskError::Scratch)?;
    let input = dir.join("input");
    tokio::fs::write(&input, &bytes)
        .await
        .map_err(TaskError::Scratch)?;
    Ok(Scratch {
        output: dir.join("result.mp4"),
        dir,
        input,
    })
}

async fn finish_video(
    state: &SandboxState,
    task_id: &str,
    scratch: Scratch,
    swapped: Result<SwapStats, TaskError>,
) -> Result<String, TaskError> {
    let adopted = match swapped {
        Ok(stats) => {
            tracing::info!(%task_id, frames = stats.frames, faces = stats.faces_edited, "video swapped");
            state
                .store()
                .adopt(task_id, MediaType::Mp4, &scratch.output)
                .await
                .map_err(TaskError::Store)
        }
        Err(why) => Err(why),
    };
    if let Err(err) = tokio::fs::remove_dir_all(&scratch.dir).await {
        tracing::warn!(%task_id, "scratch folder not removed: {err}");
    }
    adopted?;
    Ok(state.result_url(&ResultStore::file_name(task_id, MediaType::Mp4)))
}
