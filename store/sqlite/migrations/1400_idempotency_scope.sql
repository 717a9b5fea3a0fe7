-- +goose Up
-- Idempotency keys are scoped to the API key that sent them (issue 16):
-- the stored key becomes "<api key id>:<client's key>". Keys stored
-- before take the key ID from their request's "created" event (actor
-- "key:<id>"), or 0 when it was not submitted with a key.
UPDATE idempotency SET key = COALESCE(
        (SELECT substr(e.actor, 5) FROM events e
         WHERE e.request_id = idempotency.request_id AND e.kind = 'created' AND e.actor LIKE 'key:%'
         ORDER BY e.id LIMIT 1), '0') || ':' || key;
