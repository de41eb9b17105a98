//! The LISTEN side of the task channel: one dedicated connection per store receives
//! `NOTIFY faceswap_tasks, '<provider>/<task id>'` from every proxy on the database, loads the
//! task when some stream here waits on it, and publishes it to the local
//! [`crate::store::Notifier`].
//!
//! When the connection drops, it reconnects with backoff, then re-loads every task that has
//! waiting streams, so a change made during the gap still wakes them.

use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Client, NoTls};

use super::pool::{Connector, APPLICATION_NAME};
use super::schema::{parse_payload, CHANNEL};
use super::{load_task, Shared};
use crate::store::{StoreResult, TaskKey};

/// The `application_name` of the LISTEN connection (unless the URL sets one).
const LISTEN_APPLICATION_NAME: &str = "faceswap-proxy-listen";

/// The first pause before a reconnection; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// The longest pause between two reconnections.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A live LISTEN connection: its client (dropping it closes the connection) and the payloads
/// notified on it.
struct Session {
    _client: Client,
    payloads: mpsc::UnboundedReceiver<String>,
}

/// Stops the listening task when the store goes away.
#[derive(Debug)]
pub(super) struct Listener(JoinHandle<()>);

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Opens the LISTEN connection (on the driver runtime) and starts relaying its notifications.
/// Returns once the connection listens, so no change made after it is missed.
pub(super) async fn start(shared: Arc<Shared>) -> StoreResult<Listener> {
    let driver = shared.pool.manager().driver().clone();
    let session = {
        let shared = Arc::clone(&shared);
        driver
            .spawn(async move { open(shared.pool.manager()).await })
            .await??
    };
    Ok(Listener(driver.spawn(relay(session, shared))))
}

/// Connects and listens; the connection's messages are read by a task of its own.
async fn open(connector: &Connector) -> StoreResult<Session> {
    let mut config = connector.config().clone();
    if config.get_application_name() == Some(APPLICATION_NAME) {
        config.application_name(LISTEN_APPLICATION_NAME);
    }
    let (client, mut connection) = config.connect(NoTls).await?;
    let (sender, payloads) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(note)) => {
                    if sender.send(note.payload().to_owned()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "PostgreSQL LISTEN connection lost");
                    break;
                }
            }
        }
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    Ok(Session {
        _client: client,
        payloads,
    })
}

/// Relays notifications until the store is dropped, reconnecting whenever the connection ends.
async fn relay(mut session: Session, shared: Arc<Shared>) {
    loop {
        while let Some(payload) = session.payloads.recv().await {
            match parse_payload(&payload) {
                Some(key) => refresh(&shared, &key).await,
                None => tracing::warn!(payload, "a task notification without provider/task_id"),
            }
        }
        session = reconnect(shared.pool.manager()).await;
        for key in shared.notifier.watched_tasks() {
            refresh(&shared, &key).await;
        }
    }
}

/// A new session, after as many attempts as it takes.
async fn reconnect(connector: &Connector) -> Session {
    let mut backoff = FIRST_BACKOFF;
    loop {
        tokio::time::sleep(backoff).await;
        match open(connector).await {
            Ok(session) => {
                tracing::info!("PostgreSQL LISTEN connection restored");
                return session;
            }
            Err(err) => {
                tracing::warn!(
                    error = %err,
                    retry_in_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
                    "PostgreSQL LISTEN reconnect"
                );
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Publishes the task's current state when a stream here waits on it.
async fn refresh(shared: &Shared, key: &TaskKey) {
    if !shared.notifier.is_watched(key) {
        return;
    }
    match load_task(shared, key).await {
        Ok(Some(event)) => shared.notifier.publish(event),
        Ok(None) => {}
        Err(err) => tracing::warn!(error = %err, "loading a notified task"),
    }
}
