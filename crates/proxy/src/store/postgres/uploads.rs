//! Uploads in PostgreSQL (`UPLOAD_STORE=postgres`), so that every proxy on the database serves
//! every upload: a row of metadata in `uploads` and the bytes in `upload_chunks`, [`CHUNK_BYTES`]
//! per row (migration 0004). An upload is written in one transaction, a chunk at a time, and
//! becomes visible whole when it commits; it is read a chunk at a time, each chunk with a
//! connection taken from the pool for that chunk only, so a slow reader holds no connection.

use faceswap_core::MediaType;
use futures_util::StreamExt;
use std::ops::Range;
use tokio::io::AsyncReadExt;

use super::pool::Pool;
use crate::store::{StoreError, StoreResult};
use crate::upload_store::ByteStream;

/// The size of a stored chunk (the last one of an upload may be shorter).
pub const CHUNK_BYTES: u64 = 1 << 20;

/// The uploads of one PostgreSQL database, sharing the task store's pool.
#[derive(Clone)]
pub struct PgUploads {
    pool: Pool,
    /// Prepended to every name: empty for uploads, [`RESULTS`] for kept results, which the
    /// uploads' sweep leaves alone.
    namespace: &'static str,
}

/// The namespace of kept results in the `uploads` table.
const RESULTS: &str = "results/";

impl std::fmt::Debug for PgUploads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgUploads")
            .field(
                "database",
                &super::pool::describe(self.pool.manager().config()),
            )
            .finish()
    }
}

/// Reads into `buf` until it is full or the file ends; returns how many bytes were read.
async fn read_full(file: &mut tokio::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = file.read(&mut buf[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

fn as_i64(value: u64) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| StoreError::corrupt("uploads.size", value.to_string()))
}

impl PgUploads {
    pub(super) fn new(pool: Pool) -> Self {
        Self {
            pool,
            namespace: "",
        }
    }

    /// The kept results of the same database (`KEEP_RESULTS`): rows named `results/{name}`.
    pub fn results(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            namespace: RESULTS,
        }
    }

    /// The row name of `name` in this namespace.
    fn row_name(&self, name: &str) -> String {
        format!("{}{name}", self.namespace)
    }

    /// Stores `size` bytes read from `file` as the upload `name`, in one transaction.
    pub async fn put(
        &self,
        name: &str,
        media: MediaType,
        size: u64,
        duration_ms: Option<u64>,
        created_ms: i64,
        file: &mut tokio::fs::File,
    ) -> StoreResult<()> {
        let name = self.row_name(name);
        let mut conn = self.pool.get().await?;
        let tx = conn.client.transaction().await?;
        let duration_ms = duration_ms.map(as_i64).transpose()?;
        tx.execute(
            "INSERT INTO uploads (name, content_type, size, created_ms, duration_ms)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &name,
                &media.content_type(),
                &as_i64(size)?,
                &created_ms,
                &duration_ms,
            ],
        )
        .await?;
        let insert = tx
            .prepare("INSERT INTO upload_chunks (name, idx, data) VALUES ($1, $2, $3)")
            .await?;
        let mut buf = vec![0u8; CHUNK_BYTES as usize];
        let mut idx: i64 = 0;
        let mut written = 0u64;
        loop {
            let n = read_full(file, &mut buf).await?;
            if n == 0 {
                break;
            }
            let data: &[u8] = &buf[..n];
            tx.execute(&insert, &[&name, &idx, &data]).await?;
            idx += 1;
            written += n as u64;
        }
        if written != size {
            return Err(StoreError::corrupt(
                "upload_chunks.data",
                written.to_string(),
            ));
        }
        tx.commit().await?;
        Ok(())
    }

    /// The size, creation time and video duration (ms) of the upload `name`, if stored; its
    /// recorded type must be `media` (the type its name says).
    pub async fn meta(
        &self,
        name: &str,
        media: MediaType,
    ) -> StoreResult<Option<(u64, i64, Option<u64>)>> {
        let name = self.row_name(name);
        let conn = self.pool.get().await?;
        let Some(row) = conn
            .client
            .query_opt(
                "SELECT content_type, size, created_ms, duration_ms FROM uploads WHERE name = $1",
                &[&name],
            )
            .await?
        else {
            return Ok(None);
        };
        let content_type: String = row.try_get(0)?;
        if content_type != media.content_type() {
            return Err(StoreError::corrupt("uploads.content_type", content_type));
        }
        let size: i64 = row.try_get(1)?;
        let size = u64::try_from(size)
            .map_err(|_| StoreError::corrupt("uploads.size", size.to_string()))?;
        let duration_ms = row
            .try_get::<_, Option<i64>>(3)?
            .map(|ms| u64::try_from(ms).map_err(|_| StoreError::corrupt("uploads.duration_ms", ms)))
            .transpose()?;
        Ok(Some((size, row.try_get(2)?, duration_ms)))
    }

    /// One chunk's bytes.
    async fn chunk(&self, name: &str, idx: i64) -> StoreResult<Vec<u8>> {
        let conn = self.pool.get().await?;
        let row = conn
            .client
            .query_opt(
                "SELECT data FROM upload_chunks WHERE name = $1 AND idx = $2",
                &[&name, &idx],
            )
            .await?
            .ok_or_else(|| StoreError::corrupt("upload_chunks.idx", format!("{name} {idx}")))?;
        Ok(row.try_get(0)?)
    }

    /// The bytes of `range` of the upload `name`, read a chunk at a time as the stream is
    /// polled.
    pub fn read(&self, name: String, range: Range<u64>) -> ByteStream {
        let this = self.clone();
        let name = self.row_name(&name);
        futures_util::stream::unfold(
            (this, name, range.start, range.end),
            |(this, name, pos, end)| async move {
                if pos >= end {
                    return None;
                }
                let idx = pos / CHUNK_BYTES;
                let offset = (pos % CHUNK_BYTES) as usize;
                let read = match i64::try_from(idx) {
                    Ok(idx) => this.chunk(&name, idx).await,
                    Err(_) => Err(StoreError::corrupt("upload_chunks.idx", idx.to_string())),
                };
                let result = read.and_then(|data| {
                    let want = usize::try_from(end - pos).unwrap_or(usize::MAX);
                    let stop = data.len().min(offset.saturating_add(want));
                    if offset >= stop {
                        return Err(StoreError::corrupt(
                            "upload_chunks.data",
                            format!("{name} chunk {idx} is short"),
                        ));
                    }
                    Ok(bytes::Bytes::from(data).slice(offset..stop))
                });
                Some(match result {
                    Ok(bytes) => {
                        let next = pos + bytes.len() as u64;
                        (Ok(bytes), (this, name, next, end))
                    }
                    Err(err) => (Err(std::io::Error::other(err)), (this, name, end, end)),
                })
            },
        )
        .boxed()
    }

    /// Removes the uploads created before `before_ms` (their chunks go with them); returns how
    /// many.
    pub async fn remove_created_before(&self, before_ms: i64) -> StoreResult<u64> {
        let conn = self.pool.get().await?;
        let sql = if self.namespace.is_empty() {
            "DELETE FROM uploads WHERE created_ms < $1 AND name NOT LIKE 'results/%'"
        } else {
            "DELETE FROM uploads WHERE created_ms < $1 AND name LIKE 'results/%'"
        };
        Ok(conn.client.execute(sql, &[&before_ms]).await?)
    }
}
