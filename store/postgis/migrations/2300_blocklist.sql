-- +goose Up
-- The block list (issue 15, item 2): e-mail addresses and device IDs whose
-- submissions are answered as accepted but never become requests. Both
-- tables hold personal information, so they live in pinward_private with
-- the reporters.
CREATE TABLE pinward_private.block_entries (
    id         bigserial   PRIMARY KEY,
    tenant_id  text        NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('email', 'device')),
    value      text        NOT NULL,
    reason     text        NOT NULL,
    actor      text        NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT block_entries_value UNIQUE (tenant_id, kind, value)
);
REVOKE ALL ON pinward_private.block_entries FROM PUBLIC;

-- The submissions it stopped, for staff. answered_id is the request number
-- the sender was told (taken from the requests' sequence, so no request
-- ever has it); entry_id names an entry that may since be removed.
CREATE TABLE pinward_private.blocked_submissions (
    id           bigserial        PRIMARY KEY,
    tenant_id    text             NOT NULL,
    answered_id  bigint           NOT NULL,
    token        text             NOT NULL,
    entry_id     bigint           NOT NULL,
    kind         text             NOT NULL,
    value        text             NOT NULL,
    service_code text             NOT NULL,
    description  text             NOT NULL,
    address      text             NOT NULL,
    lon          double precision NOT NULL,
    lat          double precision NOT NULL,
    ward_id      text             NOT NULL,
    department   text             NOT NULL,
    email        text             NOT NULL,
    device_id    text             NOT NULL,
    actor        text             NOT NULL,
    received_at  timestamptz      NOT NULL,
    idempotency_key text          NOT NULL DEFAULT ''
);
-- A retry with the same Idempotency-Key gets the same answer, as a request's would.
CREATE UNIQUE INDEX blocked_submissions_idempotency ON pinward_private.blocked_submissions (tenant_id, idempotency_key)
    WHERE idempotency_key <> '';
CREATE INDEX blocked_submissions_recent ON pinward_private.blocked_submissions (tenant_id, id);
REVOKE ALL ON pinward_private.blocked_submissions FROM PUBLIC;
