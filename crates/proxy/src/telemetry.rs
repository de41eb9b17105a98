//! The proxy's metrics, in Prometheus's text format on a listener of their own (`METRICS_ADDR`,
//! never the public port): every metric's name, help and labels are written here once, and the
//! rest of the proxy records through the functions below. Without `METRICS_ADDR` no recorder is
//! installed and recording costs next to nothing.
//!
//! Label values come from fixed sets only (registered provider ids, operation names, task
//! statuses, cost units, refusal kinds, outcomes): never a key, a token, a secret, a task id or a
//! client address.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use faceswap_core::provider::CostUnit;
use faceswap_core::TaskStatus;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// Tasks stored after a provider accepted their submit, by `provider`.
pub const TASKS_STARTED: &str = "faceswap_tasks_started_total";
/// Tasks that reached a terminal status, by `provider` and `status`.
pub const TASKS_FINISHED: &str = "faceswap_tasks_finished_total";
/// Seconds of each upstream call, by `provider` and `operation` (`poll` for status calls).
pub const UPSTREAM_DURATION: &str = "faceswap_upstream_duration_seconds";
/// What each settled submit spent, by `provider` and `unit`: `_sum` is the spend.
pub const SPEND: &str = "faceswap_spend";
/// Provider callbacks received, by `provider` and `outcome` (`accepted`, `refused`).
pub const WEBHOOKS: &str = "faceswap_webhooks_total";
/// The proxy's polls of providers, by `provider` and `outcome` (`answered`, `refused`).
pub const POLLS: &str = "faceswap_polls_total";
/// Event streams open now.
pub const EVENT_STREAMS: &str = "faceswap_event_streams_open";
/// Uploads stored.
pub const UPLOADS_STORED: &str = "faceswap_uploads_stored_total";
/// Uploads removed by the maintenance sweep.
pub const UPLOADS_SWEPT: &str = "faceswap_uploads_swept_total";
/// Requests refused by a limit, by `kind`.
pub const LIMIT_REFUSALS: &str = "faceswap_limit_refusals_total";

/// Upper bounds of the upstream latency histogram, in seconds (AceData's synchronous swap takes
/// minutes).
const LATENCY_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 330.0,
];

/// Upper bounds of the spend histogram, in the provider's unit (US dollars, credits, requests).
const SPEND_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.5, 1.0, 3.0, 5.0, 10.0, 50.0, 100.0, 500.0,
];

/// Why the metrics could not be served.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The recorder could not be built.
    #[error("cannot build the metrics recorder: {0}")]
    Build(#[from] metrics_exporter_prometheus::BuildError),
    /// Another metrics recorder is installed in this process.
    #[error("another metrics recorder is installed: {0}")]
    Install(#[from] metrics::SetRecorderError<metrics_exporter_prometheus::PrometheusRecorder>),
    /// `METRICS_ADDR` could not be listened on.
    #[error("cannot listen on METRICS_ADDR {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// The process's one recorder, installed on first use.
static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder (once per process; later calls give the same handle).
pub fn install() -> Result<PrometheusHandle, MetricsError> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(UPSTREAM_DURATION.into()), LATENCY_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(SPEND.into()), SPEND_BUCKETS)?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder)?;
    describe();
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// The `# HELP` lines.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        TASKS_STARTED,
        "Tasks stored after a provider accepted their submit."
    );
    describe_counter!(TASKS_FINISHED, "Tasks that reached a terminal status.");
    describe_histogram!(
        UPSTREAM_DURATION,
        Unit::Seconds,
        "Duration of each call to a provider (operation `poll`: a status call)."
    );
    describe_histogram!(
        SPEND,
        "What each settled submit spent at its provider, in the provider's unit; _sum is the spend."
    );
    describe_counter!(
        WEBHOOKS,
        "Provider callbacks received, accepted or refused."
    );
    describe_counter!(
        POLLS,
        "Status calls made to providers, answered or refused."
    );
    describe_gauge!(EVENT_STREAMS, "Server-sent event streams open now.");
    describe_counter!(UPLOADS_STORED, "Uploads stored.");
    describe_counter!(UPLOADS_SWEPT, "Uploads removed by the maintenance sweep.");
    describe_counter!(LIMIT_REFUSALS, "Requests refused by a limit, by kind.");
}

