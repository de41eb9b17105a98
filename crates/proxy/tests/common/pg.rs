//! A throwaway PostgreSQL server for the tests: `initdb` into a temporary folder, `postgres` on a
//! free loopback port (fsync off), one fresh database per test, stopped when the last test of
//! the binary that uses it lets go of it.
//!
//! As root (CI runs as root) the server runs as the `postgres` user, since PostgreSQL refuses to
//! run as root. Without a PostgreSQL server installed the tests fail and name
//! `scripts/setup.sh --test`; `FACESWAP_SKIP_POSTGRES_TESTS=1` skips them instead.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// The running server.
pub struct PgServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

static SHARED: Mutex<Weak<PgServer>> = Mutex::new(Weak::new());
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// The server shared by the tests that run at the same time, started when none runs; `None`
/// (after a printed note) when `FACESWAP_SKIP_POSTGRES_TESTS=1`. Panics, naming the set-up
/// script, when no PostgreSQL server is installed.
pub fn server() -> Option<Arc<PgServer>> {
    if std::env::var("FACESWAP_SKIP_POSTGRES_TESTS").is_ok_and(|v| v == "1") {
        // Straight to stderr: libtest would swallow `eprintln!` of a passing test.
        static NOTE: std::sync::Once = std::sync::Once::new();
        NOTE.call_once(|| {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "note: FACESWAP_SKIP_POSTGRES_TESTS=1: the PostgreSQL tests pass without running"
            );
        });
        return None;
    }
    let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(server) = shared.upgrade() {
        return Some(server);
    }
    let server = Arc::new(PgServer::start());
    *shared = Arc::downgrade(&server);
    Some(server)
}

/// The folder with `initdb` and `postgres`: the newest /usr/lib/postgresql/*/bin, else PATH.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|dir| dir.join("postgres").is_file() && dir.join("initdb").is_file())
    });
    on_path.unwrap_or_else(|| {
        panic!(
            "no PostgreSQL server found (looked for /usr/lib/postgresql/*/bin/postgres and \
             postgres + initdb on PATH): run `scripts/setup.sh --test`, which installs Debian's \
             postgresql package, or set FACESWAP_SKIP_POSTGRES_TESTS=1 to skip these tests"
        )
    })
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A command for a PostgreSQL program: as root, run as the `postgres` user.
fn pg_command(program: &Path) -> Command {
    if running_as_root() {
        let mut command = Command::new("setpriv");
        command
            .args([
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "--",
            ])
            .arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Where the temporary folder goes: the system's temp folder, or /tmp when (as root) the
/// `postgres` user could not reach it.
fn temp_base() -> PathBuf {
    let base = std::env::temp_dir();
    if !running_as_root() {
        return base;
    }
    let reachable = base
        .ancestors()
        .all(|dir| std::fs::metadata(dir).is_ok_and(|m| m.mode() & 0o001 != 0));
    if reachable {
        base
    } else {
        PathBuf::from("/tmp")
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

impl PgServer {
    fn start() -> Self {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("faceswap-pg-")
            .tempdir_in(temp_base())
            .expect("temporary folder");
        if running_as_root() {
            let status = Command::new("chown")
                .arg("postgres:")
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(
                status.success(),
                "chown to the postgres user (does it exist?)"
            );
        }
        let data = dir.path().join("data");
        let log = dir.path().join("initdb.log");
        let output = pg_command(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "--no-sync", "--no-locale"])
            .args(["-E", "UTF8"])
            // A working folder the postgres user can enter, whatever the caller's is.
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run initdb");
        std::fs::write(&log, [&output.stdout[..], &output.stderr[..]].concat()).ok();
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let log_path = dir.path().join("postgres.log");
        let log_file = std::fs::File::create(&log_path).expect("server log");
        let port = free_port();
        let child = pg_command(&bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(dir.path())
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=300"])
            .args(["-c", "shared_buffers=16MB"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log"))
            .stderr(log_file)
            .spawn()
            .expect("start postgres");
        let mut server = Self { child, port, dir };
        server.wait_ready(&data, &log_path);
        server
    }

    /// Waits for postmaster.pid to say "ready".
    fn wait_ready(&mut self, data: &Path, log: &Path) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = std::fs::read_to_string(data.join("postmaster.pid"))
                .is_ok_and(|pid| pid.lines().nth(7).is_some_and(|s| s.trim() == "ready"));
            if ready {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "postgres exited ({status}): {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "postgres did not start: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The URL of the server's `postgres` database.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// A new empty database; its URL.
    pub async fn database(&self) -> String {
        let name = format!(
            "test_{}_{}",
            std::process::id(),
            DATABASES.fetch_add(1, Ordering::Relaxed)
        );
        self.execute(&format!("CREATE DATABASE {name}")).await;
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs SQL on the `postgres` database.
    pub async fn execute(&self, sql: &str) {
        let (client, connection) =
            tokio_postgres::connect(&self.admin_url(), tokio_postgres::NoTls)
                .await
                .expect("connect to the test server");
        let driver = tokio::spawn(connection);
        client.batch_execute(sql).await.expect("SQL");
        drop(client);
        let _ = driver.await;
    }

    /// The URL of a new empty database, reached over the server's Unix socket.
    pub async fn socket_database(&self) -> String {
        let url = self.database().await;
        let name = url.rsplit('/').next().expect("database name").to_owned();
        let socket_dir: String = self
            .dir()
            .display()
            .to_string()
            .replace('%', "%25")
            .replace('/', "%2F");
        format!("postgres://postgres@{socket_dir}:{}/{name}", self.port)
    }

    /// The first column of the first row of a query on the `postgres` database, as text.
    pub async fn query_text(&self, sql: &str) -> String {
        let (client, connection) =
            tokio_postgres::connect(&self.admin_url(), tokio_postgres::NoTls)
                .await
                .expect("connect to the test server");
        let driver = tokio::spawn(connection);
        let row = client.query_one(sql, &[]).await.expect("SQL");
        let text: String = row.try_get(0).expect("a text column");
        drop(client);
        let _ = driver.await;
        text
    }

    /// The folder of the server's files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // SIGINT: PostgreSQL's fast shutdown.
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
