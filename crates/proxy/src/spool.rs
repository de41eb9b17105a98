//! Streams a request body (or one multipart field) to a file on disk, counting bytes against a
//! limit and keeping the first bytes for the magic-byte check: nothing is held whole in memory.

use bytes::Bytes;
use faceswap_core::media::SNIFF_LEN;
use faceswap_core::MediaType;
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use crate::idempotency::Fingerprint;

/// Why spooling stopped.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// More than the limit arrived.
    #[error("the file is larger than allowed")]
    TooLarge,
    /// The client's body broke off or was malformed; `true` when a limit layer cut it.
    #[error("the body could not be read completely")]
    Body(bool),
    /// Writing the file failed.
    #[error("spool write: {0}")]
    Io(#[from] std::io::Error),
}

/// A spooled file, rewound to its start.
#[derive(Debug)]
pub struct Spooled {
    /// The file, positioned at its first byte.
    pub file: tokio::fs::File,
    /// Its length in bytes.
    pub len: u64,
    /// Its type by magic bytes, if it is one of the accepted types.
    pub media: Option<MediaType>,
}

/// Writes `stream` into `file` (at most `max` bytes). `is_too_large` tells whether a stream error
/// means a limit was hit upstream of us.
pub async fn spool<S, E>(
    mut stream: S,
    file: std::fs::File,
    max: u64,
    mut fingerprint: Option<&mut Fingerprint>,
    is_too_large: impl Fn(&E) -> bool,
) -> Result<Spooled, SpoolError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut file = tokio::fs::File::from_std(file);
    let mut len = 0u64;
    let mut head = Vec::with_capacity(SNIFF_LEN);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| SpoolError::Body(is_too_large(&err)))?;
        len += chunk.len() as u64;
        if len > max {
            return Err(SpoolError::TooLarge);
        }
        if head.len() < SNIFF_LEN {
            let take = (SNIFF_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        if let Some(fp) = fingerprint.as_deref_mut() {
            fp.update_stream(&chunk);
        }
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    file.rewind().await?;
    Ok(Spooled {
        file,
        len,
        media: MediaType::sniff(&head),
    })
}
