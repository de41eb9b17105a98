//! Uploads as files in `UPLOAD_DIR`, one per upload, named as served: the default with SQLite,
//! where one proxy serves everything.

use futures_util::StreamExt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::{ByteStream, Incoming, StoredFacts, UploadMeta, UploadStoreError};

/// The suffix of an upload's sidecar, `<name>.json`: what the proxy knows of the upload beyond
/// its bytes. A file keeps no such metadata portably (extended attributes are not on every file
/// system, nor kept by every copy or backup), and a sidecar written before the upload is moved
/// into place is never missing while the upload is there; the sweep removes both.
pub const SIDECAR_SUFFIX: &str = ".json";

/// What a sidecar holds.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Sidecar {
    /// A video's duration, in milliseconds.
    duration_ms: Option<u64>,
}

/// Uploads in one local folder.
#[derive(Debug, Clone)]
pub struct DiskUploads {
    dir: PathBuf,
}

impl DiskUploads {
    /// The uploads of `dir` (created by the caller).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Moves the spooled file into place under `name`, after the sidecar that keeps what the
    /// file's own metadata cannot (a video's duration), so the upload is never seen without it.
    pub(super) async fn put(&self, name: &str, incoming: Incoming) -> Result<(), UploadStoreError> {
        let Incoming {
            path,
            file,
            duration_ms,
            ..
        } = incoming;
        drop(file);
        if duration_ms.is_some() {
            let sidecar = Sidecar { duration_ms };
            let json = serde_json::to_vec(&sidecar).map_err(std::io::Error::other)?;
            tokio::fs::write(self.sidecar(name), json).await?;
        }
        let target = self.dir.join(name);
        tokio::task::spawn_blocking(move || path.persist(target))
            .await
            .map_err(|e| UploadStoreError::Io(std::io::Error::other(e)))??;
        Ok(())
    }

    fn sidecar(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}{SIDECAR_SUFFIX}"))
    }

    /// The upload's size, age and video duration, if it is stored.
    pub(super) async fn meta(&self, name: &str) -> Result<Option<StoredFacts>, UploadStoreError> {
        match tokio::fs::metadata(self.dir.join(name)).await {
            Ok(meta) if meta.is_file() => {
                let created_ms = meta
                    .modified()
                    .ok()
                    .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
                    .and_then(|d| i64::try_from(d.as_millis()).ok())
                    .unwrap_or(0);
                let duration_ms = match tokio::fs::read(self.sidecar(name)).await {
                    Ok(json) => {
                        serde_json::from_slice::<Sidecar>(&json)
                            .map_err(std::io::Error::other)?
                            .duration_ms
                    }
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
                    Err(err) => return Err(err.into()),
                };
                Ok(Some((meta.len(), created_ms, duration_ms)))
            }
            Ok(_) => Ok(None),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// The bytes of `range` of the upload.
    pub(super) async fn read(
        &self,
        meta: &UploadMeta,
        range: Range<u64>,
    ) -> Result<ByteStream, UploadStoreError> {
        let mut file = tokio::fs::File::open(self.dir.join(&meta.name)).await?;
        file.seek(std::io::SeekFrom::Start(range.start)).await?;
        let limited = file.take(range.end.saturating_sub(range.start));
        Ok(ReaderStream::new(limited).boxed())
    }
}

/// Removes the files directly in `folder` whose name `owned` accepts and that were last
/// modified more than `max_age` ago; returns how many. Used for the stored uploads (names of the
/// upload pattern, [`super::is_upload_file`]) and for abandoned spool files
/// ([`super::is_spool_leftover`]): no other file is ever removed, whatever else the folder holds.
pub async fn remove_old_files(
    folder: &Path,
    max_age: Duration,
    owned: impl Fn(&str) -> bool,
) -> usize {
    let mut removed = 0;
    let Ok(mut entries) = tokio::fs::read_dir(folder).await else {
        return 0;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        if !entry.file_name().to_str().is_some_and(&owned) {
            continue;
        }
        let Ok(meta) = entry.metadata().await else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let old = meta
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_some_and(|age| age >= max_age);
        if old && tokio::fs::remove_file(entry.path()).await.is_ok() {
            removed += 1;
        }
    }
    removed
}
