-- +goose Up
-- Requests imported from a municipality's earlier system (pinward import).
-- source and source_id are the system and its own ID for the row (NULL for
-- requests made in pinward); the unique index makes a second import of the
-- same file change nothing. The source's status, channel and category text
-- are kept as published beside the values they were mapped to.
--
-- located: a row from a file without coordinates keeps the source's ward
-- and no point; it counts in reports but never on the map, in tiles,
-- Open311 lists or clusters. Its geom is POINT(0 0), never read.
-- close_time_known: false when the source says a request is closed but not
-- when (updated_at is then the received time); reports leave such rows out
-- of the time to close.
ALTER TABLE requests ADD COLUMN source text;
ALTER TABLE requests ADD COLUMN source_id text;
ALTER TABLE requests ADD COLUMN source_status text NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN source_channel text NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN source_category text NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN located boolean NOT NULL DEFAULT true;
ALTER TABLE requests ADD COLUMN close_time_known boolean NOT NULL DEFAULT true;
CREATE UNIQUE INDEX requests_source ON requests (tenant_id, source, source_id) WHERE source IS NOT NULL;

