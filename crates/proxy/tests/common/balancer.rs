//! Two `faceswap-proxy` binaries on one PostgreSQL database, each with its own `UPLOAD_DIR`,
//! behind Debian's nginx balancing round-robin: the deployment of several proxies, on loopback.
//!
//! nginx runs as the test's user from a temporary folder (`nginx -p DIR -c DIR/nginx.conf -e
//! DIR/error.log -g 'daemon off;'`), on free-picked ports; every proxy's `PUBLIC_URL` is the
//! balancer's. nginx runs as a single process (`master_process off`), so that the kill when the
//! harness is dropped leaves no worker behind. Without nginx the tests fail and name `scripts/setup.sh --test`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::pg::{self, PgServer};
use super::{Fake, KEY};

/// A running child process, killed when dropped.
pub struct Process {
    child: Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One proxy behind the balancer.
pub struct Member {
    /// Its own address (not the balancer's), `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT`, as nginx's `$upstream_addr` names it.
    pub addr: String,
    /// Its `UPLOAD_DIR`.
    pub upload_dir: PathBuf,
    /// Its log file.
    pub log: PathBuf,
    _process: Process,
}

/// nginx in front of two proxies on one database.
pub struct Balancer {
    /// The balancer's address, every proxy's `PUBLIC_URL`.
    pub url: String,
    /// The proxies, in the order of the nginx `upstream` block.
    pub members: Vec<Member>,
    /// The shared database's URL.
    pub database: String,
    _nginx: Process,
    dir: tempfile::TempDir,
    _server: Arc<PgServer>,
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// nginx: `/usr/sbin/nginx` (Debian's), else on PATH; a panic naming the set-up script if none.
fn nginx_binary() -> PathBuf {
    let debian = PathBuf::from("/usr/sbin/nginx");
    if debian.is_file() {
        return debian;
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("nginx"))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "no nginx found (looked for /usr/sbin/nginx and nginx on PATH): run \
                 `scripts/setup.sh --test`, which installs Debian's nginx package"
            )
        })
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The nginx configuration: round-robin over `upstreams`, unbuffered (event streams and
/// uploads pass as they come), every answer naming the proxy that gave it (`X-Upstream`).
fn nginx_conf(dir: &Path, port: u16, upstreams: &[String]) -> String {
    let d = dir.display();
    // As root, nginx would hand its workers to `nobody`, who cannot read the temporary folder.
    let user = if running_as_root() {
        "user root root;"
    } else {
        ""
    };
    let servers: String = upstreams
        .iter()
        .map(|addr| format!("        server {addr} max_fails=0;\n"))
        .collect();
    format!(
        "{user}
# One process, no workers: killing it (when the test ends) leaves no orphan behind.
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    client_max_body_size 200m;
    upstream proxies {{
{servers}        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://proxies;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 60s;
            proxy_next_upstream off;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"
    )
}

/// Waits until `url` answers 200.
async fn wait_healthy(url: &str, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(url).await {
            if r.status() == 200 {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not start: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts one proxy binary on `port` with the shared `database`, `public_url` the balancer.
async fn start_member(
    dir: &Path,
    name: &str,
    port: u16,
    fake: &Fake,
    database: &str,
    public_url: &str,
    extra_env: &[(&str, &str)],
) -> Member {
    let home = dir.join(name);
    std::fs::create_dir_all(&home).expect("member folder");
    let log = home.join("proxy.log");
    let out = std::fs::File::create(&log).expect("log");
    let err = out.try_clone().expect("log");
    let upload_dir = home.join("uploads");
    let url = format!("http://127.0.0.1:{port}");
    let mut command = Command::new(env!("CARGO_BIN_EXE_faceswap-proxy"));
    for provider in ["PIAPI", "ACEDATA", "AIPHOTOCRAFT"] {
        command
            .env_remove(format!("{provider}_BASE_URL"))
            .env_remove(format!("{provider}_API_KEY"));
    }
    let child = command
        .env_remove("ACEDATA_DELIVERY")
        .env_remove("PROVIDERS")
        .env("SANDBOX", "on")
        .env_remove("FETCH_ALLOWED_ORIGINS")
        .env_remove("FETCH_ALLOW_PRIVATE")
        .env_remove("ALLOWED_ORIGINS")
        .env_remove("UPLOAD_STORE")
        .env("AIFACESWAP_BASE_URL", &fake.url)
        .env("AIFACESWAP_API_KEY", KEY)
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("PUBLIC_URL", public_url)
        .env("DATABASE_URL", database)
        .env("UPLOAD_DIR", &upload_dir)
        .env("WWW_DIR", home.join("www"))
        .env("PKG_DIR", home.join("pkg"))
        .env("RATE_LIMIT_PER_MIN", "100000")
        .env("SPEND_CAP_CREDITS_PER_HOUR", "1000000")
        .env("SSE_KEEPALIVE_MS", "200")
        .env("RUST_LOG", "info")
        .envs(extra_env.iter().copied())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("spawn the proxy");
    let process = Process { child };
    wait_healthy(&format!("{url}/healthz"), name, &log).await;
    Member {
        url,
        addr: format!("127.0.0.1:{port}"),
        upload_dir,
        log,
        _process: process,
    }
}

impl Balancer {
    /// nginx in front of two proxies on a new database of the shared test server, with `fake`
    /// as aifaceswap's upstream and `extra_env` for both proxies; `None` when the PostgreSQL
    /// tests are skipped (`FACESWAP_SKIP_POSTGRES_TESTS=1`).
    pub async fn start(fake: &Fake, extra_env: &[(&str, &str)]) -> Option<Self> {
        let server = pg::server()?;
        let nginx = nginx_binary();
        let database = server.database().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let (a, b) = tokio::join!(
            start_member(
                dir.path(),
                "a",
                free_port(),
                fake,
                &database,
                &url,
                extra_env
            ),
            start_member(
                dir.path(),
                "b",
                free_port(),
                fake,
                &database,
                &url,
                extra_env
            ),
        );
        let members = vec![a, b];
        let upstreams: Vec<String> = members.iter().map(|m| m.addr.clone()).collect();
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, nginx_conf(dir.path(), port, &upstreams)).expect("nginx.conf");
        let error_log = dir.path().join("error.log");
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(&error_log)
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nginx");
        let nginx = Process { child };
        wait_healthy(&format!("{url}/healthz"), "nginx", &error_log).await;
        Some(Self {
            url,
            members,
            database,
            _nginx: nginx,
            dir,
            _server: server,
        })
    }

    /// The member whose `addr` nginx named in `X-Upstream`.
    pub fn member_of(&self, response: &reqwest::Response) -> usize {
        let upstream = response
            .headers()
            .get("x-upstream")
            .and_then(|v| v.to_str().ok())
            .expect("X-Upstream");
        self.members
            .iter()
            .position(|m| m.addr == upstream)
            .unwrap_or_else(|| panic!("unknown upstream {upstream}"))
    }

    /// Every proxy's log and nginx's error log, for failure messages.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        for member in &self.members {
            text.push_str(&std::fs::read_to_string(&member.log).unwrap_or_default());
        }
        text.push_str(
            &std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default(),
        );
        text
    }
}
