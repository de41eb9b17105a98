//! Users of the app (`AUTH_JWKS_URL` or `AUTH_HS256_SECRET`): every submit and upload carries
//! `Authorization: Bearer <jwt>`, checked here (signature, expiry, `AUTH_AUDIENCE`) with the
//! `jsonwebtoken` crate before anything is read, spent or sent upstream; its `sub` is then the
//! [`Principal`] that hourly budgets and idempotency keys belong to ([`Caller`]). A request
//! without a valid token is 401 `unauthorized`, whose message says why and never shows the
//! token.
//!
//! The signing key is the operator's HS256 secret, or one key of the JWKS at `AUTH_JWKS_URL`
//! ([`jwks`]). A token's algorithm must be its key's (HS256 for the secret; for a JWKS key, the
//! key's `alg`, else its type's: RS256, ES256/ES384, HS256, EdDSA): a token signed otherwise,
//! or unsigned (`alg: none`, which no key admits), is refused.

pub mod jwks;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::config::AuthSettings;
use crate::limits::{client_of, Principal};
use crate::{AppError, AppState};

/// Why the auth settings cannot be used; never shows the secret.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    /// Both ways of checking tokens are set.
    #[error("set AUTH_JWKS_URL or AUTH_HS256_SECRET, not both")]
    Both,
    /// `AUTH_JWKS_URL` is not an absolute http(s) URL.
    #[error("AUTH_JWKS_URL must be an absolute https:// (or http://) URL")]
    JwksUrl,
    /// `AUTH_HS256_SECRET` is empty.
    #[error("AUTH_HS256_SECRET must not be empty")]
    EmptySecret,
    /// The JWKS client could not be built.
    #[error("the JWKS client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Why a request's token was refused: the message of its 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefused {
    /// No `Authorization: Bearer` header.
    #[error("this proxy needs Authorization: Bearer <token> from your app's sign-in")]
    Missing,
    /// Not a JWT, or a header or claim of the wrong shape (an unsigned `alg: none` token too).
    #[error("the token is not a signed JWT this proxy can read")]
    Malformed,
    /// Past its `exp`.
    #[error("the token has expired")]
    Expired,
    /// Its `aud` is not `AUTH_AUDIENCE`.
    #[error("the token is not for this audience")]
    Audience,
    /// The signature does not verify, or the token's algorithm is not its key's.
    #[error("the token's signature does not verify")]
    Signature,
    /// No key of the JWKS has its `kid`.
    #[error("the token's signing key is unknown")]
    UnknownKey,
    /// The JWKS could not be fetched.
    #[error("the signing keys could not be fetched; try again")]
    KeysUnavailable,
}

impl From<TokenRefused> for AppError {
    fn from(refused: TokenRefused) -> Self {
        AppError::Unauthorized(refused.to_string())
    }
}

/// The claims the proxy reads; `exp` (and `aud`) are checked by the validation.
#[derive(Deserialize)]
struct Claims {
    sub: String,
}

/// Where signing keys come from.
enum Keys {
    /// `AUTH_HS256_SECRET`.
    Hs256(DecodingKey),
    /// `AUTH_JWKS_URL`.
    Jwks(jwks::JwksKeys),
}

/// Checks the tokens of the app's users.
pub struct Authenticator {
    keys: Keys,
    audience: Option<String>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = match &self.keys {
            Keys::Hs256(_) => "AUTH_HS256_SECRET",
            Keys::Jwks(_) => "AUTH_JWKS_URL",
        };
        f.debug_struct("Authenticator")
            .field("keys", &keys)
            .field("audience", &self.audience)
            .finish()
    }
}

