//! The `faceswap-proxy` binary: configuration, logging, the providers (with `SANDBOX=on`, the
//! built-in sandbox for those without a key), the listener, the metrics listener
//! (`METRICS_ADDR`), maintenance and graceful shutdown.

use faceswap_proxy::{
    app, serve, spawn_maintenance, telemetry, AppState, Config, ConnectionLimits, LogFormat,
    Providers,
};
use std::io::IsTerminal;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// jemalloc: glibc's malloc and free were about a sixth of a forward's samples (perf).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::from_env_and_args();
    init_logging(config.observability.log_format);
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("faceswap-proxy: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stdout as `LOG_FORMAT` says, filtered by `RUST_LOG` (default `info`).
fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        // Colours only on a terminal, not in log files.
        LogFormat::Text => logs.with_ansi(std::io::stdout().is_terminal()).init(),
        // One object per line: the event's fields, its level, target and time, and the fields
        // of the span it happened in (the request's method, path and client).
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .flatten_event(true)
            .init(),
    }
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let listener =
        tokio::net::TcpListener::bind((config.listen.host.as_str(), config.listen.port)).await?;
    // METRICS_ADDR: Prometheus metrics on a listener of their own, never the public one.
    let metrics = match config.observability.metrics_addr {
        Some(addr) => {
            let handle = telemetry::install()?;
            let metrics_listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| telemetry::MetricsError::Listen { addr, source })?;
            tracing::info!(address = %metrics_listener.local_addr()?, "metrics listening");
            Some((metrics_listener, handle))
        }
        None => None,
    };
    // With SANDBOX=on the sandbox answers the served providers without a key; it stops when
    // `_sandbox` drops.
    #[cfg(feature = "sandbox")]
    let (sandbox, _sandbox) = if faceswap_proxy::providers::needs_builtin_sandbox(&config)? {
        let (endpoint, running) = faceswap_proxy::sandbox::start(&config).await?;
        (Some(endpoint), Some(running))
    } else {
        (None, None)
    };
    #[cfg(not(feature = "sandbox"))]
    let sandbox = None;
    let providers = Providers::resolve(&config, sandbox.as_ref())?;
    for provider in providers.iter() {
        tracing::info!(
            provider = provider.id(),
            mode = ?provider.mode,
            upstream = %provider.target.base_url,
            "provider"
        );
    }
    // A provider that calls back a PUBLIC_URL it cannot reach never delivers a result.
    for warning in faceswap_proxy::reachability::callback_warnings(&config, &providers) {
        tracing::warn!("{warning}");
    }
    tracing::info!(address = %listener.local_addr()?, "faceswap-proxy listening");
    let state = AppState::new(config, providers).await?;
    let maintenance = spawn_maintenance(state.clone());
    let shutdown = state.shutdown.clone();
    if let Some((metrics_listener, handle)) = metrics {
        tokio::spawn(telemetry::serve(
            metrics_listener,
            handle,
            shutdown.clone().cancelled_owned(),
        ));
    }
    let limits = ConnectionLimits::from_config(&state.config);
    tracing::info!(
        max_connections = limits.max_connections,
        max_connections_per_client = limits.max_connections_per_client,
        header_read_timeout_ms = limits.header_read_timeout.as_millis(),
        "connection limits"
    );
    match faceswap_proxy::serve::open_file_limit() {
        Some(files) => {
            if let Some(warning) = limits.file_limit_warning(files) {
                tracing::warn!("{warning}");
            }
        }
        None => tracing::debug!("the open-file limit is unknown here"),
    }
    serve(listener, app(state), limits, async move {
        shutdown_signal().await;
        // Ends the event streams too, which would otherwise hold the shutdown open.
        shutdown.cancel();
    })
    .await;
    maintenance.abort();
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %err, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
