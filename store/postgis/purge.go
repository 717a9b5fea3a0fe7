package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/pinward/pinward/requests"
)

// purgeReportersSQL deletes up to $3 reporters of requests closed before
// $2 and writes a reporter_purged event for each, in one statement.
const purgeReportersSQL = `
WITH doomed AS (
	SELECT r.request_id FROM pinward_private.reporters r
	JOIN requests q ON q.tenant_id = r.tenant_id AND q.id = r.request_id
	WHERE r.tenant_id = $1 AND q.status = $7 AND q.updated_at < $2
	ORDER BY r.request_id LIMIT $3
	FOR UPDATE OF r SKIP LOCKED
), gone AS (
	DELETE FROM pinward_private.reporters r USING doomed d
	WHERE r.tenant_id = $1 AND r.request_id = d.request_id
	RETURNING r.request_id
)
INSERT INTO events (tenant_id, request_id, at, actor, kind, note)
SELECT $1, request_id, $4, $5, $6, $8 FROM gone`

// PurgeReporters implements requests.ReporterPurger. Rows another
// transaction holds are skipped (SKIP LOCKED): two servers purging at once
// split the work instead of waiting on each other.
func (s *Store) PurgeReporters(ctx context.Context, p requests.ReporterPurge) (int, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, purgeReportersSQL, p.Tenant, p.ClosedBefore, p.Limit, p.At, p.Actor,
			string(requests.EventReporterPurged), string(requests.Closed),
			fmt.Sprintf("closed before %s", p.ClosedBefore.UTC().Format("2006-01-02")))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, internal("purge reporters", err)
	}
	return int(n), nil
}
