-- +goose Up
-- Columns the staff workflow, escalation and resident notifications share
-- (issues 13 and 14), added in one place so each feature builds on the same
-- shape. Each feature's own migration adds its tables and indexes.

-- How a request came in: web, app, phone, counter, email, api.
ALTER TABLE requests ADD COLUMN channel text NOT NULL DEFAULT 'api';
-- The crew or person working it ('' unassigned).
ALTER TABLE requests ADD COLUMN assignee text NOT NULL DEFAULT '';
-- Why it was closed: fixed, duplicate, referred, not_found,
-- no_action_needed, no_response ('' while open).
ALTER TABLE requests ADD COLUMN close_reason text NOT NULL DEFAULT '';
-- The latest public note in French (status_notes holds the English one); a
-- note written in one language only is kept as written in its own column.
ALTER TABLE requests ADD COLUMN status_notes_fr text NOT NULL DEFAULT '';
-- When the SLA clock stopped (waiting on the resident); NULL while it runs.
ALTER TABLE requests ADD COLUMN paused_at timestamptz;
-- Escalation levels already fired, and when the next one falls due (NULL:
-- none left, or paused).
ALTER TABLE requests ADD COLUMN escalation_level integer NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN next_escalation_at timestamptz;

-- An event's public note per language, its internal note (staff only), the
-- close reason or referral, the canned template it used, and the
-- escalation level it fired.
ALTER TABLE events ADD COLUMN public_note_en text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN public_note_fr text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN internal_note text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN reason text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN template text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN level integer NOT NULL DEFAULT 0;

-- Whether the reporter wants to hear of progress (only meaningful with an
-- e-mail address).
ALTER TABLE reporters ADD COLUMN notify boolean NOT NULL DEFAULT true;
