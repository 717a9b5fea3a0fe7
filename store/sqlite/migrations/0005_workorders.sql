-- +goose Up
-- Work orders (one per cluster sent to an asset-management system) and the
-- outbox a dispatcher delivers them from. Times are unix microseconds.

CREATE TABLE work_orders (
    id          INTEGER PRIMARY KEY,
    tenant_id   TEXT    NOT NULL,
    cluster_id  TEXT    NOT NULL,
    department  TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    external_id TEXT    NOT NULL DEFAULT '',
    payload     TEXT    NOT NULL, -- requests.WorkOrderPayload as JSON
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- A cluster gets one work order, however many residents report it.
CREATE UNIQUE INDEX work_orders_cluster ON work_orders (tenant_id, cluster_id);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    tenant_id       TEXT    NOT NULL,
    work_order_id   INTEGER NOT NULL REFERENCES work_orders (id),
    kind            TEXT    NOT NULL CHECK (kind IN ('create', 'update')),
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    idempotency_key TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
);

CREATE INDEX outbox_due ON outbox (tenant_id, next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX outbox_work_order ON outbox (tenant_id, work_order_id, id);
