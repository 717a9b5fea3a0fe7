-- +goose Up
-- The privacy notice version a reporter who gave contact details was shown
-- (issue 16, item 12). (In PostGIS this migration also moves reporters to
-- their own schema; a SQLite file has one reader, pinward.)
ALTER TABLE reporters ADD COLUMN notice_version TEXT NOT NULL DEFAULT '';
