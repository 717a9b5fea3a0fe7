-- +goose Up
-- Keyset paging by ID (Filter.ByID, the tiles' load at start): an index on
-- tenant_id is (tenant_id, rowid), so "tenant_id = ? AND id > ? ORDER BY id"
-- is one range scan per page instead of a sort of the tenant's requests.
-- PostgreSQL's primary key (tenant_id, id) already does this.
CREATE INDEX requests_tenant_id ON requests (tenant_id);
