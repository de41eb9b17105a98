//! Running a task operation: fetch its inputs, do the work on the blocking pool, store the result
//! and POST the webhook.

use base64::Engine;
use bytes::Bytes;
use faceswap_core::aifaceswap::{Operation, Request, WebhookCallback};
use faceswap_core::base64_image::BASE64;
use faceswap_core::provider::ProviderOperation;
use faceswap_core::MediaType;
use std::collections::HashMap;
use std::path::PathBuf;

use crate::jobs;
use crate::state::{SandboxState, TaskRecord, TaskState};
use crate::webhook::Delivery;

/// The `type` number the webhook carries for each task operation (the sandbox's numbering:
/// faceswap 1, multi_faceswap 2, video_faceswap 3, multi_video_faceswap 4).
pub fn task_type(op: Operation) -> i64 {
    match op {
        Operation::FaceSwap => 1,
        Operation::MultiFaceSwap => 2,
        Operation::VideoFaceSwap => 3,
        Operation::MultiVideoFaceSwap => 4,
        Operation::ExtractFace | Operation::ExtractBase64Face => 0,
    }
}

/// A new random task id: 32 lowercase hex digits, like the provider's.
pub fn new_task_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No system randomness: fall back to the clock and a counter (ids stay unique).
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes[..8].copy_from_slice(&(t as u64).to_le_bytes());
        bytes[8..].copy_from_slice(&n.to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Registers a pending task.
pub fn register(state: &SandboxState, task_id: &str, request: &Request) {
    state.put_task(TaskRecord {
        task_id: task_id.to_owned(),
        operation: request.operation().name().to_owned(),
        status: TaskState::Pending,
        points: request.credits(),
        result_image: None,
        error: None,
    });
}

/// Runs a registered task to its end, records the outcome and delivers the webhook.
pub async fn run(
    state: SandboxState,
    task_id: String,
    request: Request,
    uploads: HashMap<String, Bytes>,
) {
    let op = request.operation();
    let forced_failure = state.with_faults(|f| f.take_task_failure());
    let outcome = if forced_failure {
        Err("the task failed (injected by the sandbox's fail_tasks_next knob)".to_owned())
    } else {
        match state.jobs().acquire().await {
            Ok(_permit) => work(&state, &task_id, &request, &uploads).await,
            Err(_) => Err("the sandbox is shutting down".to_owned()),
        }
    };
    let (result_image, error) = match outcome {
        Ok(url) => (Some(url), None),
        Err(why) => {
            tracing::info!(%task_id, "task failed: {why}");
            (None, Some(why))
        }
    };
    if let Some(mut record) = state.task(&task_id) {
        record.status = if result_image.is_some() {
            TaskState::Succeeded
        } else {
            TaskState::Failed
        };
        record.result_image = result_image.clone();
        record.error = error;
        state.put_task(record);
    }
    if let Some(url) = webhook_of(&request) {
        let callback = WebhookCallback {
            success: result_image.is_some(),
            kind: Some(task_type(op)),
            task_id: task_id.clone(),
            result_image,
        };
        let faults = state.faults();
        state
            .webhooks()
            .deliver(Delivery { url, callback }, &faults)
            .await;
    }
}

fn webhook_of(request: &Request) -> Option<String> {
    match request {
        Request::FaceSwap(r) => r.webhook.clone(),
        Request::MultiFaceSwap(r) => r.webhook.clone(),
        Request::VideoFaceSwap(r) => r.webhook.clone(),
        Request::MultiVideoFaceSwap(r) => r.webhook.clone(),
        Request::ExtractFace(_) | Request::ExtractBase64Face(_) => None,
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| "the task's worker stopped unexpectedly".to_owned())?
}

/// Fetches the inputs, swaps, stores; answers the result's URL or why it failed.
async fn work(
    state: &SandboxState,
    task_id: &str,
    request: &Request,
    uploads: &HashMap<String, Bytes>,
) -> Result<String, String> {
    let config = state.config();
    let fetcher = state.fetcher();
    let image = |field: String, url: String| async move {
        fetcher
            .load(&field, &url, config.max_image_bytes, uploads)
            .await
            .map_err(|e| e.message)
    };
    match request {
        Request::FaceSwap(r) => {
            let (source, face) = tokio::try_join!(
                image("source_image".into(), r.source_image.clone()),
                image("face_image".into(), r.face_image.clone())
            )?;
            let png = blocking(move || jobs::face_swap(&source, &face)).await?;
            save_image(state, task_id, png).await
        }
        Request::MultiFaceSwap(r) => {
            let source = image("source_image".into(), r.source_image.clone()).await?;
            let mut faces = Vec::with_capacity(r.face_image.len());
            for (i, url) in r.face_image.iter().enumerate() {
                faces.push(
                    image(format!("face_image[{i}]"), url.clone())
                        .await?
                        .to_vec(),
                );
            }
            let index = r.index.clone();
            let png = blocking(move || jobs::multi_face_swap(&source, &faces, &index)).await?;
            save_image(state, task_id, png).await
        }
        Request::VideoFaceSwap(r) => {
            let face = image("face_image".into(), r.face_image.clone()).await?;
            let (work, input) = fetch_video(state, task_id, &r.source_video, uploads).await?;
            let output = work.join("result.mp4");
            let (inp, out, dir) = (input.clone(), output.clone(), work.clone());
            let swapped = blocking(move || jobs::video_face_swap(&inp, &out, &dir, &face)).await;
            finish_video(state, task_id, work, output, swapped).await
        }
        Request::MultiVideoFaceSwap(r) => {
            let mut refs = Vec::with_capacity(r.ref_info.len());
            for (i, info) in r.ref_info.iter().enumerate() {
                let face_ref = BASE64
                    .decode(&info.face_ref)
                    .map_err(|_| format!("ref_info[{i}].face_ref is not valid base64"))?;
                let face = image(format!("ref_info[{i}].face_url"), info.face_url.clone()).await?;
                refs.push(jobs::Reference {
                    face_ref,
                    face: face.to_vec(),
                });
            }
            let (work, input) = fetch_video(state, task_id, &r.source_video, uploads).await?;
            let output = work.join("result.mp4");
            let (inp, out, dir) = (input.clone(), output.clone(), work.clone());
            let swapped =
                blocking(move || jobs::multi_video_face_swap(&inp, &out, &dir, &refs)).await;
            finish_video(state, task_id, work, output, swapped).await
        }
        Request::ExtractFace(_) | Request::ExtractBase64Face(_) => {
            Err("this operation answers at once and has no task".to_owned())
        }
    }
}

async fn save_image(state: &SandboxState, task_id: &str, png: Vec<u8>) -> Result<String, String> {
    state
        .store()
        .save(task_id, MediaType::Png, &png)
        .await
        .map_err(|err| format!("storing the result failed: {err}"))?;
    Ok(state.result_url(&crate::store::ResultStore::file_name(
        task_id,
        MediaType::Png,
    )))
}

async fn fetch_video(
    state: &SandboxState,
    task_id: &str,
    url: &str,
    uploads: &HashMap<String, Bytes>,
) -> Result<(PathBuf, PathBuf), String> {
    let bytes = state
        .fetcher()
        .load("source_video", url, state.config().max_video_bytes, uploads)
        .await
        .map_err(|e| e.message)?;
    match MediaType::sniff(&bytes) {
        Some(kind) if !kind.is_image() => {}
        _ => return Err("source_video must be an mp4, webm or mov video".to_owned()),
    }
    let work = state
        .store()
        .work_dir(task_id)
        .await
        .map_err(|err| format!("no scratch space: {err}"))?;
    let input = work.join("input");
    tokio::fs::write(&input, &bytes)
        .await
        .map_err(|err| format!("no scratch space: {err}"))?;
    Ok((work, input))
}

async fn finish_video(
    state: &SandboxState,
    task_id: &str,
    work: PathBuf,
    output: PathBuf,
    swapped: Result<crate::video::SwapStats, String>,
) -> Result<String, String> {
    let adopted = match swapped {
        Ok(stats) => {
            tracing::info!(%task_id, frames = stats.frames, faces = stats.faces_edited, "video swapped");
            state
                .store()
                .adopt(task_id, MediaType::Mp4, &output)
                .await
                .map_err(|err| format!("storing the result failed: {err}"))
        }
        Err(why) => Err(why),
    };
    let _ = tokio::fs::remove_dir_all(&work).await;
    adopted?;
    Ok(state.result_url(&crate::store::ResultStore::file_name(
        task_id,
        MediaType::Mp4,
    )))
}
