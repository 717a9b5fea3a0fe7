package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/pinward/pinward/requests"
)

// AddBlock implements requests.BlockStore.
func (s *Store) AddBlock(ctx context.Context, e requests.BlockEntry) (requests.BlockEntry, error) {
	err := s.inTx(ctx, "add block", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO block_entries (tenant_id, kind, value, reason, actor, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, kind, value) DO NOTHING`,
			e.TenantID, string(e.Kind), e.Value, e.Reason, e.Actor, micros(e.CreatedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return requests.BlockExistsError()
		}
		e.ID, err = res.LastInsertId()
		return err
	})
	e.CreatedAt = norm(e.CreatedAt)
	return e, err
}

// ListBlocks implements requests.BlockStore.
func (s *Store) ListBlocks(ctx context.Context, tenant string) ([]requests.BlockEntry, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, tenant_id, kind, value, reason, actor, created_at
		FROM block_entries WHERE tenant_id = ? ORDER BY id`, tenant)
	if err != nil {
		return nil, wrap(ctx, "list blocks", err)
	}
	defer rows.Close()
	var out []requests.BlockEntry
	for rows.Next() {
		var (
			e    requests.BlockEntry
			kind string
			at   sql.NullInt64
		)
		if err := rows.Scan(&e.ID, &e.TenantID, &kind, &e.Value, &e.Reason, &e.Actor, &at); err != nil {
			return nil, wrap(ctx, "list blocks", err)
		}
		e.Kind, e.CreatedAt = requests.BlockKind(kind), fromMicros(at)
		out = append(out, e)
	}
	return out, wrap(ctx, "list blocks", rows.Err())
}

// RemoveBlock implements requests.BlockStore.
func (s *Store) RemoveBlock(ctx context.Context, tenant string, id int64) error {
	return s.inTx(ctx, "remove block", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM block_entries WHERE tenant_id = ? AND id = ?`, tenant, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return requests.BlockNotFoundError()
		}
		return nil
	})
}

// nextRequestID is the next request number: past every request's and
// every number answered to a blocked sender, so no request ever has one of
// those (SQLite alone would number requests max+1 and reuse them).
const nextRequestID = `(SELECT max(COALESCE((SELECT max(id) FROM requests), 0),
	COALESCE((SELECT max(answered_id) FROM blocked_submissions), 0)) + 1)`

// StoreBlocked implements requests.BlockStore. The answered number is
// nextRequestID, which the next request then skips.
func (s *Store) StoreBlocked(ctx context.Context, b requests.BlockedSubmission) (requests.BlockedSubmission, error) {
	err := s.inTx(ctx, "store blocked submission", func(tx *sql.Tx) error {
		var answered int64
		if err := tx.QueryRowContext(ctx, `SELECT `+nextRequestID).Scan(&answered); err != nil {
			return err
		}
		// A retry's row answers with the first one's number and token.
		var at sql.NullInt64
		err := tx.QueryRowContext(ctx, `INSERT INTO blocked_submissions (tenant_id, answered_id, token, entry_id, kind, value,
			service_code, description, address, lon, lat, ward_id, department, email, device_id, actor, received_at, idempotency_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key <> '' DO UPDATE SET idempotency_key = excluded.idempotency_key
			RETURNING id, answered_id, token, received_at`,
			b.TenantID, answered, b.Token, b.EntryID, string(b.Kind), b.Value, b.ServiceCode, b.Description, b.Address,
			b.Point[0], b.Point[1], b.WardID, b.Department, b.Email, b.DeviceID, b.Actor, micros(b.ReceivedAt), b.IdempotencyKey).
			Scan(&b.ID, &answered, &b.Token, &at)
		b.ServiceRequestID, b.ReceivedAt = requests.FormatServiceRequestID(answered), fromMicros(at)
		return err
	})
	return b, err
}

// ListBlocked implements requests.BlockStore.
func (s *Store) ListBlocked(ctx context.Context, tenant string, scope requests.Scope, limit int) ([]requests.BlockedSubmission, error) {
	args := []any{tenant}
	where := "tenant_id = ?"
	if c := scope.Where("department", "ward_id", func(v any) string { args = append(args, v); return "?" }); c != "" {
		where += " AND " + c
	}
	args = append(args, limit)
	rows, err := s.read.QueryContext(ctx, `SELECT id, tenant_id, answered_id, token, entry_id, kind, value, service_code,
		description, address, lon, lat, ward_id, department, email, device_id, actor, received_at
		FROM blocked_submissions WHERE `+where+` ORDER BY id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, wrap(ctx, "list blocked submissions", err)
	}
	defer rows.Close()
	var out []requests.BlockedSubmission
	for rows.Next() {
		var (
			b        requests.BlockedSubmission
			answered int64
			kind     string
			at       sql.NullInt64
		)
		if err := rows.Scan(&b.ID, &b.TenantID, &answered, &b.Token, &b.EntryID, &kind, &b.Value, &b.ServiceCode,
			&b.Description, &b.Address, &b.Point[0], &b.Point[1], &b.WardID, &b.Department, &b.Email, &b.DeviceID,
			&b.Actor, &at); err != nil {
			return nil, wrap(ctx, "list blocked submissions", err)
		}
		b.ServiceRequestID, b.Kind, b.ReceivedAt = requests.FormatServiceRequestID(answered), requests.BlockKind(strings.TrimSpace(kind)), fromMicros(at)
		out = append(out, b)
	}
	return out, wrap(ctx, "list blocked submissions", rows.Err())
}
