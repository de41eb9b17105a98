-- The schema as the proxy made it before migrations were recorded: webhook tokens, tasks keyed
-- by the provider's task id, idempotency records. Every statement is IF NOT EXISTS, so on a
-- database an earlier proxy made this migration changes nothing and is only recorded.
--
-- Both backends run these files: the types are those SQLite and PostgreSQL both accept (SQLite
-- reads BIGINT as INTEGER, BOOLEAN as 0/1 and keeps BYTEA values as blobs).

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
