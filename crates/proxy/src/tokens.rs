//! Random secrets: webhook tokens (256 bits) and upload names (128 bits), and the hash under which
//! a token is stored, so that the database never holds a usable token.

use sha2::{Digest, Sha256};

/// A fresh random value of `BYTES` bytes, as lowercase hex.
fn random_hex<const BYTES: usize>() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(hex(&bytes))
}

/// A new webhook token: 256 random bits as 64 hex characters.
pub fn new_token() -> Result<String, getrandom::Error> {
    random_hex::<32>()
}

/// A new upload name stem: 128 random bits as 32 hex characters.
pub fn new_upload_stem() -> Result<String, getrandom::Error> {
    random_hex::<16>()
}

/// A new app event id (`webhook-id`): `msg_` and 128 random bits as 32 hex characters.
pub fn new_event_id() -> Result<String, getrandom::Error> {
    Ok(format!("msg_{}", random_hex::<16>()?))
}

/// The SHA-256 of a token (or any secret), as hex: what the store keeps.
pub fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Compares two hashes without an early exit, so the time taken says nothing about where they
/// differ.
pub fn hashes_match(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |differ, (x, y)| differ | (x ^ y))
            == 0
}

/// True when `token` has the shape of a token this proxy makes (64 lowercase hex characters).
pub fn looks_like_token(token: &str) -> bool {
    token.len() == 64
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = new_token().expect("random");
        let b = new_token().expect("random");
        assert_ne!(a, b);
        assert!(looks_like_token(&a));
        assert_eq!(new_upload_stem().expect("random").len(), 32);
        assert_ne!(hash(&a), a);
        assert_eq!(hash(&a), hash(&a));
        assert!(!looks_like_token("../etc/passwd"));
        assert!(hashes_match(&hash("s"), &hash("s")));
        assert!(!hashes_match(&hash("s"), &hash("t")));
        assert!(!hashes_match("ab", "abc"));
    }
}
