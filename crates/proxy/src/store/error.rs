//! The store's error type. Its texts never hold the database password: tokio-postgres never
//! prints its settings, and the store names a database only by [`super::postgres`]'s
//! password-free description.

use super::postgres::ConnectError;

/// A failure of the store itself (I/O, the database, a corrupt row); shown to clients only as
/// `internal`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed (the server's message and SQLSTATE code, or the client's error chain).
    #[error("PostgreSQL: {}", super::postgres::describe_error(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// No pooled PostgreSQL connection could be had.
    #[error("{}", super::postgres::describe_pool_error(.0))]
    Pool(#[from] deadpool::managed::PoolError<ConnectError>),
    /// The PostgreSQL pool could not be built.
    #[error("PostgreSQL pool: {0}")]
    PoolBuild(#[from] deadpool::managed::BuildError),
    /// `DATABASE_URL` names PostgreSQL but does not parse.
    #[error("invalid DATABASE_URL: {}", super::postgres::describe_error(.0))]
    InvalidUrl(#[source] tokio_postgres::Error),
    /// `DATABASE_URL` names neither backend.
    #[error("DATABASE_URL must be sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE")]
    UnsupportedUrl,
    /// A value could not be written or read as JSON.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The system gave no randomness for an app event's id.
    #[error("no randomness for an event id: {0}")]
    Random(#[from] getrandom::Error),
    /// A file operation failed (the SQLite database's folder).
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A blocking or driver task of the store panicked or was cancelled.
    #[error("store task: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// A stored value the store does not know (a status word, a cost unit, a negative count):
    /// the row is reported, never read as some default.
    #[error("corrupt row: {column} holds {value:?}")]
    Corrupt {
        /// The table and column (`tasks.status`).
        column: &'static str,
        /// What it holds.
        value: String,
    },
    /// The database was migrated by a newer proxy.
    #[error("the database schema is at version {found}, newer than this proxy's {known}")]
    NewerSchema {
        /// The newest migration recorded in the database.
        found: i64,
        /// The newest migration this proxy knows.
        known: i64,
    },
    /// A task cannot be bound to this token.
    #[error("cannot bind the task: {0}")]
    Bind(&'static str),
    /// A task written in this transaction could not be read back.
    #[error("task {provider}/{task_id} vanished")]
    Vanished {
        /// The task's provider.
        provider: String,
        /// The task's id.
        task_id: String,
    },
    /// Concurrent submits kept removing and re-creating one idempotency record.
    #[error("the idempotency record kept changing")]
    Contended,
    /// An error at a named database (its password-free description).
    #[error("{place}: {source}")]
    At {
        /// Where: `postgres://USER@HOST:PORT/DB`.
        place: String,
        /// What failed there.
        source: Box<StoreError>,
    },
}

impl StoreError {
    /// A corrupt value of `column`.
    pub fn corrupt(column: &'static str, value: impl std::fmt::Display) -> Self {
        StoreError::Corrupt {
            column,
            value: value.to_string(),
        }
    }

    /// This error, said to have happened at `place`.
    pub fn at(self, place: &str) -> Self {
        StoreError::At {
            place: place.to_owned(),
            source: Box::new(self),
        }
    }
}

/// Result of the store's operations.
pub type StoreResult<T> = Result<T, StoreError>;
