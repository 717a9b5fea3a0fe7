package postgis

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/requests"
)

// PurgeableMedia implements requests.MediaPurgeLister: the photos of the
// requests PurgeMedia would pick (same condition, order and limit).
func (s *Store) PurgeableMedia(ctx context.Context, p requests.ReporterPurge) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM media WHERE tenant_id = $1 AND request_id IN (
			SELECT DISTINCT m.request_id FROM media m
			JOIN requests q ON q.tenant_id = m.tenant_id AND q.id = m.request_id
			WHERE m.tenant_id = $1 AND q.status = $2 AND q.updated_at < $3
			ORDER BY m.request_id LIMIT $4)
		ORDER BY request_id, seq`, p.Tenant, string(requests.Closed), p.ClosedBefore, p.Limit)
	if err != nil {
		return nil, wrapCtx(ctx, "list photos to purge", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrapCtx(ctx, "list photos to purge", err)
	}
	return ids, nil
}
