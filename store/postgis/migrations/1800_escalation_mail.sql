-- +goose Up
-- Staff escalation messages go out through the mail outbox (issue 14,
-- item 3; issue 13, item 8). A staff row names no reporter: request_id is
-- NULL, the escalated event (event_id) names the request and the level,
-- and the contact's address and language are on the row. The message is
-- rendered at send time with notify's escalated template.
ALTER TABLE mail_outbox ALTER COLUMN request_id DROP NOT NULL;
ALTER TABLE mail_outbox ADD COLUMN to_address text;
ALTER TABLE mail_outbox ADD COLUMN lang text;
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check
    CHECK (kind IN ('received', 'updated', 'closed', 'reopened', 'escalated'));
-- A reporter's row has a reporter and no address; a staff row the reverse.
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_recipient CHECK (
    CASE WHEN kind = 'escalated'
         THEN request_id IS NULL AND to_address IS NOT NULL AND lang IS NOT NULL
         ELSE request_id IS NOT NULL AND to_address IS NULL AND lang IS NULL END);
-- A level fires once per request (one event): one message per contact.
CREATE UNIQUE INDEX mail_outbox_staff_once ON mail_outbox (tenant_id, event_id, to_address)
    WHERE kind = 'escalated';
CREATE INDEX mail_outbox_staff_created ON mail_outbox (tenant_id, created_at, id)
    WHERE kind = 'escalated';

-- The messages queued before: none was ever sent, so each goes to the
-- outbox as pending, with the escalated event of its request and level.
INSERT INTO mail_outbox (tenant_id, request_id, event_id, kind, cluster_id, event_at,
                         next_attempt_at, created_at, to_address, lang)
SELECT m.tenant_id, NULL, e.id, 'escalated', q.cluster_id, e.at, m.created, m.created, m.recipient, m.lang
FROM escalation_messages m
JOIN requests q ON q.tenant_id = m.tenant_id AND q.id = m.request_id
JOIN LATERAL (SELECT e.id, e.at FROM events e
              WHERE e.tenant_id = m.tenant_id AND e.request_id = m.request_id
                AND e.kind = 'escalated' AND e.level = m.level
              ORDER BY e.id DESC LIMIT 1) e ON true
ON CONFLICT DO NOTHING;

DROP TABLE escalation_messages;
