package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/pinward/pinward/requests"
)

// OpsStats implements requests.OpsStatsStore in one read transaction.
func (s *Store) OpsStats(ctx context.Context, tenant string, now time.Time) (requests.OpsStats, error) {
	var st requests.OpsStats
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return st, wrap(ctx, "ops stats", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT w.department,
			sum(o.state = 'pending'), sum(o.state = 'dead'),
			min(CASE WHEN o.state = 'pending' THEN o.created_at END)
		FROM outbox o JOIN work_orders w ON w.id = o.work_order_id
		WHERE o.tenant_id = ? AND o.state IN ('pending', 'dead')
		GROUP BY w.department ORDER BY w.department`, tenant)
	if err != nil {
		return st, wrap(ctx, "ops stats: outbox", err)
	}
	defer rows.Close()
	for rows.Next() {
		var o requests.OutboxStat
		var oldest sql.NullInt64
		if err := rows.Scan(&o.Connector, &o.Pending, &o.Dead, &oldest); err != nil {
			return st, wrap(ctx, "ops stats: outbox", err)
		}
		if oldest.Valid {
			o.OldestPending = time.UnixMicro(oldest.Int64).UTC()
		}
		st.Outbox = append(st.Outbox, o)
	}
	if err := rows.Err(); err != nil {
		return st, wrap(ctx, "ops stats: outbox", err)
	}
	err = tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(due_at < ?), 0)
		FROM requests WHERE tenant_id = ? AND status <> 'closed'`, now.UnixMicro(), tenant).Scan(&st.Open, &st.Overdue)
	return st, wrap(ctx, "ops stats: requests", err)
}
