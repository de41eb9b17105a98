//! URL inputs of providers that take files only ([`Adapter::files_only`], AIPhotoCraft): a URL
//! the browser sends as the text of a file field is read by the proxy and sent upstream as a
//! file. Only two kinds of URL are read:
//!
//! - the proxy's own uploads (`PUBLIC_URL/uploads/{name}`), read from its upload store directly
//!   (`UPLOAD_DIR` or the shared database, so any proxy reads any upload);
//! - URLs at an origin listed in `FETCH_ALLOWED_ORIGINS`, over https, fetched by the proxy with
//!   OWASP's SSRF rules: the host is resolved here and every address it resolves to is checked
//!   ([`address`]), the connection goes to those checked addresses only (no second lookup), no
//!   redirect is followed, no proxy is used, and the body is limited to `UPLOAD_MAX_BYTES` and
//!   the fetch to [`FETCH_TIMEOUT`].
//!
//! Every URL of a submit is checked before any is fetched; a refusal is 400 `invalid_parameter`
//! naming the field, so nothing is fetched or spent for a request that will be refused.
//!
//! [`Adapter::files_only`]: faceswap_core::provider::Adapter::files_only

pub mod address;

use faceswap_core::provider::{FormInput, FormValue, OperationSpec};
use faceswap_core::FieldError;
use reqwest::Url;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use crate::routes::form::SpooledFiles;
use crate::spool::{spool, SpoolError, Spooled};
use crate::upload_store::{UploadMeta, UploadStore};
use crate::{AppError, Config};

/// Longest time one URL input may take to fetch (shorter when the upstream timeout is).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest time the lookup of a URL input's host may take.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a URL input was not read; the message follows the field's name.
#[derive(Debug, thiserror::Error)]
pub enum FetchFault {
    /// Not a URL the proxy may read.
    #[error(
        "is a URL the proxy may not fetch: only its own uploads and the origins listed in \
         FETCH_ALLOWED_ORIGINS are read"
    )]
    NotAllowed,
    /// A listed origin over plain http.
    #[error("must be an https URL")]
    NotHttps,
    /// An upload URL of this proxy naming no stored upload.
    #[error("names an upload that does not exist")]
    NoUpload,
    /// The host did not resolve.
    #[error("could not be resolved")]
    Unresolved,
    /// The host's lookup took longer than [`LOOKUP_TIMEOUT`].
    #[error("could not be resolved in time")]
    LookupTimedOut,
    /// The host resolves to an address no fetch may reach.
    #[error("resolves to {0}, which the proxy never fetches from")]
    Address(#[from] address::Refused),
    /// A redirect.
    #[error("answered a redirect ({0}), and redirects are never followed")]
    Redirect(u16),
    /// Another non-2xx answer.
    #[error("could not be fetched: it answered {0}")]
    Status(u16),
    /// Over the size limit.
    #[error("is larger than {0} bytes")]
    TooLarge(u64),
    /// No answer in time, or no connection.
    #[error("could not be fetched: {0}")]
    Unreachable(&'static str),
    /// Empty.
    #[error("is an empty file")]
    Empty,
    /// Not an image.
    #[error("is not a jpeg, png or webp image")]
    NotImage,
}

impl FetchFault {
    fn about(self, field: &str) -> FieldError {
        FieldError::new(field, format!("{field} {self}"))
    }
}

/// A URL input, checked and ready to read.
#[derive(Debug)]
enum Checked {
    /// One of the proxy's uploads.
    Own(UploadMeta),
    /// A URL at an allowed origin, to be reached at these addresses only.
    Remote {
        url: Url,
        domain: Option<String>,
        addrs: Vec<SocketAddr>,
    },
}

/// The proxy's rules for URL inputs, from its configuration.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    origins: Vec<String>,
    allow_private: bool,
    uploads_prefix: String,
    uploads: UploadStore,
    max_bytes: u64,
    timeout: Duration,
}

impl FetchPolicy {
    /// The rules of `config` (`FETCH_ALLOWED_ORIGINS`, `FETCH_ALLOW_PRIVATE`, `PUBLIC_URL`,
    /// `UPLOAD_MAX_BYTES`), with the proxy's own uploads read from `uploads`.
    pub fn new(config: &Config, uploads: UploadStore) -> Self {
        let origins = config
            .fetch
            .allowed_origins
            .iter()
            .filter_map(|origin| Url::parse(origin.trim()).ok())
            .map(|url| url.origin().ascii_serialization())
            .filter(|origin| origin != "null")
            .collect();
        Self {
            origins,
            allow_private: config.fetch.allow_private,
            uploads_prefix: format!("{}/uploads/", config.listen.public_url()),
            uploads,
            max_bytes: config.limits.upload_max_bytes,
            timeout: FETCH_TIMEOUT.min(config.limits.upstream_timeout),
        }
    }

