-- +goose Up
-- A resident's reopen tells the department's staff through the mail
-- outbox (issue 14, item 6): a staff row like an escalation's (no
-- reporter, the contact's address and language on the row), of kind
-- reopened_staff, against the reopened event.
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check
    CHECK (kind IN ('received', 'updated', 'closed', 'reopened', 'escalated', 'reopened_staff'));
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_recipient;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_recipient CHECK (
    CASE WHEN kind IN ('escalated', 'reopened_staff')
         THEN request_id IS NULL AND to_address IS NOT NULL AND lang IS NOT NULL
         ELSE request_id IS NOT NULL AND to_address IS NULL AND lang IS NULL END);
-- One message per contact and reopen.
CREATE UNIQUE INDEX mail_outbox_reopen_once ON mail_outbox (tenant_id, event_id, to_address)
    WHERE kind = 'reopened_staff';
