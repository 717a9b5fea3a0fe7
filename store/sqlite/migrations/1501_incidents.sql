-- +goose Up
-- The register of confidentiality incidents (Québec's Law 25, s. 3.8 and
-- its regulation; PIPEDA's breach records). Rows are kept at least five
-- years: the retention purge never touches this table. Times are Unix
-- microseconds, as elsewhere in this store.
CREATE TABLE incidents (
    id                     INTEGER PRIMARY KEY,
    tenant_id              TEXT    NOT NULL,
    occurred_from          INTEGER NOT NULL,
    occurred_to            INTEGER,          -- NULL: a single date
    discovered_at          INTEGER NOT NULL,
    description            TEXT    NOT NULL,
    information            TEXT    NOT NULL,
    people_count           INTEGER NOT NULL, -- -1: not known
    risk_assessment        TEXT    NOT NULL,
    risk_factors           TEXT    NOT NULL DEFAULT '',
    serious_risk           INTEGER NOT NULL,
    regulator_notified_at  INTEGER,
    people_notified_at     INTEGER,
    measures               TEXT    NOT NULL,
    recorded_by            TEXT    NOT NULL,
    recorded_at            INTEGER NOT NULL
);
CREATE INDEX incidents_discovered ON incidents (tenant_id, discovered_at DESC, id DESC);
