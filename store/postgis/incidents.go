package postgis

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/requests"
)

// CreateIncident implements requests.IncidentStore.
func (s *Store) CreateIncident(ctx context.Context, in requests.Incident) (requests.Incident, error) {
	err := s.pool.QueryRow(ctx, `INSERT INTO incidents (tenant_id, occurred_from, occurred_to, discovered_at,
		description, information, people_count, risk_assessment, risk_factors, serious_risk,
		regulator_notified_at, people_notified_at, measures, recorded_by, recorded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		in.TenantID, in.OccurredFrom, nullTime(in.OccurredTo), in.DiscoveredAt,
		in.Description, in.Information, in.PeopleCount, in.RiskAssessment, in.RiskFactors, in.SeriousRisk,
		nullTime(in.RegulatorNotifiedAt), nullTime(in.PeopleNotifiedAt), in.Measures, in.RecordedBy, in.RecordedAt).Scan(&in.ID)
	if err != nil {
		return requests.Incident{}, wrapCtx(ctx, "record incident", err)
	}
	for _, t := range []*time.Time{&in.OccurredFrom, &in.OccurredTo, &in.DiscoveredAt, &in.RegulatorNotifiedAt, &in.PeopleNotifiedAt, &in.RecordedAt} {
		if !t.IsZero() {
			*t = t.UTC().Truncate(time.Microsecond)
		}
	}
	return in, nil
}

// ListIncidents implements requests.IncidentStore.
func (s *Store) ListIncidents(ctx context.Context, tenant string) ([]requests.Incident, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, tenant_id, occurred_from, occurred_to, discovered_at,
		description, information, people_count, risk_assessment, risk_factors, serious_risk,
		regulator_notified_at, people_notified_at, measures, recorded_by, recorded_at
		FROM incidents WHERE tenant_id = $1 ORDER BY discovered_at DESC, id DESC`, tenant)
	if err != nil {
		return nil, wrapCtx(ctx, "list incidents", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (requests.Incident, error) {
		var (
			in             requests.Incident
			to, regN, popN *time.Time
		)
		err := row.Scan(&in.ID, &in.TenantID, &in.OccurredFrom, &to, &in.DiscoveredAt, &in.Description, &in.Information,
			&in.PeopleCount, &in.RiskAssessment, &in.RiskFactors, &in.SeriousRisk, &regN, &popN, &in.Measures,
			&in.RecordedBy, &in.RecordedAt)
		in.OccurredFrom, in.DiscoveredAt, in.RecordedAt = in.OccurredFrom.UTC(), in.DiscoveredAt.UTC(), in.RecordedAt.UTC()
		in.OccurredTo, in.RegulatorNotifiedAt, in.PeopleNotifiedAt = utcOrZero(to), utcOrZero(regN), utcOrZero(popN)
		return in, err
	})
	return out, wrapCtx(ctx, "list incidents", err)
}

func utcOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
