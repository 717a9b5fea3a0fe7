-- +goose Up
-- A busy spot (issue 15): the earliest open request at one exact point is
-- one index range scan, however many requests share the point.
CREATE INDEX requests_tenant_point ON requests (tenant_id, lon, lat, requested_at, id);
