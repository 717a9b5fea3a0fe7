-- +goose Up
-- Open311's service request updates list the public notes of every
-- request by time (requests.PublicUpdateStore): a partial index holds
-- just those events, in the order they are listed.
CREATE INDEX events_public_updates ON events (tenant_id, at, id)
    WHERE kind = 'status' AND (public_note_en <> '' OR public_note_fr <> '');