/// The metrics listener's router: `GET /metrics` in Prometheus's text format.
pub fn router(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                // Histograms are folded and idle entries dropped here, on each scrape.
                handle.run_upkeep();
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    handle.render(),
                )
                    .into_response()
            }
        }),
    )
}

/// Serves [`router`] on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    handle: PrometheusHandle,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    if let Err(err) = axum::serve(listener, router(handle))
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!(error = %err, "the metrics listener stopped");
    }
}

/// A provider accepted a submit and its task is stored.
pub fn task_started(provider: &str) {
    metrics::counter!(TASKS_STARTED, "provider" => provider.to_owned()).increment(1);
}

/// A task reached the terminal `status`.
pub fn task_finished(provider: &str, status: TaskStatus) {
    metrics::counter!(TASKS_FINISHED, "provider" => provider.to_owned(), "status" => status.as_str())
        .increment(1);
}

/// An upstream call of `operation` took `elapsed`.
pub fn upstream_call(provider: &str, operation: &'static str, elapsed: Duration) {
    metrics::histogram!(UPSTREAM_DURATION, "provider" => provider.to_owned(), "operation" => operation)
        .record(elapsed.as_secs_f64());
}

/// A settled submit spent `amount` of `unit` at `provider`.
pub fn spent(provider: &str, unit: CostUnit, amount: f64) {
    if amount.is_finite() && amount >= 0.0 {
        metrics::histogram!(SPEND, "provider" => provider.to_owned(), "unit" => unit.as_str())
            .record(amount);
    }
}

/// A provider callback was received; `provider` is `None` when the path named no provider this
/// proxy serves.
pub fn webhook(provider: Option<&'static str>, accepted: bool) {
    metrics::counter!(
        WEBHOOKS,
        "provider" => provider.unwrap_or("unknown"),
        "outcome" => if accepted { "accepted" } else { "refused" }
    )
    .increment(1);
}

/// A status call to `provider` was answered readably, or not.
pub fn poll(provider: &str, answered: bool) {
    metrics::counter!(
        POLLS,
        "provider" => provider.to_owned(),
        "outcome" => if answered { "answered" } else { "refused" }
    )
    .increment(1);
}

/// `count` uploads were stored.
pub fn uploads_stored(count: u64) {
    metrics::counter!(UPLOADS_STORED).increment(count);
}

/// `count` uploads were removed by the sweep.
pub fn uploads_swept(count: u64) {
    metrics::counter!(UPLOADS_SWEPT).increment(count);
}

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// A client's request rate (`RATE_LIMIT_PER_MIN`).
    Rate,
    /// A client's spend cap at a provider.
    Spend,
    /// A client's upload bytes per hour (`UPLOAD_BYTES_PER_HOUR`).
    UploadBytes,
    /// The shared limit counters could not be reached.
    Unavailable,
    /// A provider's own request budget is spent until its reset.
    ProviderBudget,
    /// A connection over `MAX_CONNECTIONS` or a client's share.
    Connections,
}

impl RefusalKind {
    /// The `kind` label.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalKind::Rate => "rate",
            RefusalKind::Spend => "spend",
            RefusalKind::UploadBytes => "upload_bytes",
            RefusalKind::Unavailable => "unavailable",
            RefusalKind::ProviderBudget => "provider_budget",
            RefusalKind::Connections => "connections",
        }
    }
}

/// A limit refused a request.
pub fn limit_refused(kind: RefusalKind) {
    metrics::counter!(LIMIT_REFUSALS, "kind" => kind.as_str()).increment(1);
}

/// An open event stream, counted until dropped.
#[derive(Debug)]
pub struct OpenStream(());

impl OpenStream {
    /// Counts a stream that has just opened.
    pub fn open() -> Self {
        metrics::gauge!(EVENT_STREAMS).increment(1.0);
        Self(())
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        metrics::gauge!(EVENT_STREAMS).decrement(1.0);
    }
}
