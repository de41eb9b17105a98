//! Results on disk, served under `/results/` the way a CDN serves them.

use faceswap_core::MediaType;
use std::io;
use std::path::{Path, PathBuf};

/// The folder results are written to and served from.
#[derive(Debug, Clone)]
pub struct ResultStore {
    dir: PathBuf,
    work: PathBuf,
}

impl ResultStore {
    /// Results under `data_dir/results`, scratch space under `data_dir/work`.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("results"),
            work: data_dir.join("work"),
        }
    }

    /// The folder served at `/results/`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file name of a task's result.
    pub fn file_name(task_id: &str, kind: MediaType) -> String {
        format!("{task_id}.{}", kind.extension())
    }

    /// Where a task's result goes.
    pub fn path(&self, task_id: &str, kind: MediaType) -> PathBuf {
        self.dir.join(Self::file_name(task_id, kind))
    }

    /// Writes a result through a temporary name, so a reader never sees half a file.
    pub async fn save(&self, task_id: &str, kind: MediaType, bytes: &[u8]) -> io::Result<PathBuf> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let path = self.path(task_id, kind);
        let partial = self.dir.join(format!(".{task_id}.partial"));
        tokio::fs::write(&partial, bytes).await?;
        tokio::fs::rename(&partial, &path).await?;
        Ok(path)
    }

    /// Moves a finished file (written under [`ResultStore::work_dir`]) into the results.
    pub async fn adopt(&self, task_id: &str, kind: MediaType, file: &Path) -> io::Result<PathBuf> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let path = self.path(task_id, kind);
        tokio::fs::rename(file, &path).await?;
        Ok(path)
    }

    /// A fresh scratch folder for one task.
    pub async fn work_dir(&self, task_id: &str) -> io::Result<PathBuf> {
        let dir = self.work.join(task_id);
        tokio::fs::create_dir_all(&dir).await?;
        Ok(dir)
    }
}
