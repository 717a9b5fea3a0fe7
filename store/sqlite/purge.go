package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pinward/pinward/requests"
)

// PurgeReporters implements requests.ReporterPurger: one transaction
// deletes up to p.Limit reporters of requests closed before
// p.ClosedBefore, each with a reporter_purged event.
func (s *Store) PurgeReporters(ctx context.Context, p requests.ReporterPurge) (int, error) {
	var n int
	err := s.inTx(ctx, "purge reporters", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT r.request_id FROM reporters r JOIN requests q ON q.id = r.request_id
			WHERE r.tenant_id = ? AND q.status = ? AND COALESCE(q.updated_at, q.requested_at) < ?
			ORDER BY r.request_id LIMIT ?`, p.Tenant, string(requests.Closed), micros(p.ClosedBefore), p.Limit)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		note := fmt.Sprintf("closed before %s", p.ClosedBefore.UTC().Format("2006-01-02"))
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM reporters WHERE tenant_id = ? AND request_id = ?`, p.Tenant, id); err != nil {
				return err
			}
			if err := insertEvent(ctx, tx, requests.Event{TenantID: p.Tenant, RequestID: id, At: p.At, Actor: p.Actor,
				Kind: requests.EventReporterPurged, Note: note}); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}
