-- +goose Up
-- The register of confidentiality incidents (Québec's Law 25, s. 3.8 and
-- its regulation; PIPEDA's breach records). Rows are kept at least five
-- years: the retention purge never touches this table.
CREATE TABLE incidents (
    tenant_id              text NOT NULL,
    id                     bigserial NOT NULL,
    occurred_from          timestamptz NOT NULL,
    occurred_to            timestamptz,          -- NULL: a single date
    discovered_at          timestamptz NOT NULL,
    description            text NOT NULL,
    information            text NOT NULL,        -- the personal information concerned
    people_count           integer NOT NULL,     -- -1: not known
    risk_assessment        text NOT NULL,        -- risk of serious injury, and why
    risk_factors           text NOT NULL DEFAULT '',
    serious_risk           boolean NOT NULL,
    regulator_notified_at  timestamptz,          -- the CAI or the Privacy Commissioner
    people_notified_at     timestamptz,
    measures               text NOT NULL,
    recorded_by            text NOT NULL,
    recorded_at            timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX incidents_discovered ON incidents (tenant_id, discovered_at DESC, id DESC);