impl Authenticator {
    /// The checker the settings ask for, or `None` when neither `AUTH_JWKS_URL` nor
    /// `AUTH_HS256_SECRET` is set (budgets then belong to addresses).
    pub fn from_settings(settings: &AuthSettings) -> Result<Option<Self>, AuthConfigError> {
        let keys = match (&settings.jwks_url, &settings.hs256_secret) {
            (Some(_), Some(_)) => return Err(AuthConfigError::Both),
            (None, None) => return Ok(None),
            (None, Some(secret)) => {
                let secret = secret.expose_secret();
                if secret.is_empty() {
                    return Err(AuthConfigError::EmptySecret);
                }
                Keys::Hs256(DecodingKey::from_secret(secret.as_bytes()))
            }
            (Some(url), None) => Keys::Jwks(jwks::JwksKeys::new(url)?),
        };
        Ok(Some(Self {
            keys,
            audience: settings.audience.clone(),
        }))
    }

    /// The `sub` of a valid token.
    pub async fn verify(&self, token: &str) -> Result<String, TokenRefused> {
        let header = decode_header(token).map_err(|_| TokenRefused::Malformed)?;
        let (key, algorithm) = match &self.keys {
            Keys::Hs256(key) => (key.clone(), Algorithm::HS256),
            Keys::Jwks(keys) => keys.key_for(header.kid.as_deref()).await?,
        };
        if header.alg != algorithm {
            return Err(TokenRefused::Signature);
        }
        let mut validation = Validation::new(algorithm);
        validation.set_required_spec_claims(&["exp", "sub"]);
        match &self.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        let data = decode::<Claims>(token, &key, &validation).map_err(|err| match err.kind() {
            ErrorKind::ExpiredSignature => TokenRefused::Expired,
            ErrorKind::InvalidAudience => TokenRefused::Audience,
            ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => TokenRefused::Signature,
            _ => TokenRefused::Malformed,
        })?;
        if data.claims.sub.is_empty() {
            return Err(TokenRefused::Malformed);
        }
        Ok(data.claims.sub)
    }
}

/// The bearer token of a request's `Authorization` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// Whom a spending request (a submit, an upload) charges: with users configured, the `sub` of
/// its verified token (a request without one is refused with 401 before anything is read); else
/// its client's address. Handlers take it right after [`crate::limits::Admitted`].
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Some(auth) = &state.auth else {
            return Ok(Self(Principal::Addr(client_of(parts))));
        };
        let token = bearer(&parts.headers).ok_or(TokenRefused::Missing)?;
        let sub = auth.verify(token).await?;
        Ok(Self(Principal::User(sub)))
    }
}

/// Who reads a task (its view, its event stream): with users configured and an
/// `Authorization: Bearer` header, the `sub` of its verified token (an invalid token is 401), and
/// a task of another user is then not found; without the header, nobody in particular (`None`),
/// since a browser's `EventSource` cannot send one. [`crate::routes::tasks::owned_key`] applies
/// it.
#[derive(Debug, Clone, Default)]
pub struct Reader(pub Option<String>);

