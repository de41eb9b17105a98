-- Uploads stored in the database, so that every proxy sharing it serves every upload
-- (UPLOAD_STORE=postgres, the default with PostgreSQL). One row of metadata per upload, and its
-- bytes in chunks of at most 1 MiB, numbered from 0: an upload is written and read a chunk at a
-- time, never whole in memory. Removing an upload's row removes its chunks.
--
-- Both backends run this file; with SQLite (whose uploads stay on local disk by default) the
-- tables are made and stay empty.

CREATE TABLE IF NOT EXISTS uploads (
    name         TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    created_ms   BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_created ON uploads(created_ms);

CREATE TABLE IF NOT EXISTS upload_chunks (
    name  TEXT NOT NULL REFERENCES uploads(name) ON DELETE CASCADE,
    idx   BIGINT NOT NULL,
    data  BYTEA NOT NULL,
    PRIMARY KEY (name, idx)
);
