-- +goose Up
-- The change stream: one row per committed change of a request, an asset
-- or a work order, written by triggers in the transaction that makes the
-- change, so every writer (the server, pinward assets import in another
-- process) feeds it and a rolled-back change leaves no row. SQLite has one
-- writer at a time and AUTOINCREMENT never reuses a seq, so seq order is
-- commit order: a reader's cursor is the last seq it applied. The store
-- wakes its own readers after each COMMIT; they also poll, for other
-- processes.

CREATE TABLE changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT    NOT NULL,
    kind      TEXT    NOT NULL CHECK (kind IN ('request', 'asset', 'workorder')),
    key       TEXT    NOT NULL, -- request id, layer/asset_id, work order id
    at        INTEGER NOT NULL  -- unix microseconds
);

-- (tenant_id, seq): a reader's "tenant_id = ? AND seq > ?" is one range scan.
CREATE INDEX changes_tenant ON changes (tenant_id);

CREATE TRIGGER requests_log_insert AFTER INSERT ON requests BEGIN
    INSERT INTO changes (tenant_id, kind, key, at)
    VALUES (NEW.tenant_id, 'request', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));
END;

-- A request that starts its own cluster gets its cluster_id right after
-- its insert, in the same transaction: that is not a change of its own.
CREATE TRIGGER requests_log_update AFTER UPDATE ON requests WHEN OLD.cluster_id <> '' BEGIN
    INSERT INTO changes (tenant_id, kind, key, at)
    VALUES (NEW.tenant_id, 'request', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));
END;

CREATE TRIGGER work_orders_log_insert AFTER INSERT ON work_orders BEGIN
    INSERT INTO changes (tenant_id, kind, key, at)
    VALUES (NEW.tenant_id, 'workorder', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));
END;

CREATE TRIGGER work_orders_log_update AFTER UPDATE ON work_orders BEGIN
    INSERT INTO changes (tenant_id, kind, key, at)
    VALUES (NEW.tenant_id, 'workorder', NEW.id, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));
END;

-- A delivery's state (pending, delivered, dead) is part of its work
-- order's state; attempts and leases are not.
CREATE TRIGGER outbox_log_update AFTER UPDATE OF state ON outbox WHEN OLD.state <> NEW.state BEGIN
    INSERT INTO changes (tenant_id, kind, key, at)
    VALUES (NEW.tenant_id, 'workorder', NEW.work_order_id, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));
END;

-- asset_changes is the asset feed (with each version's data); every row
-- appended to it is one change of the stream.
CREATE TRIGGER asset_changes_log AFTER INSERT ON asset_changes BEGIN
    INSERT INTO changes (tenant_id, kind, key, at)
    VALUES (NEW.tenant_id, 'asset', NEW.layer || '/' || NEW.asset_id, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));
END;
