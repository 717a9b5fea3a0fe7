-- +goose Up
-- Resident notifications (issue 14): the mail outbox, the addresses a
-- server refused for good, and server-wide settings (the link secret).
-- Times are unix microseconds.
--
-- The outbox follows the work-order outbox (0005): the same states
-- (pending, delivered, dead), attempts, a lease in next_attempt_at, the
-- last error. A row names an event and a reporter (by the reporter's
-- request), never a rendered message: the message is written at send time
-- in the reporter's language, so no row holds another reporter's personal
-- information, and deleting a reporter (retention) deletes its rows.
--
-- Rows are written by a trigger on events, in the transaction of the change
-- that causes them, whichever code path writes the event.

CREATE TABLE settings (
    tenant_id TEXT NOT NULL,
    name      TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- An address a server refused for good (a 5xx to RCPT TO): no more mail
-- is queued to it. email is lower case.
CREATE TABLE mail_undeliverable (
    tenant_id TEXT    NOT NULL,
    email     TEXT    NOT NULL,
    code      INTEGER NOT NULL DEFAULT 0,
    detail    TEXT    NOT NULL DEFAULT '',
    at        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, email)
);

CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY,
    tenant_id       TEXT    NOT NULL,
    request_id      INTEGER NOT NULL REFERENCES reporters (request_id) ON DELETE CASCADE, -- the reporter's own request
    event_id        INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE, -- maybe of another request of the cluster
    kind            TEXT    NOT NULL CHECK (kind IN ('received', 'updated', 'closed', 'reopened')),
    cluster_id      TEXT    NOT NULL, -- the cluster at queue time
    event_at        INTEGER NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
);

-- One message per reporter per public update: a cluster close writes one
-- event per request, all at the same time, and each reporter hears once.
CREATE UNIQUE INDEX mail_outbox_once ON mail_outbox (tenant_id, request_id, kind, event_at);
CREATE INDEX mail_outbox_update ON mail_outbox (tenant_id, cluster_id, kind, event_at);
CREATE INDEX mail_outbox_event ON mail_outbox (event_id);
CREATE INDEX mail_outbox_due ON mail_outbox (tenant_id, next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX mail_outbox_state ON mail_outbox (tenant_id, state, id);

-- The receipt goes to the request's own reporter.
CREATE TRIGGER events_queue_receipt AFTER INSERT ON events WHEN NEW.kind = 'created' BEGIN
    INSERT OR IGNORE INTO mail_outbox (tenant_id, request_id, event_id, kind, cluster_id, event_at, next_attempt_at, created_at)
    SELECT NEW.tenant_id, rp.request_id, NEW.id, 'received', q.cluster_id, NEW.at,
           CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER),
           CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)
    FROM requests q JOIN reporters rp ON rp.request_id = q.id
    WHERE q.id = NEW.request_id AND rp.email <> '' AND rp.notify
      AND NOT EXISTS (SELECT 1 FROM mail_undeliverable u WHERE u.tenant_id = rp.tenant_id AND u.email = lower(rp.email));
END;

-- A public update goes to every subscribed reporter of the cluster, once:
-- the later events of the same update (same cluster, kind and time) find
-- it queued and add nothing. The check is in WHEN, evaluated once before
-- the insert (inside the INSERT's SELECT it would see the rows being
-- inserted and stop after the first).
CREATE TRIGGER events_queue_update AFTER INSERT ON events
WHEN NEW.kind = 'status' AND (NEW.to_status IN ('closed', 'reopened') OR NEW.public_note_en <> '' OR NEW.public_note_fr <> '')
  AND NOT EXISTS (SELECT 1 FROM mail_outbox x JOIN requests q ON q.id = NEW.request_id
                  WHERE x.tenant_id = NEW.tenant_id AND x.cluster_id = q.cluster_id AND x.event_at = NEW.at
                    AND x.kind = CASE NEW.to_status WHEN 'closed' THEN 'closed' WHEN 'reopened' THEN 'reopened' ELSE 'updated' END)
BEGIN
    INSERT OR IGNORE INTO mail_outbox (tenant_id, request_id, event_id, kind, cluster_id, event_at, next_attempt_at, created_at)
    SELECT NEW.tenant_id, rp.request_id, NEW.id, k.kind, q.cluster_id, NEW.at,
           CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER),
           CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)
    FROM (SELECT CASE NEW.to_status WHEN 'closed' THEN 'closed' WHEN 'reopened' THEN 'reopened' ELSE 'updated' END AS kind) k
    JOIN requests q ON q.id = NEW.request_id
    JOIN requests m ON m.tenant_id = q.tenant_id AND m.cluster_id = q.cluster_id
    JOIN reporters rp ON rp.request_id = m.id
    WHERE rp.email <> '' AND rp.notify
      AND NOT EXISTS (SELECT 1 FROM mail_undeliverable u WHERE u.tenant_id = rp.tenant_id AND u.email = lower(rp.email));
END;