    /// Checks `url` without reading it; a remote host is resolved and its addresses checked.
    async fn check(&self, url: &str) -> Result<Checked, FetchFault> {
        if let Some(name) = url.strip_prefix(&self.uploads_prefix) {
            return match self.uploads.meta(name).await {
                Ok(Some(meta)) => Ok(Checked::Own(meta)),
                Ok(None) => Err(FetchFault::NoUpload),
                Err(err) => {
                    tracing::error!(error = %err, "own upload lookup");
                    Err(FetchFault::NoUpload)
                }
            };
        }
        let parsed = Url::parse(url).map_err(|_| FetchFault::NotAllowed)?;
        if !self
            .origins
            .contains(&parsed.origin().ascii_serialization())
        {
            return Err(FetchFault::NotAllowed);
        }
        self.check_remote(parsed).await
    }

    /// The rules of a URL at an allowed origin: https (http only with `FETCH_ALLOW_PRIVATE`),
    /// the host resolved here within [`LOOKUP_TIMEOUT`], and every address it resolves to
    /// checked ([`address::check`]).
    async fn check_remote(&self, parsed: Url) -> Result<Checked, FetchFault> {
        match parsed.scheme() {
            "https" => {}
            "http" if self.allow_private => {}
            _ => return Err(FetchFault::NotHttps),
        }
        let port = parsed
            .port_or_known_default()
            .ok_or(FetchFault::NotAllowed)?;
        let host = parsed.host_str().ok_or(FetchFault::NotAllowed)?;
        let literal = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>();
        let (domain, addrs) = match literal {
            Ok(ip) => (None, vec![SocketAddr::new(ip, port)]),
            Err(_) => {
                let lookup = tokio::net::lookup_host((host, port));
                let addrs: Vec<SocketAddr> = tokio::time::timeout(LOOKUP_TIMEOUT, lookup)
                    .await
                    .map_err(|_| FetchFault::LookupTimedOut)?
                    .map_err(|_| FetchFault::Unresolved)?
                    .collect();
                (Some(host.to_owned()), addrs)
            }
        };
        if addrs.is_empty() {
            return Err(FetchFault::Unresolved);
        }
        // Every address must pass: a name resolving to one private address is refused.
        for addr in &addrs {
            address::check(addr.ip(), self.allow_private)?;
        }
        Ok(Checked::Remote {
            url: parsed,
            domain,
            addrs,
        })
    }

    /// Reads a checked input into a file under `dir`.
    async fn read(&self, checked: Checked, dir: &Path) -> Result<Spooled, ReadError> {
        tokio::fs::create_dir_all(dir).await?;
        let file = tempfile::tempfile_in(dir)?;
        self.read_into(checked, file).await
    }

    /// A provider's result URL, for `KEEP_RESULTS`, read into `file` under the rules of URL
    /// inputs whatever its origin (results come from the providers' own hosts): https (http
    /// only with `FETCH_ALLOW_PRIVATE`, the sandbox's case), every address of the host public
    /// (loopback and private ones only with `FETCH_ALLOW_PRIVATE`), no redirects, at most
    /// `UPLOAD_MAX_BYTES`, within [`FETCH_TIMEOUT`].
    pub async fn fetch_result(
        &self,
        url: &str,
        file: std::fs::File,
    ) -> Result<Spooled, ResultFetchError> {
        let parsed = Url::parse(url).map_err(|_| FetchFault::NotAllowed)?;
        let checked = self.check_remote(parsed).await?;
        self.read_into(checked, file)
            .await
            .map_err(|err| match err {
                ReadError::Fault(fault) => ResultFetchError::Fault(fault),
                ReadError::Proxy(err) => ResultFetchError::Proxy(err),
            })
    }

