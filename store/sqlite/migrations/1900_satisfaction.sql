-- +goose Up
-- A resident's answer to "Are you satisfied?" after closure: one per
-- request (the primary key refuses a second), read by council reports.
-- at is encoded as events.at is.
CREATE TABLE satisfaction (
    request_id INTEGER PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    tenant_id  TEXT    NOT NULL,
    score      INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment    TEXT    NOT NULL DEFAULT '',
    at         INTEGER NOT NULL
);
