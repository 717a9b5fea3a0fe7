-- +goose Up
-- The resident's rights (issue 16, item 10; Law 25 ss. 27-28.1): access
-- links mailed to a reporter's address, and the requests for correction or
-- deletion filed through them.

-- One link per rights_link event (event_id is the link's ID and the
-- subject of its token). email is lower case; times as events.at.
CREATE TABLE rights_links (
    event_id   INTEGER PRIMARY KEY REFERENCES events (id),
    tenant_id  TEXT    NOT NULL,
    request_id INTEGER NOT NULL, -- the request whose token was given
    email      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER           -- NULL until opened, once
);
CREATE INDEX rights_links_email ON rights_links (tenant_id, email, created_at);

-- The rights log. email is blanked when a deletion is carried out; the
-- rest stays for the municipality's records.
CREATE TABLE rights_requests (
    id         INTEGER PRIMARY KEY,
    tenant_id  TEXT    NOT NULL,
    link_id    INTEGER NOT NULL UNIQUE, -- one request per link
    request_id INTEGER NOT NULL,
    email      TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('correction', 'deletion')),
    text       TEXT    NOT NULL,
    state      TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'corrected', 'deleted', 'refused')),
    reason     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    acted_at   INTEGER,
    acted_by   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX rights_requests_email ON rights_requests (tenant_id, email);

-- A resident is found by address.
CREATE INDEX reporters_email ON reporters (tenant_id, lower(email)) WHERE email <> '';

-- The access link's message goes through the mail outbox, to the
-- reporter's row like any message to a resident. SQLite cannot change a
-- CHECK in place: the table is built again as in 2100, and its triggers
-- with it.
DROP TRIGGER events_queue_receipt;
DROP TRIGGER events_queue_update;

CREATE TABLE mail_outbox_new (
    id              INTEGER PRIMARY KEY,
    tenant_id       TEXT    NOT NULL,
    request_id      INTEGER REFERENCES reporters (request_id) ON DELETE CASCADE, -- the reporter's own request; NULL for staff
    event_id        INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE, -- maybe of another request of the cluster
    kind            TEXT    NOT NULL CHECK (kind IN ('received', 'updated', 'closed', 'reopened', 'escalated', 'reopened_staff', 'access')),
    cluster_id      TEXT    NOT NULL, -- the cluster at queue time
    event_at        INTEGER NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    to_address      TEXT, -- staff only: the contact's address
    lang            TEXT, -- staff only: the contact's language
    -- A reporter's row has a reporter and no address; a staff row the reverse.
    CHECK (CASE WHEN kind IN ('escalated', 'reopened_staff')
                THEN request_id IS NULL AND to_address IS NOT NULL AND lang IS NOT NULL
                ELSE request_id IS NOT NULL AND to_address IS NULL AND lang IS NULL END)
);
INSERT INTO mail_outbox_new SELECT * FROM mail_outbox;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_new RENAME TO mail_outbox;

CREATE UNIQUE INDEX mail_outbox_once ON mail_outbox (tenant_id, request_id, kind, event_at);
CREATE INDEX mail_outbox_update ON mail_outbox (tenant_id, cluster_id, kind, event_at);
CREATE INDEX mail_outbox_event ON mail_outbox (event_id);
CREATE INDEX mail_outbox_due ON mail_outbox (tenant_id, next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX mail_outbox_state ON mail_outbox (tenant_id, state, id);
-- A level fires once per request (one event): one message per contact.
CREATE UNIQUE INDEX mail_outbox_staff_once ON mail_outbox (event_id, to_address) WHERE kind = 'escalated';
CREATE INDEX mail_outbox_staff_created ON mail_outbox (tenant_id, created_at, id) WHERE kind = 'escalated';
-- One message per contact and reopen (2100).
CREATE UNIQUE INDEX mail_outbox_reopen_once ON mail_outbox (event_id, to_address) WHERE kind = 'reopened_staff';

-- The triggers of 1300, 1800 and 2100, unchanged.
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
