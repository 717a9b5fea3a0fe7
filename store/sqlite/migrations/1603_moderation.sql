-- +goose Up
-- Moderation (issue 15). A hidden description is moved here, out of the
-- public record, and put back when staff show it again.
CREATE TABLE hidden_descriptions (
    tenant_id   TEXT    NOT NULL,
    request_id  INTEGER NOT NULL,
    description TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, request_id)
);

-- Residents' "report this" flags on a request.
CREATE TABLE flags (
    id         INTEGER PRIMARY KEY,
    tenant_id  TEXT    NOT NULL,
    request_id INTEGER NOT NULL,
    reason     TEXT    NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX flags_request ON flags (tenant_id, request_id);
