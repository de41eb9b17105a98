-- Results the proxy keeps (KEEP_RESULTS): a succeeded task's result copied into the results
-- store and served at PUBLIC_URL/results/{provider}/{task_id}.
--
-- `provider_result_url`: the provider's URL of the result, when the proxy keeps results (then
-- `result_url` is the proxy's own URL of its copy); NULL otherwise.
-- `kept_result`: the name of the copy in the results store, once copied.
-- `keep_attempts`, `keep_next_ms`, `keep_lease_until_ms`: failed copies, when to try again, and
-- the lease of the proxy copying it (one at a time when several share a database).
--
-- Both backends run this file.

ALTER TABLE tasks ADD COLUMN provider_result_url TEXT;
ALTER TABLE tasks ADD COLUMN kept_result TEXT;
ALTER TABLE tasks ADD COLUMN keep_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN keep_next_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN keep_lease_until_ms BIGINT;
