-- +goose Up
-- Work orders (one per cluster sent to an asset-management system) and the
-- outbox a dispatcher delivers them from.

CREATE TABLE work_orders (
    tenant_id   text NOT NULL,
    id          bigserial NOT NULL,
    cluster_id  text NOT NULL,
    department  text NOT NULL,
    status      text NOT NULL,
    external_id text NOT NULL DEFAULT '',
    payload     jsonb NOT NULL, -- requests.WorkOrderPayload
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    -- A cluster gets one work order, however many residents report it.
    CONSTRAINT work_orders_cluster UNIQUE (tenant_id, cluster_id)
);

CREATE TABLE outbox (
    tenant_id       text NOT NULL,
    id              bigserial NOT NULL,
    work_order_id   bigint NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('create', 'update')),
    state           text NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text NOT NULL DEFAULT '',
    idempotency_key text NOT NULL,
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, work_order_id) REFERENCES work_orders (tenant_id, id)
);

CREATE INDEX outbox_due ON outbox (tenant_id, next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX outbox_work_order ON outbox (tenant_id, work_order_id, id);
