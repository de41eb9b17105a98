//! The keys of `AUTH_JWKS_URL`: fetched when first needed, kept for [`KEEP_FOR`], fetched again
//! sooner when a token names a key id the set lacks (a rotation), at most once per
//! [`REFETCH_AFTER`], so tokens with made-up ids cannot make the proxy hammer the identity
//! provider.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};
use std::str::FromStr;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

use super::{AuthConfigError, TokenRefused};

/// How long a fetched key set is used.
pub const KEEP_FOR: Duration = Duration::from_secs(10 * 60);

/// The shortest time between two fetches.
pub const REFETCH_AFTER: Duration = Duration::from_secs(30);

/// Longest wait for the key set.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest key set read.
const MAX_BYTES: usize = 256 * 1024;

/// A fetched key set.
struct Fetched {
    set: JwkSet,
    at: Instant,
}

/// The key set of `AUTH_JWKS_URL`.
pub struct JwksKeys {
    url: reqwest::Url,
    client: reqwest::Client,
    cache: Mutex<Option<Fetched>>,
}

impl JwksKeys {
    /// The keys at `url`; nothing is fetched yet.
    pub fn new(url: &str) -> Result<Self, AuthConfigError> {
        let url = reqwest::Url::parse(url).map_err(|_| AuthConfigError::JwksUrl)?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
            return Err(AuthConfigError::JwksUrl);
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(FETCH_TIMEOUT)
            .build()?;
        Ok(Self {
            url,
            client,
            cache: Mutex::new(None),
        })
    }

    /// The key of a token whose header names `kid` (or, without one, the set's only key), with
    /// the one algorithm it verifies.
    pub async fn key_for(
        &self,
        kid: Option<&str>,
    ) -> Result<(DecodingKey, Algorithm), TokenRefused> {
        let mut cache = self.cache.lock().await;
        let fresh = cache.as_ref().is_some_and(|f| f.at.elapsed() < KEEP_FOR);
        let found = cache
            .as_ref()
            .filter(|_| fresh)
            .and_then(|f| pick(&f.set, kid));
        if let Some(found) = found {
            return usable(found);
        }
        let may_fetch = cache
            .as_ref()
            .is_none_or(|f| f.at.elapsed() >= REFETCH_AFTER);
        if may_fetch {
            match self.fetch().await {
                Ok(set) => {
                    *cache = Some(Fetched {
                        set,
                        at: Instant::now(),
                    });
                }
                Err(why) => {
                    tracing::warn!(error = why, "AUTH_JWKS_URL could not be read");
                    if cache.is_none() {
                        return Err(TokenRefused::KeysUnavailable);
                    }
                }
            }
        }
        let fetched = cache.as_ref().ok_or(TokenRefused::KeysUnavailable)?;
        pick(&fetched.set, kid)
            .ok_or(TokenRefused::UnknownKey)
            .and_then(usable)
    }

    /// The key set, fetched now; the error says why without the URL.
    async fn fetch(&self) -> Result<JwkSet, &'static str> {
        let answer = self
            .client
            .get(self.url.clone())
            .send()
            .await
            .map_err(|_| "no answer")?;
        if !answer.status().is_success() {
            return Err("not a 2xx answer");
        }
        if answer
            .content_length()
            .is_some_and(|len| len > MAX_BYTES as u64)
        {
            return Err("too large");
        }
        let body = answer.bytes().await.map_err(|_| "the answer broke off")?;
        if body.len() > MAX_BYTES {
            return Err("too large");
        }
        serde_json::from_slice(&body).map_err(|_| "not a JWK set")
    }
}

/// The key with id `kid`, or without one the set's only key.
fn pick<'a>(set: &'a JwkSet, kid: Option<&str>) -> Option<&'a Jwk> {
    match kid {
        Some(kid) => set.find(kid),
        None => match set.keys.as_slice() {
            [only] => Some(only),
            _ => None,
        },
    }
}

/// A key and the one algorithm it verifies: its own `alg`, else its type's.
fn usable(jwk: &Jwk) -> Result<(DecodingKey, Algorithm), TokenRefused> {
    let algorithm = match &jwk.common.key_algorithm {
        Some(named) => {
            Algorithm::from_str(&named.to_string()).map_err(|_| TokenRefused::UnknownKey)?
        }
        None => match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::OctetKey(_) => Algorithm::HS256,
            AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => Algorithm::ES256,
                EllipticCurve::P384 => Algorithm::ES384,
                _ => return Err(TokenRefused::UnknownKey),
            },
        },
    };
    let family_fits = matches!(
        (&jwk.algorithm, algorithm),
        (
            AlgorithmParameters::RSA(_),
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ) | (
            AlgorithmParameters::OctetKey(_),
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        ) | (AlgorithmParameters::OctetKeyPair(_), Algorithm::EdDSA)
            | (
                AlgorithmParameters::EllipticCurve(_),
                Algorithm::ES256 | Algorithm::ES384
            )
    );
    if !family_fits {
        return Err(TokenRefused::UnknownKey);
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|_| TokenRefused::UnknownKey)?;
    Ok((key, algorithm))
}
