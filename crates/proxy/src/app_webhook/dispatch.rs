//! The delivery loop: due events are leased from the store's outbox, signed, POSTed to
//! `APP_WEBHOOK_URL`, and removed, tried again later, or (410) stopped for good.

use futures_util::future::join_all;
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;

use super::retry::{self, Verdict};
use super::sign::{SecretError, Signer};
use super::AppOutbox;
use crate::config::AppWebhookSettings;
use crate::routes::now_ms;
use crate::store::{AppEventClaim, TaskStore};

/// Most events one proxy sends at once.
const EVENTS_PER_ROUND: u32 = 16;

/// How often the outbox is looked at for due events.
pub const DISPATCH_INTERVAL: Duration = Duration::from_millis(250);

/// Why the app webhook settings cannot be used; never shows a secret or the URL's query.
#[derive(Debug, thiserror::Error)]
pub enum AppWebhookError {
    /// `APP_WEBHOOK_URL` is not an absolute http or https URL.
    #[error("APP_WEBHOOK_URL must be an absolute http:// or https:// URL")]
    Url,
    /// `APP_WEBHOOK_SECRET` cannot sign.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The HTTP client could not be built.
    #[error("the app webhook's HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// The app's webhook endpoint: where events go, the secrets that sign them, the client that
/// sends them and the retry settings. `Debug` shows the URL's host only.
pub struct AppWebhook {
    url: reqwest::Url,
    signer: Signer,
    client: reqwest::Client,
    outbox: AppOutbox,
    timeout: Duration,
    first_retry: Duration,
}

impl std::fmt::Debug for AppWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppWebhook")
            .field("host", &self.url.host_str())
            .field("signer", &self.signer)
            .field("events", &self.outbox.events)
            .finish_non_exhaustive()
    }
}

impl AppWebhook {
    /// The endpoint `APP_WEBHOOK_URL` names, or `None` when it is not set.
    pub fn from_settings(settings: &AppWebhookSettings) -> Result<Option<Self>, AppWebhookError> {
        let Some(url) = &settings.url else {
            return Ok(None);
        };
        let url = reqwest::Url::parse(url.expose_secret()).map_err(|_| AppWebhookError::Url)?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(AppWebhookError::Url);
        }
        let signer = Signer::new(settings.secret.as_ref())?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .timeout(settings.timeout)
            .user_agent(concat!("faceswap-proxy/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Some(Self {
            outbox: AppOutbox::new(url.as_str(), settings.events),
            url,
            signer,
            client,
            timeout: settings.timeout,
            first_retry: settings.first_retry,
        }))
    }

    /// What the store queues for this endpoint.
    pub fn outbox(&self) -> &AppOutbox {
        &self.outbox
    }

    /// How long a claimed event stays this proxy's: twice a delivery's time limit, so that
    /// another proxy takes it over only once this one's try has surely ended.
    fn lease(&self) -> i64 {
        i64::try_from(self.timeout.saturating_mul(2).as_millis()).unwrap_or(i64::MAX)
    }

    /// Sends every due event once (also called by tests).
    pub async fn deliver_due(&self, store: &dyn TaskStore) {
        let claims = match store
            .claim_app_events(now_ms(), self.lease(), EVENTS_PER_ROUND)
            .await
        {
            Ok(claims) => claims,
            Err(err) => {
                tracing::error!(error = %err, "app webhook: claiming events");
                return;
            }
        };
        join_all(claims.into_iter().map(|claim| self.deliver(store, claim))).await;
    }

    /// One try of one event, and what the store keeps of it.
    async fn deliver(&self, store: &dyn TaskStore, claim: AppEventClaim) {
        let timestamp = now_ms() / 1000;
        let answer = self
            .client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", &claim.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                self.signer.signature(&claim.id, timestamp, &claim.payload),
            )
            .body(claim.payload.clone())
            .send()
            .await;
        let status = match &answer {
            Ok(answer) => Some(answer.status().as_u16()),
            // reqwest's errors name the URL: the kind alone is logged.
            Err(err) => {
                let kind = if err.is_timeout() {
                    "timed out"
                } else if err.is_connect() {
                    "connection failed"
                } else {
                    "request failed"
                };
                tracing::warn!(event = %claim.id, error = kind, "app webhook: no answer");
                None
            }
        };
        let outcome = match retry::verdict(status) {
            Verdict::Delivered => {
                tracing::debug!(event = %claim.id, "app webhook: delivered");
                store.app_event_done(&claim.id).await
            }
            Verdict::Gone => {
                tracing::warn!(
                    event = %claim.id,
                    "app webhook: APP_WEBHOOK_URL answered 410 Gone; no more events are sent to it"
                );
                store
                    .app_endpoint_gone(&self.outbox.endpoint, now_ms())
                    .await
                    .map(drop)
            }
            Verdict::Retry => {
                let failures = claim.attempts.saturating_add(1);
                match retry::next_attempt(
                    claim.created_ms,
                    failures,
                    now_ms(),
                    self.first_retry,
                    retry::jitter(),
                ) {
                    Some(at) => {
                        if let Some(status) = status {
                            tracing::warn!(event = %claim.id, status, failures, "app webhook: refused; tried again later");
                        }
                        store.app_event_retry(&claim.id, at).await
                    }
                    None => {
                        tracing::error!(event = %claim.id, failures, "app webhook: given up after 24 h");
                        store.app_event_done(&claim.id).await
                    }
                }
            }
        };
        if let Err(err) = outcome {
            tracing::error!(event = %claim.id, error = %err, "app webhook: recording a delivery");
        }
    }
}

/// Starts the delivery loop of `webhook`: every [`DISPATCH_INTERVAL`], the due events. It runs
/// until the runtime stops or the returned handle is aborted.
pub fn spawn_dispatch(
    webhook: Arc<AppWebhook>,
    store: Arc<dyn TaskStore>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(DISPATCH_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            webhook.deliver_due(store.as_ref()).await;
        }
    })
}
