-- +goose Up
-- Asset layers pushed by the asset-management system, and their change
-- feed. Times are unix microseconds (UTC).

CREATE TABLE assets (
    tenant_id  TEXT    NOT NULL,
    layer      TEXT    NOT NULL,
    asset_id   TEXT    NOT NULL,
    lon        REAL    NOT NULL,
    lat        REAL    NOT NULL,
    attrs      TEXT, -- JSON object; NULL when there are none
    version    INTEGER NOT NULL,
    retired    INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, layer, asset_id)
) WITHOUT ROWID;

-- The change feed: appended in commit order (writes are serialised), never
-- updated. seq is the cursor.
CREATE TABLE asset_changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT    NOT NULL,
    op        TEXT    NOT NULL CHECK (op IN ('upsert', 'retire')),
    layer     TEXT    NOT NULL,
    asset_id  TEXT    NOT NULL,
    lon       REAL    NOT NULL,
    lat       REAL    NOT NULL,
    attrs     TEXT,
    version   INTEGER NOT NULL,
    at        INTEGER NOT NULL
);

CREATE INDEX asset_changes_tenant ON asset_changes (tenant_id, seq);
