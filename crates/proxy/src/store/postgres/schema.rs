//! The PostgreSQL schema, created at start. Several proxies may start at once on an empty
//! database: concurrent `CREATE TABLE IF NOT EXISTS` can still collide in PostgreSQL's catalogs,
//! so the creation runs in one transaction under a transaction-scoped advisory lock.

use tokio_postgres::Client;

use super::pool::pg_err;
use crate::store::StoreResult;

/// The advisory lock key of the schema creation ("faceswap" in ASCII).
const SCHEMA_LOCK: i64 = 0x6661_6365_7377_6170;

/// The channel of task changes; the payload is the task id.
pub(super) const CHANNEL: &str = "faceswap_tasks";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS hook_tokens (
    token_hash    TEXT PRIMARY KEY,
    operation     TEXT NOT NULL,
    task_id       TEXT,
    held_callback TEXT,
    created_ms    BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS hook_tokens_unbound ON hook_tokens(created_ms) WHERE task_id IS NULL;
CREATE TABLE IF NOT EXISTS tasks (
    task_id     TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL,
    operation   TEXT NOT NULL,
    status      TEXT NOT NULL,
    kind        BIGINT,
    result_url  TEXT,
    points      BIGINT,
    created_ms  BIGINT NOT NULL,
    updated_ms  BIGINT NOT NULL,
    deadline_ms BIGINT NOT NULL,
    version     BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_pending_deadline ON tasks(deadline_ms) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS idempotency (
    key         TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    done        BOOLEAN NOT NULL,
    status      INTEGER,
    body        BYTEA,
    created_ms  BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created_ms);
";

/// Creates the tables that do not exist yet.
pub(super) async fn create(client: &mut Client) -> StoreResult<()> {
    let tx = client.transaction().await.map_err(pg_err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .await
        .map_err(pg_err)?;
    tx.batch_execute(SCHEMA).await.map_err(pg_err)?;
    tx.commit().await.map_err(pg_err)
}
