package sqlite

import (
	"context"

	"github.com/pinward/pinward/requests"
)

// PurgeableMedia implements requests.MediaPurgeLister: the photos of the
// requests PurgeMedia would pick (same condition, order and limit).
func (s *Store) PurgeableMedia(ctx context.Context, p requests.ReporterPurge) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM media WHERE tenant_id = ? AND request_id IN (
			SELECT DISTINCT m.request_id FROM media m JOIN requests q ON q.id = m.request_id
			WHERE m.tenant_id = ? AND q.status = ? AND COALESCE(q.updated_at, q.requested_at) < ?
			ORDER BY m.request_id LIMIT ?)
		ORDER BY request_id, seq`, p.Tenant, p.Tenant, string(requests.Closed), micros(p.ClosedBefore), p.Limit)
	if err != nil {
		return nil, wrap(ctx, "list photos to purge", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(ctx, "list photos to purge", err)
		}
		ids = append(ids, id)
	}
	return ids, wrap(ctx, "list photos to purge", rows.Err())
}
