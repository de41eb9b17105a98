-- What a provider reported about a task's result file, and the polls that could not be read.
--
-- `result_info`: the neutral result metadata (`{"width","height","size"}`, each where the
-- provider reported it: AceData's `image_width`, `image_height`, `image_size`) as JSON text,
-- written with the result; NULL when nothing was reported.
--
-- `poll_unreadable`: how many status answers in a row the adapter could not read; a readable
-- answer sets it back to 0, and the poller fails the task after a few (instead of polling until
-- the deadline, each poll spending a request of the provider's budget).
--
-- Both backends run this file (ADD COLUMN with a constant default is the same in SQLite and
-- PostgreSQL).

ALTER TABLE tasks ADD COLUMN result_info TEXT;
ALTER TABLE tasks ADD COLUMN poll_unreadable BIGINT NOT NULL DEFAULT 0;
