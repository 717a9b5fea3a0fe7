-- +goose Up
-- A resident's answer to "Are you satisfied?" after closure: one per
-- request (the primary key refuses a second), read by council reports.
CREATE TABLE satisfaction (
    tenant_id  text        NOT NULL,
    request_id bigint      NOT NULL,
    score      smallint    NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment    text        NOT NULL DEFAULT '',
    at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, request_id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id) ON DELETE CASCADE
);
