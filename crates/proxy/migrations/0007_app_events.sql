-- The outbox of task events for the app's own backend (APP_WEBHOOK_URL).
--
-- `app_events`: one row per event still to deliver, written in the transaction of the task change
-- it reports. `id` is its `webhook-id` (the same on every try), `endpoint` the SHA-256 of the URL
-- it was queued for, `payload` the signed JSON body. A try leases the row (`lease_until_ms`) so
-- that one proxy sends it at a time; a failed try counts in `attempts` and sets
-- `next_attempt_ms`. A delivered (or given up) event is deleted.
--
-- `app_endpoints_gone`: endpoints that answered 410 Gone; nothing more is queued for them.
--
-- Both backends run this file.

CREATE TABLE IF NOT EXISTS app_events (
    id              TEXT PRIMARY KEY,
    endpoint        TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    next_attempt_ms BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    lease_until_ms  BIGINT
);
CREATE INDEX IF NOT EXISTS app_events_due ON app_events(next_attempt_ms);
CREATE INDEX IF NOT EXISTS app_events_endpoint ON app_events(endpoint);

CREATE TABLE IF NOT EXISTS app_endpoints_gone (
    endpoint TEXT PRIMARY KEY,
    gone_ms  BIGINT NOT NULL
);
