-- +goose Up
-- Department queues and the escalation clock (issue 13).

-- The messages of fired escalation levels, one per contact, until the mail
-- outbox takes them over. Written in the transaction that raises the
-- level, so a level never fires without its messages or twice with them.
CREATE TABLE escalation_messages (
    tenant_id  text        NOT NULL,
    id         bigserial   NOT NULL,
    request_id bigint      NOT NULL,
    level      integer     NOT NULL,
    notify     text        NOT NULL, -- the contacts group: department, supervisor...
    recipient  text        NOT NULL,
    lang       text        NOT NULL,
    created    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT escalation_messages_once UNIQUE (tenant_id, request_id, level, recipient),
    FOREIGN KEY (tenant_id, request_id) REFERENCES requests (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX escalation_messages_created ON escalation_messages (tenant_id, created, id);

-- What the sweepers claim: only requests with a level still to come.
CREATE INDEX requests_next_escalation ON requests (tenant_id, next_escalation_at)
    WHERE next_escalation_at IS NOT NULL;

-- The queue's orders over open requests. A request without an SLA sorts
-- last in the due order: the queries use the same COALESCE.
CREATE INDEX requests_queue_due ON requests
    (tenant_id, (COALESCE(due_at, '9999-12-31 00:00:00+00'::timestamptz)), id) WHERE status <> 'closed';
CREATE INDEX requests_queue_department ON requests
    (tenant_id, department, (COALESCE(due_at, '9999-12-31 00:00:00+00'::timestamptz)), id) WHERE status <> 'closed';
CREATE INDEX requests_queue_received ON requests (tenant_id, requested_at, id) WHERE status <> 'closed';
CREATE INDEX requests_queue_escalation ON requests
    (tenant_id, (-escalation_level), (COALESCE(due_at, '9999-12-31 00:00:00+00'::timestamptz)), id) WHERE status <> 'closed';