impl FromRequestParts<AppState> for Reader {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Some(auth) = &state.auth else {
            return Ok(Self(None));
        };
        if parts.headers.get(header::AUTHORIZATION).is_none() {
            return Ok(Self(None));
        }
        let token = bearer(&parts.headers).ok_or(TokenRefused::Malformed)?;
        Ok(Self(Some(auth.verify(token).await?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use secrecy::SecretString;
    use serde_json::json;

    fn hs256(audience: Option<&str>) -> Authenticator {
        Authenticator::from_settings(&AuthSettings {
            jwks_url: None,
            hs256_secret: Some(SecretString::from("app-secret".to_owned())),
            audience: audience.map(str::to_owned),
        })
        .expect("settings")
        .expect("on")
    }

    fn now() -> i64 {
        crate::routes::now_ms() / 1000
    }

    fn token(secret: &str, claims: serde_json::Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("token")
    }

    #[tokio::test]
    async fn tokens_are_checked_for_signature_expiry_audience_and_subject() {
        let auth = hs256(Some("faceswap"));
        let good = json!({"sub": "u1", "exp": now() + 600, "aud": "faceswap"});
        assert_eq!(
            auth.verify(&token("app-secret", good.clone())).await,
            Ok("u1".into())
        );
        assert_eq!(
            auth.verify(&token("other-secret", good)).await,
            Err(TokenRefused::Signature)
        );
        let expired = json!({"sub": "u1", "exp": now() - 3600, "aud": "faceswap"});
        assert_eq!(
            auth.verify(&token("app-secret", expired)).await,
            Err(TokenRefused::Expired)
        );
        let elsewhere = json!({"sub": "u1", "exp": now() + 600, "aud": "other"});
        assert_eq!(
            auth.verify(&token("app-secret", elsewhere)).await,
            Err(TokenRefused::Audience)
        );
        let no_exp = json!({"sub": "u1", "aud": "faceswap"});
        assert_eq!(
            auth.verify(&token("app-secret", no_exp)).await,
            Err(TokenRefused::Malformed)
        );
        let no_sub = json!({"exp": now() + 600, "aud": "faceswap"});
        assert_eq!(
            auth.verify(&token("app-secret", no_sub)).await,
            Err(TokenRefused::Malformed)
        );
        // Without AUTH_AUDIENCE any audience passes.
        let any = json!({"sub": "u2", "exp": now() + 600, "aud": "other"});
        assert_eq!(
            hs256(None).verify(&token("app-secret", any)).await,
            Ok("u2".into())
        );
    }

    #[tokio::test]
    async fn unsigned_and_garbage_tokens_are_refused_never_a_panic() {
        use base64::Engine;
        let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let auth = hs256(None);
        let claims = b64(&json!({"sub": "u1", "exp": now() + 600}).to_string());
        let unsigned = format!("{}.{claims}.", b64(r#"{"alg":"none","typ":"JWT"}"#));
        assert_eq!(auth.verify(&unsigned).await, Err(TokenRefused::Malformed));
        for garbage in ["", "a", "a.b", "a.b.c", "....", "\u{1F600}.x.y"] {
            assert!(auth.verify(garbage).await.is_err(), "{garbage:?}");
        }
        // Another algorithm than the key's (RS256 named, HS256 key) is refused.
        let rs = format!("{}.{claims}.c2ln", b64(r#"{"alg":"RS256","typ":"JWT"}"#));
        assert_eq!(auth.verify(&rs).await, Err(TokenRefused::Signature));
    }

    #[test]
    fn bearer_tokens_are_read_from_authorization() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            "Bearer abc.def.ghi".parse().expect("value"),
        );
        assert_eq!(bearer(&headers), Some("abc.def.ghi"));
        headers.insert(header::AUTHORIZATION, "bearer  x ".parse().expect("value"));
        assert_eq!(bearer(&headers), Some("x"));
        headers.insert(
            header::AUTHORIZATION,
            "Basic dXNlcg==".parse().expect("value"),
        );
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, "Bearer ".parse().expect("value"));
        assert_eq!(bearer(&headers), None);
    }

    #[test]
    fn settings_choose_one_way_and_hide_the_secret() {
        let settings = |jwks: Option<&str>, secret: Option<&str>| AuthSettings {
            jwks_url: jwks.map(str::to_owned),
            hs256_secret: secret.map(|s| SecretString::from(s.to_owned())),
            audience: None,
        };
        assert!(Authenticator::from_settings(&settings(None, None))
            .expect("off")
            .is_none());
        assert!(matches!(
            Authenticator::from_settings(&settings(Some("https://id.example/jwks"), Some("s"))),
            Err(AuthConfigError::Both)
        ));
        assert!(matches!(
            Authenticator::from_settings(&settings(Some("not a url"), None)),
            Err(AuthConfigError::JwksUrl)
        ));
        assert!(matches!(
            Authenticator::from_settings(&settings(None, Some(""))),
            Err(AuthConfigError::EmptySecret)
        ));
        let shown = format!("{:?}", hs256(None));
        assert!(!shown.contains("app-secret"), "{shown}");
    }
}
