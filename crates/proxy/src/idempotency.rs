//! `Idempotency-Key` on submits: the same key with the same body within 24 h answers the first
//! answer again without calling upstream; with another body, 422 `idempotency_conflict`. A key
//! belongs to the client that sent it ([`Principal`]: its address, as `client_addr::client_of`
//! resolves it, or with users configured the `sub` of its token): the same key from another client
//! is another key, so learning a key never reveals an answer.

use crate::limits::Principal;
use axum::http::HeaderMap;
use faceswap_core::FieldError;
use sha2::{Digest, Sha256};

use crate::store::{IdempotencyBegin, TaskStore};
use crate::tokens::hex;
use crate::AppError;

/// How long an answer is kept for replay.
pub const TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// The header name.
pub const HEADER: &str = "idempotency-key";

/// The client's key, if it sent one; 1 to 255 visible ASCII characters.
pub fn key_from(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()));
    match key {
        Some(key) => Ok(Some(key.to_owned())),
        None => Err(FieldError::new(
            "Idempotency-Key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        )
        .into()),
    }
}

/// Builds the fingerprint of a request: its operation and body.
#[derive(Debug, Clone, Default)]
pub struct Fingerprint(Sha256);

impl Fingerprint {
    /// A fingerprint of the operation `op`.
    pub fn new(op: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(op.as_bytes());
        hasher.update([0]);
        Self(hasher)
    }

    /// Adds bytes (a body, or a form part's name and content) to the fingerprint.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    /// Adds bytes without a length prefix (a streamed file's chunks).
    pub fn update_stream(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The finished fingerprint as hex.
    pub fn finish(self) -> String {
        hex(&self.0.finalize())
    }
}

/// The key as stored: the client (its address, or `user:` and its `sub`), a space (which a key
/// never holds, so the last space ends the client), the key.
pub fn scoped(client: &Principal, key: &str) -> String {
    format!("{client} {key}")
}

/// What a submit does about its key.
#[derive(Debug)]
pub enum Begin {
    /// Go on; record the answer under this stored key (if any, already [`scoped`]).
    Proceed(Option<String>),
    /// Answer this again (status, body).
    Replay(u16, Vec<u8>),
}

/// Looks up `client`'s key; conflicts become errors.
pub async fn begin(
    store: &dyn TaskStore,
    client: &Principal,
    key: Option<String>,
    fingerprint: Fingerprint,
    now_ms: i64,
    stale_ms: i64,
) -> Result<Begin, AppError> {
    let Some(key) = key else {
        return Ok(Begin::Proceed(None));
    };
    let key = scoped(client, &key);
    match store
        .idempotency_begin(&key, &fingerprint.finish(), now_ms, TTL_MS, stale_ms)
        .await?
    {
        IdempotencyBegin::Started => Ok(Begin::Proceed(Some(key))),
        IdempotencyBegin::Replay(status, body) => Ok(Begin::Replay(status, body)),
        IdempotencyBegin::Conflict => Err(AppError::IdempotencyConflict(
            "this Idempotency-Key was used with another request body; use a new key".into(),
        )),
        IdempotencyBegin::InProgress => Err(AppError::IdempotencyConflict(
            "a request with this Idempotency-Key is still running; wait for its answer".into(),
        )),
    }
}
