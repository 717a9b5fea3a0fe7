-- +goose Up
-- Moderation (issue 15). A hidden description is moved here, out of the
-- public record, and put back when staff show it again.
CREATE TABLE hidden_descriptions (
    tenant_id   text   NOT NULL,
    request_id  bigint NOT NULL,
    description text   NOT NULL,
    PRIMARY KEY (tenant_id, request_id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id) ON DELETE CASCADE
);

-- Residents' "report this" flags on a request.
CREATE TABLE flags (
    id         bigserial   PRIMARY KEY,
    tenant_id  text        NOT NULL,
    request_id bigint      NOT NULL,
    reason     text        NOT NULL,
    at         timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX flags_request ON flags (tenant_id, request_id);
