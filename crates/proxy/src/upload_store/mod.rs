//! Where uploads live, behind one interface used by the upload route, the serving route, the
//! sweep and the reading of the proxy's own uploads as URL inputs ([`crate::fetch`]).
//!
//! - [`UploadStore::Disk`]: files in `UPLOAD_DIR` ([`disk`]), the default with SQLite;
//! - [`UploadStore::Postgres`]: rows in the shared database, in chunks of at most 1 MiB
//!   ([`crate::store::postgres::PgUploads`]), the default with PostgreSQL, so that every proxy
//!   behind a load balancer serves every upload;
//! - [`UploadStore::S3`]: objects in an S3-compatible bucket ([`s3`]), for larger deployments.
//!
//! `UPLOAD_STORE` (`disk`, `postgres` or `s3`) overrides the default. Either way, an upload is first
//! spooled to `UPLOAD_DIR/.spool` (checked by its magic bytes and its size there), then handed
//! to the store; it is never held whole in memory. Names are `<32 hex>.<ext>` ([`stored_type`]).

pub mod container;
pub mod disk;
pub mod range;
pub mod s3;

use faceswap_core::MediaType;
use futures_util::stream::BoxStream;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::store::postgres::PgUploads;
use crate::store::StoreError;
use crate::Config;
pub use disk::DiskUploads;
pub use s3::{S3Settings, S3Uploads};

/// The bytes of an upload, as read.
pub type ByteStream = BoxStream<'static, Result<bytes::Bytes, std::io::Error>>;

/// Which store holds uploads (`UPLOAD_STORE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UploadStoreKind {
    /// Files in `UPLOAD_DIR`.
    Disk,
    /// Rows in the PostgreSQL database of `DATABASE_URL`.
    Postgres,
    /// Objects in the S3-compatible bucket of `S3_BUCKET`.
    S3,
}

