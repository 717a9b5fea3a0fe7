-- +goose Up
-- A staff key may be limited to departments and wards (issue 16, item 9):
-- comma-separated codes, '' for all.
ALTER TABLE api_keys ADD COLUMN departments TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN wards TEXT NOT NULL DEFAULT '';
