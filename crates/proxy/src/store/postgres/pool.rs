//! Pooled PostgreSQL connections whose drivers all run on one chosen runtime.
//!
//! A tokio-postgres connection is two halves: the `Client` that sends queries and the
//! `Connection` future that does the socket I/O. The proxy serves on several single-threaded
//! runtimes (one per worker thread) beside a background runtime; a connection made on a worker
//! runtime would be driven only while that runtime runs, yet the pool hands it to any worker.
//! So every connection is opened, and its driver spawned, on the runtime whose [`Handle`] is
//! given here (the binary's background runtime), and the clients are used from anywhere.

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use std::collections::HashMap;
use std::time::Duration;
use tokio::runtime::Handle;
use tokio_postgres::{Client, GenericClient, NoTls, Statement};

/// The pool of [`Conn`]s.
pub(super) type Pool = managed::Pool<Connector>;

/// Most connections one proxy opens for queries (the LISTEN connection is one more).
pub(super) const MAX_CONNECTIONS: usize = 16;

/// The `application_name` of the query connections, unless the URL sets one.
pub(super) const APPLICATION_NAME: &str = "faceswap-proxy";

/// How long a query waits for a free connection or for a new one to open.
const POOL_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a pooled connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// PostgreSQL refused or could not be reached.
    #[error("PostgreSQL: {}", describe_error(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// The connecting task on the driver runtime did not finish.
    #[error("PostgreSQL connect task: {0}")]
    Driver(#[from] tokio::task::JoinError),
}

/// The text of a PostgreSQL error: the server's message and SQLSTATE code, or the client's error
/// with its causes. It holds no password: tokio-postgres never prints the connection settings'
/// password.
pub fn describe_error(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut text = err.to_string();
            let mut source = std::error::Error::source(err);
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            text
        }
    }
}

/// The text of a pool failure: a failed connection as its own error, else what the pool says.
pub fn describe_pool_error(err: &managed::PoolError<ConnectError>) -> String {
    match err {
        managed::PoolError::Backend(err) => err.to_string(),
        other => format!("PostgreSQL pool: {other}"),
    }
}

/// Where the settings point, for messages: user, hosts, ports and database, never the password.
pub(super) fn describe(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    format!(
        "postgres://{}@{}:{}/{}",
        config.get_user().unwrap_or_default(),
        hosts.join(","),
        ports.join(","),
        config.get_dbname().unwrap_or_default()
    )
}

/// Opens connections on the driver runtime.
#[derive(Debug)]
pub(super) struct Connector {
    config: tokio_postgres::Config,
    driver: Handle,
}

impl Connector {
    /// A connector for `config` whose connections are driven on `driver`.
    pub(super) fn new(mut config: tokio_postgres::Config, driver: Handle) -> Self {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(POOL_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name(APPLICATION_NAME);
        }
        Self { config, driver }
    }

    /// The runtime that drives every connection.
    pub(super) fn driver(&self) -> &Handle {
        &self.driver
    }

    /// The connection settings.
    pub(super) fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// A pool over this connector.
    pub(super) fn into_pool(self) -> Result<Pool, managed::BuildError> {
        Pool::builder(self)
            .max_size(MAX_CONNECTIONS)
            .runtime(deadpool::Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .build()
    }
}

/// A pooled connection with the statements it has prepared.
#[derive(Debug)]
pub(super) struct Conn {
    /// The query half of the connection.
    pub(super) client: Client,
    /// Prepared statements by their SQL text.
    pub(super) statements: Statements,
}

/// A connection's prepared statements, kept apart from its client so that a transaction (which
/// borrows the client) can use them.
#[derive(Debug, Default)]
pub(super) struct Statements(HashMap<&'static str, Statement>);

impl Statements {
    /// The statement for `sql`, prepared on `client`'s connection the first time.
    pub(super) async fn get(
        &mut self,
        client: &impl GenericClient,
        sql: &'static str,
    ) -> Result<Statement, tokio_postgres::Error> {
        if let Some(statement) = self.0.get(sql) {
            return Ok(statement.clone());
        }
        let statement = client.prepare(sql).await?;
        self.0.insert(sql, statement.clone());
        Ok(statement)
    }
}

impl managed::Manager for Connector {
    type Type = Conn;
    type Error = ConnectError;

    async fn create(&self) -> Result<Conn, ConnectError> {
        let config = self.config.clone();
        let client = self
            .driver
            .spawn(async move {
                let (client, connection) = config.connect(NoTls).await?;
                tokio::spawn(async move {
                    if let Err(err) = connection.await {
                        tracing::warn!(error = %err, "PostgreSQL connection ended");
                    }
                });
                Ok::<_, tokio_postgres::Error>(client)
            })
            .await??;
        Ok(Conn {
            client,
            statements: Statements::default(),
        })
    }

    async fn recycle(&self, conn: &mut Conn, _: &Metrics) -> RecycleResult<ConnectError> {
        if conn.client.is_closed() {
            return Err(RecycleError::message("the connection is closed"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_hold_no_password() {
        let config: tokio_postgres::Config = "postgres://proxy:s3cret-pw@db.internal:6543/tasks"
            .parse()
            .expect("URL");
        let text = describe(&config);
        assert_eq!(text, "postgres://proxy@db.internal:6543/tasks");
        assert!(!format!("{config:?}").contains("s3cret-pw"));
    }
}
