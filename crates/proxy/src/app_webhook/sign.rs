//! The signatures of an event, by the Standard Webhooks specification through its own crate
//! (`standardwebhooks`): `v1,` and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`
//! keyed by the secret's base64-decoded bytes. `APP_WEBHOOK_SECRET` may hold several `whsec_`
//! secrets, space separated, while a secret is rotated: each signs, and the signatures are sent
//! space separated in one `webhook-signature` header.

use secrecy::{ExposeSecret, SecretString};
use standardwebhooks::Webhook;

/// The prefix of a Standard Webhooks secret.
const PREFIX: &str = "whsec_";

/// Why `APP_WEBHOOK_SECRET` cannot sign; never shows a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No secret at all.
    #[error("APP_WEBHOOK_SECRET is required with APP_WEBHOOK_URL (one or more whsec_ secrets, space separated)")]
    Missing,
    /// The n-th secret (from 1) is not `whsec_` and base64.
    #[error("APP_WEBHOOK_SECRET's secret number {0} is not whsec_ followed by base64")]
    Malformed(usize),
}

/// The secrets that sign every event.
pub struct Signer {
    keys: Vec<Webhook>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("secrets", &self.keys.len())
            .finish()
    }
}

impl Signer {
    /// The signer of `APP_WEBHOOK_SECRET`: space-separated `whsec_` secrets, each base64 of at
    /// least one byte.
    pub fn new(secrets: Option<&SecretString>) -> Result<Self, SecretError> {
        let text = secrets.map(ExposeSecret::expose_secret).unwrap_or_default();
        let keys = text
            .split_whitespace()
            .enumerate()
            .map(|(i, secret)| {
                let malformed = || SecretError::Malformed(i + 1);
                let encoded = secret.strip_prefix(PREFIX).ok_or_else(malformed)?;
                if encoded.is_empty() {
                    return Err(malformed());
                }
                Webhook::new(encoded).map_err(|_| malformed())
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(SecretError::Missing);
        }
        Ok(Self { keys })
    }

    /// The `webhook-signature` header of `body` sent as event `id` at `timestamp` (seconds since
    /// the epoch): one `v1,...` per secret, space separated.
    pub fn signature(&self, id: &str, timestamp: i64, body: &str) -> String {
        self.keys
            .iter()
            // A `&str` is UTF-8, the one thing `sign` can refuse.
            .filter_map(|key| key.sign(id, timestamp, body.as_bytes()).ok())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(text: &str) -> Result<Signer, SecretError> {
        Signer::new(Some(&SecretString::from(text.to_owned())))
    }

    #[test]
    fn signs_as_the_specification_example() {
        // The example of the specification's own libraries.
        let signer = signer("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").expect("secret");
        assert_eq!(
            signer.signature(
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1649367553,
                r#"{"email":"test@example.com","username":"test_user"}"#
            ),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn several_secrets_sign_once_each() {
        let signer = signer(" whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD  whsec_AAAA ").expect("two");
        let header = signer.signature("msg_1", 1, "{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.starts_with("v1,")));
        assert_ne!(parts[0], parts[1]);
    }

    #[test]
    fn bad_secrets_are_named_by_place_never_shown() {
        assert_eq!(Signer::new(None).map(drop), Err(SecretError::Missing));
        assert_eq!(signer("  ").map(drop), Err(SecretError::Missing));
        assert_eq!(
            signer("whsec_AAAA plain-secret").map(drop),
            Err(SecretError::Malformed(2))
        );
        assert_eq!(signer("whsec_").map(drop), Err(SecretError::Malformed(1)));
        let err = signer("whsec_not*base64").map(drop).expect_err("refused");
        assert!(!err.to_string().contains("not*base64"));
        assert_eq!(
            format!("{:?}", signer("whsec_AAAA").expect("ok")),
            "Signer { secrets: 1 }"
        );
    }
}
