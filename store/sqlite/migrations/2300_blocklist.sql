-- +goose Up
-- The block list (issue 15, item 2): e-mail addresses and device IDs whose
-- submissions are answered as accepted but never become requests.
CREATE TABLE block_entries (
    id         INTEGER PRIMARY KEY,
    tenant_id  TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('email', 'device')),
    value      TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, kind, value)
);

-- The submissions it stopped, for staff. answered_id is the request number
-- the sender was told; entry_id names an entry that may since be removed.
CREATE TABLE blocked_submissions (
    id           INTEGER PRIMARY KEY,
    tenant_id    TEXT    NOT NULL,
    answered_id  INTEGER NOT NULL,
    token        TEXT    NOT NULL,
    entry_id     INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    service_code TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    address      TEXT    NOT NULL,
    lon          REAL    NOT NULL,
    lat          REAL    NOT NULL,
    ward_id      TEXT    NOT NULL,
    department   TEXT    NOT NULL,
    email        TEXT    NOT NULL,
    device_id    TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL DEFAULT ''
);
-- A retry with the same Idempotency-Key gets the same answer, as a request's would.
CREATE UNIQUE INDEX blocked_submissions_idempotency ON blocked_submissions (tenant_id, idempotency_key) WHERE idempotency_key <> '';
CREATE INDEX blocked_submissions_recent ON blocked_submissions (tenant_id, id);
-- Requests are numbered past max(answered_id) (see the store).
CREATE INDEX blocked_submissions_answered ON blocked_submissions (answered_id);
