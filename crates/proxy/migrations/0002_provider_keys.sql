-- Tasks and tokens per provider: two providers may use the same task id, so a task is keyed by
-- (provider, task_id). Every existing row is aifaceswap's, the only provider before this.
--
-- Tokens: the provider, the hash of a per-task callback secret (for providers that echo one),
-- and the early callback held as the neutral update (`held_update`). Held aifaceswap callbacks
-- are copied as they are; the store rewrites them as neutral updates right after this script,
-- in the same transaction.
--
-- Tasks: the cost the proxy charged (amount and unit), the provider's reason for a failure, and
-- the polling state: when the next poll is due (NULL: never polled), how many polls were made,
-- and until when one proxy holds the poll's lease.
--
-- SQLite cannot change a primary key in place: each table is rebuilt under a new name, filled,
-- and renamed.

DROP INDEX IF EXISTS hook_tokens_unbound;
CREATE TABLE hook_tokens_v2 (
    token_hash  TEXT PRIMARY KEY,
    provider    TEXT NOT NULL,
    operation   TEXT NOT NULL,
    task_id     TEXT,
    secret_hash TEXT,
    held_update TEXT,
    created_ms  BIGINT NOT NULL
);
INSERT INTO hook_tokens_v2 (token_hash, provider, operation, task_id, held_update, created_ms)
    SELECT token_hash, 'aifaceswap', operation, task_id, held_callback, created_ms
    FROM hook_tokens;
DROP TABLE hook_tokens;
ALTER TABLE hook_tokens_v2 RENAME TO hook_tokens;
CREATE INDEX hook_tokens_unbound ON hook_tokens(created_ms) WHERE task_id IS NULL;

DROP INDEX IF EXISTS tasks_pending_deadline;
CREATE TABLE tasks_v2 (
    provider       TEXT NOT NULL,
    task_id        TEXT NOT NULL,
    token_hash     TEXT NOT NULL,
    operation      TEXT NOT NULL,
    status         TEXT NOT NULL,
    kind           BIGINT,
    result_url     TEXT,
    points         BIGINT,
    cost_amount    DOUBLE PRECISION,
    cost_unit      TEXT,
    error          TEXT,
    created_ms     BIGINT NOT NULL,
    updated_ms     BIGINT NOT NULL,
    deadline_ms    BIGINT NOT NULL,
    next_poll_ms   BIGINT,
    poll_attempts  BIGINT NOT NULL,
    lease_until_ms BIGINT,
    version        BIGINT NOT NULL,
    PRIMARY KEY (provider, task_id)
);
INSERT INTO tasks_v2 (provider, task_id, token_hash, operation, status, kind, result_url, points,
        created_ms, updated_ms, deadline_ms, poll_attempts, version)
    SELECT 'aifaceswap', task_id, token_hash, operation, status, kind, result_url, points,
        created_ms, updated_ms, deadline_ms, 0, version
    FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_v2 RENAME TO tasks;
CREATE INDEX tasks_pending_deadline ON tasks(deadline_ms) WHERE status = 'pending';
CREATE INDEX tasks_poll_due ON tasks(next_poll_ms) WHERE status = 'pending';
