package postgis

import (
	"context"
	"time"

	"github.com/pinward/pinward/requests"
)

// openNearSQL selects the open requests of q's codes since q.Since that lie
// in q.Bound (by the GiST index) or name q's asset (by requests_asset). The
// asset is a second branch with its own index rather than an OR, which
// PostgreSQL can only serve by scanning the tenant's open requests of the
// codes. A request in both branches comes twice.
func openNearSQL(q requests.ClusterQuery) (string, []any) {
	var since *time.Time
	if !q.Since.IsZero() {
		since = &q.Since
	}
	sql := `SELECT ` + requestColumns + ` FROM requests
		WHERE geom && ST_MakeEnvelope($4, $5, $6, $7, 4326)
		  AND tenant_id = $1 AND status <> 'closed' AND service_code = ANY($2)
		  AND ($3::timestamptz IS NULL OR requested_at >= $3)`
	args := []any{q.Tenant, q.ServiceCodes, since, q.Bound.Min[0], q.Bound.Min[1], q.Bound.Max[0], q.Bound.Max[1]}
	if q.AssetID != "" {
		sql += ` UNION ALL SELECT ` + requestColumns + ` FROM requests
		WHERE tenant_id = $1 AND asset_layer = $8 AND asset_id = $9 AND asset_id <> ''
		  AND status <> 'closed' AND service_code = ANY($2)
		  AND ($3::timestamptz IS NULL OR requested_at >= $3)`
		args = append(args, q.AssetLayer, q.AssetID)
	}
	return sql, args
}

// OpenRequestsNear implements requests.Store.
func (s *Store) OpenRequestsNear(ctx context.Context, q requests.ClusterQuery) ([]requests.Request, error) {
	if len(q.ServiceCodes) == 0 {
		return nil, nil
	}
	sql, args := openNearSQL(q)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, internal("open requests near", err)
	}
	found, err := collectRequests(rows)
	if err != nil {
		return nil, internal("open requests near", err)
	}
	out := found[:0]
	seen := make(map[int64]bool, len(found))
	for _, r := range found {
		if !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	return out, nil
}
