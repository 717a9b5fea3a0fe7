-- +goose Up
-- Resident notifications (issue 14): the mail outbox, the addresses a
-- server refused for good, and server-wide settings (the link secret).
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
    tenant_id text NOT NULL,
    name      text NOT NULL,
    value     text NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- An address a server refused for good (a 5xx to RCPT TO): no more mail
-- is queued to it. email is lower case.
CREATE TABLE mail_undeliverable (
    tenant_id text        NOT NULL,
    email     text        NOT NULL,
    code      integer     NOT NULL DEFAULT 0,
    detail    text        NOT NULL DEFAULT '',
    at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, email)
);

CREATE TABLE mail_outbox (
    tenant_id       text        NOT NULL,
    id              bigserial   NOT NULL,
    request_id      bigint      NOT NULL, -- the reporter's own request
    event_id        bigint      NOT NULL, -- the event that caused it (maybe of another request of the cluster)
    kind            text        NOT NULL CHECK (kind IN ('received', 'updated', 'closed', 'reopened')),
    cluster_id      text        NOT NULL, -- the cluster at queue time
    event_at        timestamptz NOT NULL,
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, request_id) REFERENCES reporters (tenant_id, request_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, event_id) REFERENCES events (tenant_id, id) ON DELETE CASCADE
);

-- One message per reporter per public update: a cluster close writes one
-- event per request, all at the same time, and each reporter hears once.
CREATE UNIQUE INDEX mail_outbox_once ON mail_outbox (tenant_id, request_id, kind, event_at);
CREATE INDEX mail_outbox_update ON mail_outbox (tenant_id, cluster_id, kind, event_at);
CREATE INDEX mail_outbox_event ON mail_outbox (tenant_id, event_id);
CREATE INDEX mail_outbox_due ON mail_outbox (tenant_id, next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX mail_outbox_state ON mail_outbox (tenant_id, state, id);

-- Statement-level: the events of one statement are grouped by update
-- (cluster, kind, time) before they fan out to the cluster's reporters, so
-- closing a cluster of 10,000 requests queues 10,000 rows, not 10^8.
CREATE FUNCTION pinward_queue_mail() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    WITH ev AS (
        SELECT e.tenant_id, e.id, e.request_id, e.at,
               CASE WHEN e.kind = 'created' THEN 'received'
                    WHEN e.to_status = 'closed' THEN 'closed'
                    WHEN e.to_status = 'reopened' THEN 'reopened'
                    ELSE 'updated' END AS kind
        FROM new_events e
        WHERE e.kind = 'created'
           OR (e.kind = 'status' AND (e.to_status IN ('closed', 'reopened')
                                      OR e.public_note_en <> '' OR e.public_note_fr <> ''))
    ), grp AS (
        SELECT DISTINCT ON (ev.tenant_id, q.cluster_id, ev.kind, ev.at,
                            CASE WHEN ev.kind = 'received' THEN ev.request_id END)
               ev.tenant_id, ev.id, ev.request_id, ev.at, ev.kind, q.cluster_id
        FROM ev JOIN requests q ON q.tenant_id = ev.tenant_id AND q.id = ev.request_id
        ORDER BY ev.tenant_id, q.cluster_id, ev.kind, ev.at,
                 CASE WHEN ev.kind = 'received' THEN ev.request_id END, ev.id
    ), who AS (
        SELECT g.*, g.request_id AS reporter_request FROM grp g WHERE g.kind = 'received'
        UNION ALL
        SELECT g.*, m.id FROM grp g
        JOIN requests m ON m.tenant_id = g.tenant_id AND m.cluster_id = g.cluster_id
        WHERE g.kind <> 'received'
          AND NOT EXISTS (SELECT 1 FROM mail_outbox x WHERE x.tenant_id = g.tenant_id
                          AND x.cluster_id = g.cluster_id AND x.kind = g.kind AND x.event_at = g.at)
    )
    INSERT INTO mail_outbox (tenant_id, request_id, event_id, kind, cluster_id, event_at, next_attempt_at, created_at)
    SELECT w.tenant_id, rp.request_id, w.id, w.kind, w.cluster_id, w.at, clock_timestamp(), clock_timestamp()
    FROM who w
    JOIN reporters rp ON rp.tenant_id = w.tenant_id AND rp.request_id = w.reporter_request
    WHERE rp.email <> '' AND rp.notify
      AND NOT EXISTS (SELECT 1 FROM mail_undeliverable u WHERE u.tenant_id = rp.tenant_id AND u.email = lower(rp.email))
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_queue_mail AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION pinward_queue_mail();
