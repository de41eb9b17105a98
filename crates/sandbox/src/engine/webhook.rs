//! Delivering a task's callback (a JSON body its provider module wrote) to the URL the request
//! gave, with the fault knobs for duplicates, delays and reordering.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::fetch::{FetchError, Fetcher};
use crate::faults::Faults;

/// Attempts per delivery (a failed POST or a 5xx answer is retried).
pub const ATTEMPTS: u32 = 3;
/// How long a reordered webhook waits for the next one before it goes out anyway.
pub const REORDER_HOLD: Duration = Duration::from_secs(2);

/// One webhook to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The task it reports on (for logs).
    pub task_id: String,
    /// Where to POST.
    pub url: String,
    /// The JSON body, in the provider's shape.
    pub body: Vec<u8>,
    /// Headers besides `Content-Type` (a provider's callback secret).
    pub headers: Vec<(String, String)>,
}

/// Why a webhook was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The URL is outside the origin policy.
    #[error(transparent)]
    Policy(#[from] FetchError),
    /// The receiver kept answering 5xx.
    #[error("the receiver answered {0}")]
    Status(reqwest::StatusCode),
    /// The POST itself failed.
    #[error("POST failed: {0}")]
    Post(#[from] reqwest::Error),
}

/// Sends webhooks; holds at most one back when reordering.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    fetcher: Fetcher,
    timeout: Duration,
    held: Arc<Mutex<Option<Delivery>>>,
}

impl WebhookSender {
    /// A sender using `fetcher`'s client and origin policy.
    pub fn new(fetcher: Fetcher, timeout: Duration) -> Self {
        Self {
            fetcher,
            timeout,
            held: Arc::new(Mutex::new(None)),
        }
    }

    /// Delivers `delivery` as the faults say: not at all with `drop_webhooks`, else after
    /// `webhook_delay_ms`, `1 + duplicate_webhooks` times, and, when reordering, after the next
    /// task's webhook.
    pub async fn deliver(&self, delivery: Delivery, faults: &Faults) {
        if faults.drop_webhooks {
            tracing::info!(task_id = %delivery.task_id, "webhook dropped (drop_webhooks fault knob)");
            return;
        }
        if faults.webhook_delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(faults.webhook_delay_ms)).await;
        }
        let copies = 1 + faults.duplicate_webhooks;
        if !faults.reorder_webhooks {
            self.send_copies(&delivery, copies).await;
            return;
        }
        let previous = self.lock_held().take();
        match previous {
            Some(previous) => {
                self.send_copies(&delivery, copies).await;
                self.send_copies(&previous, copies).await;
            }
            None => {
                *self.lock_held() = Some(delivery.clone());
                let sender = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(REORDER_HOLD).await;
                    let still_held = {
                        let mut held = sender.lock_held();
                        if held.as_ref() == Some(&delivery) {
                            held.take()
                        } else {
                            None
                        }
                    };
                    if let Some(delivery) = still_held {
                        sender.send_copies(&delivery, copies).await;
                    }
                });
            }
        }
    }

    fn lock_held(&self) -> std::sync::MutexGuard<'_, Option<Delivery>> {
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn send_copies(&self, delivery: &Delivery, copies: u32) {
        for _ in 0..copies {
            if let Err(why) = self.send(delivery).await {
                tracing::warn!(task_id = %delivery.task_id, "webhook not delivered: {why}");
            }
        }
    }

    /// POSTs one callback, retrying failures; the URL must pass the origin policy.
    pub async fn send(&self, delivery: &Delivery) -> Result<(), SendError> {
        let url = self.fetcher.policy().check("webhook", &delivery.url)?;
        let mut attempt = 0;
        loop {
            let mut request = self
                .fetcher
                .client()
                .post(url.clone())
                .header("content-type", "application/json")
                .timeout(self.timeout)
                .body(delivery.body.clone());
            for (name, value) in &delivery.headers {
                request = request.header(name.as_str(), value.as_str());
            }
            let failure = match request.send().await {
                Ok(response) if response.status().is_server_error() => {
                    SendError::Status(response.status())
                }
                Ok(_) => return Ok(()),
                Err(err) => SendError::Post(err),
            };
            attempt += 1;
            if attempt >= ATTEMPTS {
                return Err(failure);
            }
            tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
        }
    }
}