/// Why an upload could not be stored, found or read.
#[derive(Debug, thiserror::Error)]
pub enum UploadStoreError {
    /// A file operation failed.
    #[error("upload file: {0}")]
    Io(#[from] std::io::Error),
    /// The spooled file could not be moved into `UPLOAD_DIR`.
    #[error("upload persist: {0}")]
    Persist(#[from] tempfile::PathPersistError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `UPLOAD_STORE=postgres` without a PostgreSQL `DATABASE_URL`.
    #[error("UPLOAD_STORE=postgres needs a postgres:// DATABASE_URL")]
    NoDatabase,
    /// `UPLOAD_STORE=s3` without `S3_BUCKET`.
    #[error("UPLOAD_STORE=s3 needs S3_BUCKET")]
    NoBucket,
    /// The bucket failed (its messages name the bucket and object, never the secret).
    #[error("S3: {0}")]
    S3(#[from] object_store::Error),
}

/// A spooled upload, checked, ready to be stored.
#[derive(Debug)]
pub struct Incoming {
    /// The spool file's path; removed when dropped unless the store keeps it.
    pub path: tempfile::TempPath,
    /// The spool file, at its first byte.
    pub file: tokio::fs::File,
    /// Its size in bytes.
    pub len: u64,
    /// Its type by magic bytes.
    pub media: MediaType,
    /// A video's duration in milliseconds, as its container says ([`container::probe`]).
    pub duration_ms: Option<u64>,
}

/// What is known of a stored upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadMeta {
    /// Its name, `<32 hex>.<ext>`.
    pub name: String,
    /// Its type.
    pub media: MediaType,
    /// Its size in bytes.
    pub size: u64,
    /// When it was stored, in milliseconds since the epoch.
    pub created_ms: i64,
    /// A video's duration in milliseconds, as its container said when it was stored.
    pub duration_ms: Option<u64>,
}

/// What a store keeps of an upload besides its bytes: size, creation time (ms since the epoch)
/// and a video's duration (ms).
pub(crate) type StoredFacts = (u64, i64, Option<u64>);

/// The store of uploads.
#[derive(Debug, Clone)]
pub enum UploadStore {
    /// Files in `UPLOAD_DIR`.
    Disk(DiskUploads),
    /// Chunks in PostgreSQL.
    Postgres(PgUploads),
    /// Objects in an S3-compatible bucket.
    S3(S3Uploads),
}

/// The media type of a stored upload's name (`<32 hex>.<ext>`), if it is one.
pub fn stored_type(name: &str) -> Option<MediaType> {
    let (stem, ext) = name.split_once('.')?;
    let valid_stem =
        stem.len() == 32 && stem.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let media = MediaType::from_extension(ext)?;
    (valid_stem && media.extension() == ext).then_some(media)
}

/// The prefix of every named spool file (tempfile's own, also used by unnamed spool files on
/// systems without anonymous files).
pub const SPOOL_PREFIX: &str = ".tmp";

/// True for a file the proxy wrote into `UPLOAD_DIR`: a stored upload (`<32 hex>.<ext>`) or the
/// sidecar of one (`<32 hex>.<ext>.json`, [`disk`]).
pub fn is_upload_file(name: &str) -> bool {
    let upload = name.strip_suffix(disk::SIDECAR_SUFFIX).unwrap_or(name);
    stored_type(upload).is_some()
}

/// True for a file the proxy may have left in its spool folder (`.tmp` and random letters).
pub fn is_spool_leftover(name: &str) -> bool {
    name.strip_prefix(SPOOL_PREFIX)
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Where uploads are spooled before they are stored, and where URL inputs are spooled.
pub fn spool_dir(upload_dir: &Path) -> PathBuf {
    upload_dir.join(".spool")
}

impl UploadStore {
    /// The store of [`crate::config::Storage::upload_store_kind`] (`UPLOAD_STORE`, by default
    /// PostgreSQL with a PostgreSQL `DATABASE_URL`, else disk), with files under `UPLOAD_DIR`,
    /// rows through `postgres` (the uploads of the PostgreSQL task store, which the postgres
    /// kind needs) or objects in the `S3_*` bucket.
    pub fn choose(config: &Config, postgres: Option<PgUploads>) -> Result<Self, UploadStoreError> {
        let storage = &config.storage;
        match (storage.upload_store_kind(), postgres) {
            (UploadStoreKind::S3, _) => Ok(Self::S3(S3Uploads::new(&storage.s3)?)),
            (UploadStoreKind::Disk, _) => Ok(Self::Disk(DiskUploads::new(&storage.upload_dir))),
            (UploadStoreKind::Postgres, Some(pg)) => Ok(Self::Postgres(pg)),
            (UploadStoreKind::Postgres, None) => Err(UploadStoreError::NoDatabase),
        }
    }

    /// Which store this is.
    pub fn kind(&self) -> UploadStoreKind {
        match self {
            Self::Disk(_) => UploadStoreKind::Disk,
            Self::Postgres(_) => UploadStoreKind::Postgres,
            Self::S3(_) => UploadStoreKind::S3,
        }
    }

    /// Stores a spooled upload under `name` (made by the caller, unique).
    pub async fn put(&self, name: &str, incoming: Incoming) -> Result<(), UploadStoreError> {
        match self {
            Self::Disk(disk) => disk.put(name, incoming).await,
            Self::Postgres(pg) => {
                let Incoming {
                    path,
                    mut file,
                    len,
                    media,
                    duration_ms,
                } = incoming;
                let now = crate::routes::now_ms();
                pg.put(name, media, len, duration_ms, now, &mut file)
                    .await?;
                drop(file);
                drop(path);
                Ok(())
            }
            Self::S3(s3) => {
                let Incoming {
                    path,
                    mut file,
                    media,
                    duration_ms,
                    ..
                } = incoming;
                s3.put(name, media, duration_ms, &mut file).await?;
                drop(file);
                drop(path);
                Ok(())
            }
        }
    }

    /// The stored upload named `name`; `None` for a name that is not an upload's or that is not
    /// stored.
    pub async fn meta(&self, name: &str) -> Result<Option<UploadMeta>, UploadStoreError> {
        let Some(media) = stored_type(name) else {
            return Ok(None);
        };
        let found = match self {
            Self::Disk(disk) => disk.meta(name).await?,
            Self::Postgres(pg) => pg.meta(name, media).await?,
            Self::S3(s3) => s3.meta(name).await?,
        };
        Ok(found.map(|(size, created_ms, duration_ms)| UploadMeta {
            name: name.to_owned(),
            media,
            size,
            created_ms,
            duration_ms,
        }))
    }

    /// The bytes of `range` (within the upload) of a stored upload, read as they are sent.
    pub async fn read(
        &self,
        meta: &UploadMeta,
        range: Range<u64>,
    ) -> Result<ByteStream, UploadStoreError> {
        match self {
            Self::Disk(disk) => disk.read(meta, range).await,
            Self::Postgres(pg) => Ok(pg.read(meta.name.clone(), range)),
            Self::S3(s3) => s3.read(&meta.name, range).await,
        }
    }

    /// The store of kept results (`KEEP_RESULTS`) beside this one: `UPLOAD_DIR/results/` on
    /// disk, rows named `results/...` in PostgreSQL, objects `results/...` in the bucket. Its
    /// names are uploads' (`<32 hex>.<ext>`); the uploads' sweep never removes them.
    pub fn results(&self) -> Self {
        match self {
            Self::Disk(disk) => Self::Disk(DiskUploads::new(disk.dir().join("results"))),
            Self::Postgres(pg) => Self::Postgres(pg.results()),
            Self::S3(s3) => Self::S3(s3.results()),
        }
    }

    /// Removes the uploads stored more than `max_age` ago; returns how many.
    pub async fn remove_older_than(&self, max_age: Duration) -> Result<u64, UploadStoreError> {
        match self {
            Self::Disk(disk) => {
                Ok(disk::remove_old_files(disk.dir(), max_age, is_upload_file).await as u64)
            }
            Self::Postgres(pg) => {
                let age = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
                Ok(pg
                    .remove_created_before(crate::routes::now_ms().saturating_sub(age))
                    .await?)
            }
            Self::S3(s3) => s3.remove_older_than(max_age).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_32_hex_and_a_known_extension() {
        let stem = "0123456789abcdef0123456789abcdef";
        assert_eq!(stored_type(&format!("{stem}.png")), Some(MediaType::Png));
        assert_eq!(stored_type(&format!("{stem}.mp4")), Some(MediaType::Mp4));
        assert_eq!(stored_type(&format!("{stem}.exe")), None);
        assert_eq!(stored_type("nope.png"), None);
        assert_eq!(stored_type(".spool"), None);
        assert_eq!(stored_type(&format!("{}.png", stem.to_uppercase())), None);
    }

    fn config(args: &[&str]) -> Config {
        let mut all = vec!["faceswap-proxy"];
        all.extend_from_slice(args);
        Config::try_from_args(all).expect("flags")
    }

    #[test]
    fn the_default_store_follows_the_database() {
        let store = |args: &[&str]| UploadStore::choose(&config(args), None);
        assert_eq!(store(&[]).expect("disk").kind(), UploadStoreKind::Disk);
        assert!(matches!(
            store(&["--upload-store", "postgres"]),
            Err(UploadStoreError::NoDatabase)
        ));
        assert!(matches!(
            store(&["--upload-store", "s3"]),
            Err(UploadStoreError::NoBucket)
        ));
        let s3 = store(&[
            "--upload-store",
            "s3",
            "--s3-bucket",
            "faceswap",
            "--s3-endpoint",
            "http://127.0.0.1:9",
            "--s3-access-key-id",
            "AKIDEXAMPLE",
            "--s3-secret-access-key",
            "s3cret-key-never-shown",
        ])
        .expect("s3");
        assert_eq!(s3.kind(), UploadStoreKind::S3);
        let shown = format!(
            "{s3:?} {:?}",
            config(&["--s3-secret-access-key", "s3cret-key-never-shown"])
        );
        assert!(!shown.contains("s3cret-key-never-shown"), "{shown}");
    }
}
