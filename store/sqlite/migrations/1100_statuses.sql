-- +goose Up
-- The staff workflow's statuses (issue 13): a request that was 'open' is
-- 'new' (new, acknowledged, in_progress, waiting_on_resident, closed,
-- reopened); work orders, whose status moves with their requests, too.
-- Events keep their history in the new words, so a history reads one way.
-- A request closed before close reasons existed was closed by a cluster
-- close, whose event note starts with the reason in brackets.
UPDATE requests SET status = 'new' WHERE status = 'open';
UPDATE work_orders SET status = 'new' WHERE status = 'open';
UPDATE events SET from_status = 'new' WHERE from_status = 'open';
UPDATE events SET to_status = 'new' WHERE to_status = 'open';
UPDATE requests SET close_reason = 'fixed' WHERE status = 'closed' AND close_reason = '';

-- The auto-close sweep reads the requests waiting longest on residents.
CREATE INDEX requests_waiting ON requests (tenant_id, paused_at) WHERE status = 'waiting_on_resident';
