-- +goose Up
-- Department queues and the escalation clock (issue 13).

-- The messages of fired escalation levels, one per contact, until the mail
-- outbox takes them over. Written in the transaction that raises the
-- level, so a level never fires without its messages or twice with them.
CREATE TABLE escalation_messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id  TEXT    NOT NULL,
    request_id INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    level      INTEGER NOT NULL,
    notify     TEXT    NOT NULL, -- the contacts group: department, supervisor...
    recipient  TEXT    NOT NULL,
    lang       TEXT    NOT NULL,
    created    INTEGER NOT NULL, -- unix microseconds
    UNIQUE (tenant_id, request_id, level, recipient)
);
CREATE INDEX escalation_messages_created ON escalation_messages (tenant_id, created, id);

-- What the sweeper claims: only requests with a level still to come.
CREATE INDEX requests_next_escalation ON requests (tenant_id, next_escalation_at)
    WHERE next_escalation_at IS NOT NULL;

-- The queue's orders over open requests. A request without an SLA sorts
-- last in the due order (9999-12-31 in microseconds): the queries use the
-- same COALESCE.
CREATE INDEX requests_queue_due ON requests
    (tenant_id, COALESCE(due_at, 253402214400000000), id) WHERE status <> 'closed';
CREATE INDEX requests_queue_department ON requests
    (tenant_id, department, COALESCE(due_at, 253402214400000000), id) WHERE status <> 'closed';
CREATE INDEX requests_queue_received ON requests (tenant_id, requested_at, id) WHERE status <> 'closed';
CREATE INDEX requests_queue_escalation ON requests
    (tenant_id, -escalation_level, COALESCE(due_at, 253402214400000000), id) WHERE status <> 'closed';
