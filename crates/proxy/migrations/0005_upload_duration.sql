-- A stored video's duration, read from its container when it was uploaded (MP4/MOV movie
-- header, WebM Segment Info), in milliseconds; NULL for images and for videos whose container
-- gives none. A submit naming the upload is priced by it.
--
-- Both backends run this file; with SQLite (whose uploads stay on local disk by default) the
-- column is added and stays empty.

ALTER TABLE uploads ADD COLUMN duration_ms BIGINT;