    async fn read_into(&self, checked: Checked, file: std::fs::File) -> Result<Spooled, ReadError> {
        let max = self.max_bytes;
        let spooled = match checked {
            Checked::Own(meta) => {
                let stream = self
                    .uploads
                    .read(&meta, 0..meta.size)
                    .await
                    .map_err(AppError::from)?;
                spool(stream, file, max, None, |_: &std::io::Error| false).await
            }
            Checked::Remote { url, domain, addrs } => {
                let mut builder = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .retry(reqwest::retry::never())
                    .no_proxy()
                    .https_only(!self.allow_private)
                    .connect_timeout(self.timeout.min(Duration::from_secs(10)))
                    .timeout(self.timeout);
                if let Some(domain) = &domain {
                    // Connect to the checked addresses only: no second lookup to rebind.
                    builder = builder.resolve_to_addrs(domain, &addrs);
                }
                let client = builder.build().map_err(AppError::from)?;
                let response = client.get(url).send().await.map_err(unreachable)?;
                let status = response.status();
                if status.is_redirection() {
                    return Err(FetchFault::Redirect(status.as_u16()).into());
                }
                if !status.is_success() {
                    return Err(FetchFault::Status(status.as_u16()).into());
                }
                if response.content_length().is_some_and(|len| len > max) {
                    return Err(FetchFault::TooLarge(max).into());
                }
                spool(response.bytes_stream(), file, max, None, |_| false).await
            }
        };
        match spooled {
            Ok(spooled) => Ok(spooled),
            Err(SpoolError::TooLarge) => Err(FetchFault::TooLarge(max).into()),
            Err(SpoolError::Body(_)) => {
                Err(FetchFault::Unreachable("the transfer broke off").into())
            }
            Err(SpoolError::Io(err)) => Err(err.into()),
        }
    }
}

fn unreachable(err: reqwest::Error) -> ReadError {
    let why = if err.is_timeout() {
        "it did not answer in time"
    } else {
        "it could not be reached"
    };
    FetchFault::Unreachable(why).into()
}

/// Why an input could not be read: its fault, or the proxy's own.
/// Why a provider's result was not read ([`FetchPolicy::fetch_result`]).
#[derive(Debug, thiserror::Error)]
pub enum ResultFetchError {
    /// The URL or its answer broke a rule; the message follows "the result".
    #[error("the result {0}")]
    Fault(#[from] FetchFault),
    /// The proxy could not spool it.
    #[error(transparent)]
    Proxy(AppError),
}

#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error(transparent)]
    Fault(#[from] FetchFault),
    #[error(transparent)]
    Proxy(#[from] AppError),
}

impl From<std::io::Error> for ReadError {
    fn from(err: std::io::Error) -> Self {
        ReadError::Proxy(AppError::from(err))
    }
}

/// Replaces every URL sent in a file field of `operations` by the file it names, read under
/// `policy` and spooled under `dir`. All URLs are checked before any is read.
pub async fn fetch_url_inputs(
    policy: &FetchPolicy,
    operations: &[&OperationSpec],
    form: &mut FormInput,
    files: &mut SpooledFiles,
    dir: &Path,
) -> Result<(), AppError> {
    let is_file_field = |name: &str| operations.iter().any(|op| op.file_fields.contains(&name));
    let urls: Vec<(String, String)> = form
        .fields
        .iter()
        .filter(|(name, _)| is_file_field(name))
        .filter_map(|(name, value)| match value {
            FormValue::Text(url) => Some((name.clone(), url.clone())),
            FormValue::File(_) => None,
        })
        .collect();
    let mut checked = Vec::with_capacity(urls.len());
    for (field, url) in urls {
        match policy.check(&url).await {
            Ok(input) => checked.push((field, input)),
            Err(fault) => {
                tracing::info!(field, reason = %fault, "URL input refused");
                return Err(fault.about(&field).into());
            }
        }
    }
    for (field, input) in checked {
        let spooled = match policy.read(input, dir).await {
            Ok(spooled) => spooled,
            Err(ReadError::Fault(fault)) => {
                tracing::info!(field, reason = %fault, "URL input not read");
                return Err(fault.about(&field).into());
            }
            Err(ReadError::Proxy(err)) => return Err(err),
        };
        let media = match spooled.media {
            _ if spooled.len == 0 => return Err(FetchFault::Empty.about(&field).into()),
            Some(media) if media.is_image() => media,
            _ => return Err(FetchFault::NotImage.about(&field).into()),
        };
        if let Some((_, value)) = form.fields.iter_mut().find(|(name, _)| *name == field) {
            *value = FormValue::File(media);
        }
        files.insert(field, spooled);
    }
    Ok(())
}
