package postgis

import (
	"context"
	"time"

	"github.com/pinward/pinward/requests"
)

// OpsStats implements requests.OpsStatsStore: two aggregates, each read by
// index (outbox by state, requests by tenant).
func (s *Store) OpsStats(ctx context.Context, tenant string, now time.Time) (requests.OpsStats, error) {
	var st requests.OpsStats
	rows, err := s.pool.Query(ctx, `SELECT w.department,
			count(*) FILTER (WHERE o.state = 'pending'), count(*) FILTER (WHERE o.state = 'dead'),
			min(o.created_at) FILTER (WHERE o.state = 'pending')
		FROM outbox o JOIN work_orders w ON w.tenant_id = o.tenant_id AND w.id = o.work_order_id
		WHERE o.tenant_id = $1 AND o.state IN ('pending', 'dead')
		GROUP BY w.department ORDER BY w.department`, tenant)
	if err != nil {
		return st, wrapCtx(ctx, "ops stats: outbox", err)
	}
	defer rows.Close()
	for rows.Next() {
		var o requests.OutboxStat
		var oldest *time.Time
		if err := rows.Scan(&o.Connector, &o.Pending, &o.Dead, &oldest); err != nil {
			return st, wrapCtx(ctx, "ops stats: outbox", err)
		}
		if oldest != nil {
			o.OldestPending = oldest.UTC()
		}
		st.Outbox = append(st.Outbox, o)
	}
	if err := rows.Err(); err != nil {
		return st, wrapCtx(ctx, "ops stats: outbox", err)
	}
	err = s.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE due_at < $2)
		FROM requests WHERE tenant_id = $1 AND status <> 'closed'`, tenant, now).Scan(&st.Open, &st.Overdue)
	return st, wrapCtx(ctx, "ops stats: requests", err)
}
