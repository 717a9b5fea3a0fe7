package sqlite

import (
	"context"
	"database/sql"

	"github.com/pinward/pinward/requests"
)

// CreateIncident implements requests.IncidentStore.
func (s *Store) CreateIncident(ctx context.Context, in requests.Incident) (requests.Incident, error) {
	err := s.inTx(ctx, "record incident", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO incidents (tenant_id, occurred_from, occurred_to, discovered_at,
			description, information, people_count, risk_assessment, risk_factors, serious_risk,
			regulator_notified_at, people_notified_at, measures, recorded_by, recorded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			in.TenantID, micros(in.OccurredFrom), micros(in.OccurredTo), micros(in.DiscoveredAt),
			in.Description, in.Information, in.PeopleCount, in.RiskAssessment, in.RiskFactors, in.SeriousRisk,
			micros(in.RegulatorNotifiedAt), micros(in.PeopleNotifiedAt), in.Measures, in.RecordedBy, micros(in.RecordedAt))
		if err != nil {
			return err
		}
		in.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return requests.Incident{}, err
	}
	in.OccurredFrom, in.OccurredTo, in.DiscoveredAt = norm(in.OccurredFrom), norm(in.OccurredTo), norm(in.DiscoveredAt)
	in.RegulatorNotifiedAt, in.PeopleNotifiedAt, in.RecordedAt = norm(in.RegulatorNotifiedAt), norm(in.PeopleNotifiedAt), norm(in.RecordedAt)
	return in, nil
}

// ListIncidents implements requests.IncidentStore.
func (s *Store) ListIncidents(ctx context.Context, tenant string) ([]requests.Incident, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, tenant_id, occurred_from, occurred_to, discovered_at,
		description, information, people_count, risk_assessment, risk_factors, serious_risk,
		regulator_notified_at, people_notified_at, measures, recorded_by, recorded_at
		FROM incidents WHERE tenant_id = ? ORDER BY discovered_at DESC, id DESC`, tenant)
	if err != nil {
		return nil, wrap(ctx, "list incidents", err)
	}
	defer rows.Close()
	var out []requests.Incident
	for rows.Next() {
		var (
			in                                   requests.Incident
			from, to, disc, regN, peopleN, recAt sql.NullInt64
		)
		if err := rows.Scan(&in.ID, &in.TenantID, &from, &to, &disc, &in.Description, &in.Information, &in.PeopleCount,
			&in.RiskAssessment, &in.RiskFactors, &in.SeriousRisk, &regN, &peopleN, &in.Measures, &in.RecordedBy, &recAt); err != nil {
			return nil, wrap(ctx, "list incidents", err)
		}
		in.OccurredFrom, in.OccurredTo, in.DiscoveredAt = fromMicros(from), fromMicros(to), fromMicros(disc)
		in.RegulatorNotifiedAt, in.PeopleNotifiedAt, in.RecordedAt = fromMicros(regN), fromMicros(peopleN), fromMicros(recAt)
		out = append(out, in)
	}
	return out, wrap(ctx, "list incidents", rows.Err())
}
