-- +goose Up
-- Revocation and expiry of API keys, and the resident page's public key
-- kept across restarts (issue 15).
ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER; -- NULL: not revoked
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER; -- NULL: never

-- The page publishes its key, so the key itself (not only its hash) is
-- kept: every server of the tenant serves the same one, and a restart
-- does not mint another.
CREATE TABLE page_keys (
    tenant_id TEXT    PRIMARY KEY,
    key       TEXT    NOT NULL,
    key_id    INTEGER NOT NULL
);
