//! One harness for every registered provider: a proxy whose providers all have neither a key nor
//! a base URL, so the built-in sandbox answers each of them in-process (started by the proxy's own
//! [`faceswap_proxy::sandbox::start`], as the binary does), reached through a [`Recorder`] that
//! counts the upstream calls. Helpers upload the test photos, submit a provider's request, follow
//! a task to its end and read its event stream.

use super::client::{Answer, Field, Submission};
use super::media::test_media;
use super::recorder::Recorder;
use super::{serve_with_sandbox, Proxy};
use faceswap_proxy::providers::SandboxEndpoint;
use faceswap_proxy::Config;
use faceswap_sandbox::RunningSandbox;
use secrecy::ExposeSecret;
use serde_json::Value;

/// A proxy serving every registered provider through the built-in sandbox.
pub struct Sandboxed {
    /// The proxy.
    pub proxy: Proxy,
    /// The relay in front of the sandbox: every upstream call.
    pub upstream: Recorder,
    /// The sandbox's key (the operator's key of every provider here).
    pub api_key: String,
    /// The sandbox's own address (for its fault knobs), not the relay's.
    pub sandbox_url: String,
    _sandbox: RunningSandbox,
}

/// A test photo uploaded to the proxy.
#[derive(Debug, Clone)]
pub struct Image {
    /// Its file name.
    pub name: &'static str,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its URL on the proxy (`PUBLIC_URL/uploads/...`).
    pub url: String,
}

/// The two photos of a swap: the face to put in, and the photo it goes into.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The photo whose face is taken.
    pub face: Image,
    /// The photo whose face is replaced.
    pub target: Image,
}

impl Inputs {
    /// The same photos, each in the other's role: another request of the same operation.
    pub fn swapped(&self) -> Self {
        Self {
            face: self.target.clone(),
            target: self.face.clone(),
        }
    }
}

impl Image {
    /// This photo as a form's file field.
    pub fn file(&self) -> Field {
        Field::File(self.name.to_owned(), self.bytes.clone())
    }
}

/// Starts the sandbox and a proxy (SQLite in a temporary folder, polls every 50 ms) whose
/// providers all go to it through a [`Recorder`].
pub async fn start() -> Sandboxed {
    start_with(&[]).await
}

/// Like [`start`], with `extra` flags after the harness's own.
pub async fn start_with(extra: &[String]) -> Sandboxed {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let addr = listener.local_addr().expect("addr");
    let url = format!("http://{addr}");
    let args: Vec<String> = [
        "faceswap-proxy",
        "--port",
        &addr.port().to_string(),
        "--public-url",
        &url,
        "--upload-dir",
        &dir.path().join("uploads").display().to_string(),
        "--database-url",
        &format!("sqlite://{}", dir.path().join("tasks.db").display()),
        "--rate-limit-per-min",
        "100000",
        "--spend-cap-credits-per-hour",
        "1000000",
        "--poll-interval-ms",
        "50",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain(extra.iter().cloned())
    .collect();
    let mut config = Config::try_from_args(args).expect("flags");
    // Whatever the environment says, every provider is answered by the sandbox.
    config.served.providers.clear();
    config.served.sandbox = faceswap_proxy::Switch::On;
    for provider in &mut config.providers {
        provider.api_key = None;
        provider.base_url = None;
    }
    let (endpoint, sandbox) = faceswap_proxy::sandbox::start(&config)
        .await
        .expect("the built-in sandbox starts");
    let upstream = Recorder::start(&endpoint.base_url).await;
    let api_key = endpoint.api_key.expose_secret().to_owned();
    let relayed = SandboxEndpoint {
        base_url: upstream.url.clone(),
        api_key: endpoint.api_key.clone(),
    };
    let proxy = serve_with_sandbox(config, listener, dir, Some(&relayed)).await;
    Sandboxed {
        proxy,
        upstream,
        api_key,
        sandbox_url: endpoint.base_url.clone(),
        _sandbox: sandbox,
    }
}

impl Sandboxed {
    /// Uploads `camera.png` (the face) and `astronaut.png` (the target), two photos the
    /// sandbox finds one face in.
    pub async fn inputs(&self) -> Inputs {
        Inputs {
            face: self.upload("camera.png").await,
            target: self.upload("astronaut.png").await,
        }
    }

    /// Uploads the test photo `name` to the proxy.
    pub async fn upload(&self, name: &'static str) -> Image {
        let bytes = test_media(name);
        let url = self.proxy.upload("image/png", bytes.clone()).await;
        Image { name, bytes, url }
    }

    /// Sends `submission` to provider `id`, with an `Idempotency-Key` when `key` is given.
    pub async fn submit(&self, id: &str, submission: &Submission, key: Option<&str>) -> Answer {
        self.proxy.send(id, submission, key).await
    }

    /// The view of provider `id`'s task once it is no longer pending (within [`super::client::SWAP_TIME`]).
    pub async fn follow(&self, id: &str, task_id: &str) -> Value {
        self.proxy.follow(id, task_id).await
    }

    /// Every event of provider `id`'s task stream until the proxy ends it.
    pub async fn events(&self, id: &str, task_id: &str) -> Vec<(String, Value)> {
        self.proxy.events(id, task_id).await
    }

    /// Sets the sandbox's fault knobs (`faceswap_sandbox::faults::Faults`, as JSON; the rest
    /// off), through its loopback-only admin route.
    pub async fn faults(&self, faults: Value) {
        let response = reqwest::Client::new()
            .put(format!("{}/__sandbox/faults", self.sandbox_url))
            .json(&faults)
            .send()
            .await
            .expect("the sandbox's faults");
        assert_eq!(response.status(), 200, "faults {faults}");
    }
}
