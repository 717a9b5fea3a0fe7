-- +goose Up
-- pinward's embedded schema. Times are unix microseconds (UTC) in INTEGER
-- columns, NULL for the zero time. Every table carries tenant_id.

CREATE TABLE requests (
    id               INTEGER PRIMARY KEY,
    tenant_id        TEXT    NOT NULL,
    service_code     TEXT    NOT NULL,
    description      TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    status_notes     TEXT    NOT NULL,
    lon              REAL    NOT NULL,
    lat              REAL    NOT NULL,
    address          TEXT    NOT NULL,
    ward_id          TEXT    NOT NULL,
    asset_layer      TEXT    NOT NULL,
    asset_id         TEXT    NOT NULL,
    asset_distance_m REAL    NOT NULL,
    cluster_id       TEXT    NOT NULL,
    department       TEXT    NOT NULL,
    requested_at     INTEGER,
    updated_at       INTEGER,
    due_at           INTEGER,
    attributes       TEXT, -- JSON object; NULL when there are none
    media_url        TEXT    NOT NULL,
    token            TEXT    NOT NULL,
    lang             TEXT    NOT NULL
);

-- Newest-first listing per tenant, the Open311 default query.
CREATE INDEX requests_tenant_requested ON requests (tenant_id, requested_at DESC, id DESC);
CREATE INDEX requests_tenant_cluster ON requests (tenant_id, cluster_id);
CREATE INDEX requests_tenant_code ON requests (tenant_id, service_code, requested_at);
CREATE INDEX requests_tenant_asset ON requests (tenant_id, asset_layer, asset_id) WHERE asset_id <> '';
CREATE UNIQUE INDEX requests_tenant_token ON requests (tenant_id, token) WHERE token <> '';

-- Spatial index for bbox filters and cluster candidates. R*Tree stores
-- 32-bit floats rounded outwards, so it is a superset: queries recheck the
-- exact lon/lat columns.
CREATE VIRTUAL TABLE requests_rtree USING rtree (id, min_lon, max_lon, min_lat, max_lat);

CREATE TRIGGER requests_rtree_insert AFTER INSERT ON requests BEGIN
    INSERT INTO requests_rtree (id, min_lon, max_lon, min_lat, max_lat)
    VALUES (NEW.id, NEW.lon, NEW.lon, NEW.lat, NEW.lat);
END;

CREATE TRIGGER requests_rtree_delete AFTER DELETE ON requests BEGIN
    DELETE FROM requests_rtree WHERE id = OLD.id;
END;

-- Personal information, apart from the request so no public query can
-- select it by accident.
CREATE TABLE reporters (
    request_id INTEGER PRIMARY KEY REFERENCES requests (id),
    tenant_id  TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name  TEXT NOT NULL,
    email      TEXT NOT NULL,
    phone      TEXT NOT NULL,
    device_id  TEXT NOT NULL
);

-- The audit trail: appended, never updated.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    tenant_id   TEXT    NOT NULL,
    request_id  INTEGER NOT NULL REFERENCES requests (id),
    at          INTEGER,
    actor       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    from_status TEXT    NOT NULL,
    to_status   TEXT    NOT NULL,
    note        TEXT    NOT NULL
);

CREATE INDEX events_request ON events (request_id, at, id);

CREATE TABLE idempotency (
    tenant_id   TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    request_id  INTEGER NOT NULL REFERENCES requests (id),
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY,
    tenant_id  TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    label      TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE,
    created_at INTEGER
);
