//! Uploads as files in `UPLOAD_DIR`, one per upload, named as served: the default with SQLite,
//! where one proxy serves everything.

use futures_util::StreamExt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::{ByteStream, Incoming, UploadMeta, UploadStoreError};

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

    /// Moves the spooled file into place under `name`.
    pub(super) async fn put(&self, name: &str, incoming: Incoming) -> Result<(), UploadStoreError> {
        let Incoming { path, file, .. } = incoming;
        drop(file);
        let target = self.dir.join(name);
        tokio::task::spawn_blocking(move || path.persist(target))
            .await
            .map_err(|e| UploadStoreError::Io(std::io::Error::other(e)))??;
        Ok(())
    }

    /// The upload's size and age, if it is stored.
    pub(super) async fn meta(&self, name: &str) -> Result<Option<(u64, i64)>, UploadStoreError> {
        match tokio::fs::metadata(self.dir.join(name)).await {
            Ok(meta) if meta.is_file() => {
                let created_ms = meta
                    .modified()
                    .ok()
                    .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
                    .and_then(|d| i64::try_from(d.as_millis()).ok())
                    .unwrap_or(0);
                Ok(Some((meta.len(), created_ms)))
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

/// Removes the files directly in `folder` last modified more than `max_age` ago; returns how
/// many. Used for the stored uploads and for abandoned spool files.
pub async fn remove_old_files(folder: &Path, max_age: Duration) -> usize {
    let mut removed = 0;
    let Ok(mut entries) = tokio::fs::read_dir(folder).await else {
        return 0;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
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
