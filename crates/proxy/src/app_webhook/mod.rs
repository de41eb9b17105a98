//! Signed task events to the app's own backend (`APP_WEBHOOK_URL`), by the Standard Webhooks
//! specification.
//!
//! A task change the app asked for (`APP_WEBHOOK_EVENTS`: terminal statuses, or every change) is
//! written by the store to its outbox, the `app_events` table, in the transaction that changes
//! the task ([`event`] decides which changes and what the payload holds). The [`dispatch`] loop
//! leases due events from the store (one proxy at a time when several share a database, as polls
//! are leased), signs each ([`sign`]) and POSTs it; a delivery that fails is tried again on the
//! schedule of [`retry`] (exponential, with jitter, for 24 h), and a 410 answer stops every
//! delivery to that URL. Delivery is at least once: a receiver tells repeats by `webhook-id`.

pub mod dispatch;
pub mod event;
pub mod retry;
pub mod sign;

pub use dispatch::{spawn_dispatch, AppWebhook, AppWebhookError};
pub use event::{AppEvents, AppOutbox};
