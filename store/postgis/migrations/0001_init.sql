-- +goose Up
-- pinward schema, version 1.
--
-- Every tenant table carries tenant_id and leads its primary and unique keys
-- with it, so the tables can later be distributed by tenant_id on Citus
-- (requests, reporters and events colocated; api_keys, looked up across
-- tenants by hash, would become a reference table).

CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE requests (
    tenant_id        text NOT NULL,
    id               bigserial NOT NULL,
    service_code     text NOT NULL,
    description      text NOT NULL DEFAULT '',
    status           text NOT NULL,
    status_notes     text NOT NULL DEFAULT '',
    -- SRID 4326 lon/lat so QGIS and other GIS tools open it as is.
    geom             geometry(Point, 4326) NOT NULL,
    address          text NOT NULL DEFAULT '',
    ward_id          text NOT NULL DEFAULT '',
    asset_layer      text NOT NULL DEFAULT '',
    asset_id         text NOT NULL DEFAULT '',
    asset_distance_m double precision NOT NULL DEFAULT 0,
    cluster_id       text NOT NULL,
    department       text NOT NULL DEFAULT '',
    requested_at     timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    due_at           timestamptz,
    attributes       jsonb,
    media_url        text NOT NULL DEFAULT '',
    token            text NOT NULL DEFAULT '',
    lang             text NOT NULL DEFAULT '',
    -- A retried POST with the same Idempotency-Key finds its request here;
    -- NULL keys never conflict.
    idempotency_key  text,
    fingerprint      text,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT requests_idempotency_key UNIQUE (tenant_id, idempotency_key)
);

CREATE INDEX requests_geom ON requests USING gist (geom);
CREATE UNIQUE INDEX requests_token ON requests (tenant_id, token) WHERE token <> '';
CREATE INDEX requests_newest ON requests (tenant_id, requested_at DESC, id DESC);
CREATE INDEX requests_cluster ON requests (tenant_id, cluster_id);
CREATE INDEX requests_asset ON requests (tenant_id, asset_layer, asset_id) WHERE asset_id <> '';
CREATE INDEX requests_open_code ON requests (tenant_id, service_code, requested_at) WHERE status <> 'closed';

-- Personal information, apart from the request so public reads never touch
-- it; deleting a request (e.g. a retention purge) deletes its reporter.
CREATE TABLE reporters (
    tenant_id  text NOT NULL,
    request_id bigint NOT NULL,
    first_name text NOT NULL DEFAULT '',
    last_name  text NOT NULL DEFAULT '',
    email      text NOT NULL DEFAULT '',
    phone      text NOT NULL DEFAULT '',
    device_id  text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, request_id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id) ON DELETE CASCADE
);

-- The audit trail: rows are only ever inserted.
CREATE TABLE events (
    tenant_id   text NOT NULL,
    id          bigserial NOT NULL,
    request_id  bigint NOT NULL,
    at          timestamptz NOT NULL,
    actor       text NOT NULL DEFAULT '',
    kind        text NOT NULL,
    from_status text NOT NULL DEFAULT '',
    to_status   text NOT NULL DEFAULT '',
    note        text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX events_request ON events (tenant_id, request_id, at, id);

CREATE TABLE api_keys (
    tenant_id  text NOT NULL,
    id         bigserial NOT NULL,
    role       text NOT NULL,
    label      text NOT NULL DEFAULT '',
    hash       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
