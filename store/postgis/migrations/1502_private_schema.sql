-- +goose Up
-- Reporters' personal information apart from the requests (issue 16, item
-- 13): a GIS analyst given SELECT on public.requests (or on every table of
-- public) cannot read names, e-mails or phones. The schema belongs to the
-- role that runs the migrations (pinward's own); no other role has USAGE on
-- it unless an operator grants it, which the README says never to do for
-- anyone but pinward. The notice version each reporter was shown (item 12)
-- is added here too.
CREATE SCHEMA IF NOT EXISTS pinward_private;
REVOKE ALL ON SCHEMA pinward_private FROM PUBLIC;
ALTER TABLE public.reporters SET SCHEMA pinward_private;
REVOKE ALL ON pinward_private.reporters FROM PUBLIC;
ALTER TABLE pinward_private.reporters ADD COLUMN notice_version text NOT NULL DEFAULT '';
