-- Per-client limits shared by every proxy on one database: fixed-window counters. `scope` is
-- `rate` (requests, one-minute windows) or `spend:{provider}` (the provider's unit, one-hour
-- windows); `client` is the client's address; `window_ms` the start of the window; `used` what
-- the window has taken, in thousandths of the unit (integers add up exactly on both backends).
-- A counter is taken by one atomic `INSERT ... ON CONFLICT DO UPDATE ... WHERE used + n <= cap`,
-- and rows of ended windows are pruned.

CREATE TABLE IF NOT EXISTS limit_counters (
    scope     TEXT NOT NULL,
    client    TEXT NOT NULL,
    window_ms BIGINT NOT NULL,
    used      BIGINT NOT NULL,
    PRIMARY KEY (scope, client, window_ms)
);
CREATE INDEX IF NOT EXISTS limit_counters_window ON limit_counters(window_ms);
