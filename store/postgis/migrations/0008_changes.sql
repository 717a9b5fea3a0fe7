-- +goose Up
-- The change stream: one row per committed change of a request, an asset
-- or a work order, written by triggers in the transaction that makes the
-- change, so every writer (each server, pinward assets import, psql) feeds
-- it and a rolled-back change leaves no row. Each server follows it by
-- cursor to keep its in-memory views (tiles, asset index) current.
--
-- Ordering: id comes from a sequence, and concurrent transactions can
-- commit ids out of order, so a reader that went by id alone could pass an
-- id whose transaction commits later and miss it. Each row therefore
-- carries its transaction's ID (tx); readers take rows in (tx, id) order
-- and only those of transactions older than every transaction still
-- running (pg_snapshot_xmin): no row can appear later before such a cursor.
-- Writers never wait for each other on this table.
--
-- Notification: the triggers NOTIFY pinward_changes with the tenant; NOTIFY
-- is delivered at commit (once per payload per transaction), and wakes the
-- readers, which then read the table.

CREATE TABLE changes (
    tenant_id text        NOT NULL,
    tx        bigint      NOT NULL DEFAULT pg_current_xact_id()::text::bigint,
    id        bigserial,
    kind      text        NOT NULL CHECK (kind IN ('request', 'asset', 'workorder')),
    key       text        NOT NULL, -- request id, layer/asset_id, work order id; '*' for all of the kind
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, tx, id)
);

-- Statement-level with transition tables: a group commit of 64 requests is
-- one INSERT here and one notification. A statement changing more than
-- 1,000 rows (a bulk load or update) is logged as one '*' change: views
-- reload that kind instead of reading thousands of keys back.
CREATE FUNCTION pinward_log_requests() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO changes (tenant_id, kind, key)
    SELECT tenant_id, 'request', id::text FROM (
        SELECT tenant_id, id, count(*) OVER (PARTITION BY tenant_id) AS n FROM changed_rows) c
    WHERE n <= 1000
    UNION ALL
    SELECT tenant_id, 'request', '*' FROM changed_rows GROUP BY tenant_id HAVING count(*) > 1000;
    PERFORM pg_notify('pinward_changes', t.tenant_id) FROM (SELECT DISTINCT tenant_id FROM changed_rows) t;
    RETURN NULL;
END
$$;

CREATE FUNCTION pinward_log_work_orders() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO changes (tenant_id, kind, key)
    SELECT tenant_id, 'workorder', id::text FROM changed_rows;
    PERFORM pg_notify('pinward_changes', t.tenant_id) FROM (SELECT DISTINCT tenant_id FROM changed_rows) t;
    RETURN NULL;
END
$$;

-- A delivery's state (pending, delivered, dead) is part of its work
-- order's state; attempts and leases are not.
CREATE FUNCTION pinward_log_outbox() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO changes (tenant_id, kind, key)
    SELECT DISTINCT n.tenant_id, 'workorder', n.work_order_id::text
    FROM changed_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
    WHERE o.state <> n.state;
    PERFORM pg_notify('pinward_changes', n.tenant_id)
    FROM changed_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
    WHERE o.state <> n.state GROUP BY n.tenant_id;
    RETURN NULL;
END
$$;

CREATE FUNCTION pinward_log_assets() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO changes (tenant_id, kind, key)
    SELECT tenant_id, 'asset', layer || '/' || asset_id FROM changed_rows ORDER BY seq;
    PERFORM pg_notify('pinward_changes', t.tenant_id) FROM (SELECT DISTINCT tenant_id FROM changed_rows) t;
    RETURN NULL;
END
$$;

-- The request triggers of 0006 notified with the ids; the log replaces them.
DROP TRIGGER requests_notify_insert ON requests;
DROP TRIGGER requests_notify_update ON requests;
DROP FUNCTION pinward_notify_requests();

CREATE TRIGGER requests_log_insert AFTER INSERT ON requests
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pinward_log_requests();

CREATE TRIGGER requests_log_update AFTER UPDATE ON requests
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pinward_log_requests();

CREATE TRIGGER work_orders_log_insert AFTER INSERT ON work_orders
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pinward_log_work_orders();

CREATE TRIGGER work_orders_log_update AFTER UPDATE ON work_orders
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pinward_log_work_orders();

CREATE TRIGGER outbox_log_update AFTER UPDATE ON outbox
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pinward_log_outbox();

-- asset_changes is the asset feed (with each version's data); every row
-- appended to it is one change of the stream.
CREATE TRIGGER asset_changes_log AFTER INSERT ON asset_changes
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION pinward_log_assets();
