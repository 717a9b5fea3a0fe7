-- +goose Up
-- A staff key may be limited to departments and wards (issue 16, item 9):
-- comma-separated codes, '' for all.
ALTER TABLE api_keys ADD COLUMN departments text NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN wards text NOT NULL DEFAULT '';
