//! One provider served alone by the proxy (`Config::try_from_args_for(&[adapter], ...)`) in front
//! of that provider's fake (its own test file's), a proxy that can be stopped and started again
//! on the same database.

use super::logs::log_text;
use super::{spawn_proxy, Proxy};
use faceswap_core::provider::Adapter;
use faceswap_proxy::Config;
use std::path::Path;

/// A proxy that can be stopped: its server and its sweeps are aborted on drop.
pub struct Running {
    /// The proxy.
    pub proxy: Proxy,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl std::ops::Deref for Running {
    type Target = Proxy;

    fn deref(&self) -> &Proxy {
        &self.proxy
    }
}

/// What the proxy of [`serve`] is given.
pub struct Alone<'a> {
    /// The provider.
    pub adapter: &'static dyn Adapter,
    /// Its base URL (its fake's, or the sandbox's).
    pub upstream: &'a str,
    /// The operator's key, if any.
    pub key: Option<&'a str>,
    /// The SQLite file of the tasks (the uploads go next to it).
    pub db: &'a Path,
    /// The provider's own defaults, flag and value, used unless `flags` names the flag.
    pub defaults: &'a [(&'a str, &'a str)],
}

/// Starts a proxy serving `alone.adapter` only, with `flags` after its defaults: `--public-url`
/// (its own address), `--database-url` (`alone.db`), `--upload-dir`, the provider's base URL
/// and key, `--rate-limit-per-min 100000` and `alone.defaults`, each unless `flags` names it.
/// The captured log ([`log_text`]) is on.
pub async fn serve(alone: Alone<'_>, flags: &[&str]) -> Running {
    log_text();
    let id = alone.adapter.info().id;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let db = format!("sqlite://{}", alone.db.display());
    let uploads = alone.db.with_extension("uploads").display().to_string();
    let (base_url, api_key) = (format!("--{id}-base-url"), format!("--{id}-api-key"));
    let mut defaults = vec![
        ("--public-url", url.as_str()),
        ("--database-url", db.as_str()),
        ("--upload-dir", uploads.as_str()),
        (base_url.as_str(), alone.upstream),
        ("--rate-limit-per-min", "100000"),
    ];
    if let Some(key) = alone.key {
        defaults.push((api_key.as_str(), key));
    }
    defaults.extend_from_slice(alone.defaults);
    let mut args = vec!["faceswap-proxy".to_owned()];
    for (flag, value) in defaults {
        if !flags.contains(&flag) {
            args.extend([flag.to_owned(), value.to_owned()]);
        }
    }
    args.extend(flags.iter().map(|s| (*s).to_owned()));
    let config = Config::try_from_args_for(&[alone.adapter], args).expect("flags");
    let dir = tempfile::tempdir().expect("tempdir");
    let (proxy, tasks) = spawn_proxy(config, listener, dir, None).await;
    Running { proxy, tasks }
}
