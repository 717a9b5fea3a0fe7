package postgis

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pinward/pinward/requests"
)

// changeChannel is the NOTIFY channel of the change log (migration
// 0008_changes); the payload is the tenant.
const changeChannel = "pinward_changes"

// xminSQL is the oldest transaction of this database still running when
// the statement's snapshot was taken: every change logged by an older
// transaction is committed (or gone) and visible to that same statement.
// Transactions of the server's other databases are left out (they cannot
// write this change log), so a long one there (a bulk load, another
// application) does not hold the stream back. A transaction is left out
// only when pg_stat_activity shows it in another database; one it cannot
// place (it ended meanwhile, or the role may not see it) is waited for.
const xminSQL = `(SELECT coalesce(min(x.id), pg_snapshot_xmax(pg_current_snapshot())::text::bigint)
	FROM (SELECT v::text::bigint AS id FROM pg_snapshot_xip(pg_current_snapshot()) v) x
	WHERE x.id % 4294967296 NOT IN (SELECT backend_xid::text::bigint FROM pg_stat_activity
		WHERE backend_xid IS NOT NULL AND datid IS DISTINCT FROM (SELECT oid FROM pg_database WHERE datname = current_database())))`

// Changes implements requests.ChangeFeed. It reads rows in (tx, id) order
// up to the oldest running transaction, in one statement so the horizon
// and the rows come from one snapshot; when the batch is short, the next
// cursor moves to that horizon (nothing can commit before it any more).
func (s *Store) Changes(ctx context.Context, tenant string, after requests.ChangeCursor, limit int) ([]requests.Change, requests.ChangeCursor, error) {
	if limit <= 0 || limit > requests.MaxChanges {
		limit = requests.MaxChanges
	}
	rows, err := s.pool.Query(ctx, `WITH h AS (SELECT `+xminSQL+` AS xmin)
		SELECT h.xmin, c.tx, c.id, c.kind, c.key, c.at FROM h LEFT JOIN LATERAL (
			SELECT tx, id, kind, key, at FROM changes
			WHERE tenant_id = $1 AND (tx, id) > ($2, $3) AND tx < h.xmin
			ORDER BY tx, id LIMIT $4) c ON true`, tenant, after.Tx, after.Seq, limit)
	if err != nil {
		return nil, after, internal("read changes", err)
	}
	var (
		out  []requests.Change
		xmin int64
	)
	for rows.Next() {
		var (
			tx, id *int64
			kind   *string
			key    *string
			at     *time.Time
		)
		if err := rows.Scan(&xmin, &tx, &id, &kind, &key, &at); err != nil {
			rows.Close()
			return nil, after, internal("read changes", err)
		}
		if tx == nil {
			continue // no change: the LEFT JOIN's one row of NULLs
		}
		out = append(out, requests.Change{
			Cursor: requests.ChangeCursor{Tx: *tx, Seq: *id},
			Kind:   requests.ChangeKind(*kind), Key: *key, At: at.UTC(),
		})
	}
	if err := rows.Err(); err != nil {
		return nil, after, internal("read changes", err)
	}
	next := after
	if len(out) > 0 {
		next = out[len(out)-1].Cursor
	}
	if len(out) < limit {
		next = next.Max(horizon(xmin))
	}
	return out, next, nil
}

// horizon is the cursor past every change of transactions older than
// xmin: such transactions have all ended, so no row can still appear at or
// before it.
func horizon(xmin int64) requests.ChangeCursor {
	return requests.ChangeCursor{Tx: xmin - 1, Seq: math.MaxInt64}
}

// ChangeHead implements requests.ChangeFeed: the horizon now, with the
// snapshot's xmax and running transactions, which tell the changes
// already committed after the horizon (the ones a load will hold).
func (s *Store) ChangeHead(ctx context.Context, tenant string) (requests.ChangeStart, error) {
	var (
		xmin, xmax int64
		running    []int64
	)
	if err := s.pool.QueryRow(ctx, `SELECT `+xminSQL+`,
		pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
		ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(pg_current_snapshot()) x)`).Scan(&xmin, &xmax, &running); err != nil {
		return requests.ChangeStart{}, internal("read the change head", err)
	}
	return requests.ChangeStart{After: horizon(xmin), Below: xmax, Running: running}, nil
}

// ChangesCommitted implements requests.ChangeFeed: every committed
// transaction's ID is below the snapshot's xmax.
func (s *Store) ChangesCommitted(ctx context.Context, tenant string) (requests.ChangeCursor, error) {
	var xmax int64
	if err := s.pool.QueryRow(ctx, `SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint`).Scan(&xmax); err != nil {
		return requests.ChangeCursor{}, internal("read the committed changes", err)
	}
	return horizon(xmax), nil
}

// WatchChanges implements requests.ChangeFeed with LISTEN on a connection
// of its own (outside the pool, which it would otherwise hold forever). A
// lost connection is reopened after a second, with a wake-up so the
// reader catches up on what it may have missed meanwhile. When ctx is
// done it closes the connection, then the channel.
func (s *Store) WatchChanges(ctx context.Context) (<-chan struct{}, error) {
	conn, err := s.listen(ctx)
	if err != nil {
		return nil, err
	}
	wake := make(chan struct{}, 1)
	signal := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	go func() {
		defer close(wake)
		defer func() {
			if conn != nil {
				// Bounded: a server that stopped answering must not hold
				// up a shutdown.
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				conn.Close(cctx)
			}
		}()
		for ctx.Err() == nil {
			if conn == nil {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
				if conn, err = s.listen(ctx); err != nil {
					conn = nil // the reader's polling covers the gap
					continue
				}
				signal()
			}
			if _, err := conn.WaitForNotification(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				conn.Close(context.WithoutCancel(ctx))
				conn = nil
				continue
			}
			signal()
		}
	}()
	return wake, nil
}

func (s *Store) listen(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	// Named, so an operator (or a test) can tell the listeners apart.
	cfg.RuntimeParams["application_name"] = "pinward changes"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgis: connect to listen: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+changeChannel); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("postgis: listen: %w", err)
	}
	return conn, nil
}
