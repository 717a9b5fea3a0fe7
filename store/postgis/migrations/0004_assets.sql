-- +goose Up
-- Asset layers pushed by the asset-management system, and their change
-- feed. Geometry in SRID 4326 with a GiST index, so a GIS team can open
-- the layer in QGIS.

CREATE TABLE assets (
    tenant_id  text    NOT NULL,
    layer      text    NOT NULL,
    asset_id   text    NOT NULL,
    geom       geometry(Point, 4326) NOT NULL,
    attrs      jsonb,
    version    bigint  NOT NULL,
    retired    boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, layer, asset_id)
);

CREATE INDEX assets_geom ON assets USING gist (geom);

-- The change feed: appended under a per-tenant advisory lock, so seq
-- follows commit order within a tenant; never updated. seq is the cursor.
CREATE TABLE asset_changes (
    tenant_id text   NOT NULL,
    seq       bigserial,
    op        text   NOT NULL CHECK (op IN ('upsert', 'retire')),
    layer     text   NOT NULL,
    asset_id  text   NOT NULL,
    geom      geometry(Point, 4326) NOT NULL,
    attrs     jsonb,
    version   bigint NOT NULL,
    at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
