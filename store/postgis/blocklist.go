package postgis

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/requests"
)

// AddBlock implements requests.BlockStore.
func (s *Store) AddBlock(ctx context.Context, e requests.BlockEntry) (requests.BlockEntry, error) {
	err := s.pool.QueryRow(ctx, `INSERT INTO pinward_private.block_entries (tenant_id, kind, value, reason, actor, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT ON CONSTRAINT block_entries_value DO NOTHING RETURNING id, created_at`,
		e.TenantID, string(e.Kind), e.Value, e.Reason, e.Actor, e.CreatedAt).Scan(&e.ID, &e.CreatedAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return e, requests.BlockExistsError()
	case err != nil:
		return e, wrapCtx(ctx, "add block", err)
	}
	e.CreatedAt = e.CreatedAt.UTC()
	return e, nil
}

// ListBlocks implements requests.BlockStore.
func (s *Store) ListBlocks(ctx context.Context, tenant string) ([]requests.BlockEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, tenant_id, kind, value, reason, actor, created_at
		FROM pinward_private.block_entries WHERE tenant_id = $1 ORDER BY id`, tenant)
	if err != nil {
		return nil, wrapCtx(ctx, "list blocks", err)
	}
	defer rows.Close()
	var out []requests.BlockEntry
	for rows.Next() {
		var (
			e    requests.BlockEntry
			kind string
		)
		if err := rows.Scan(&e.ID, &e.TenantID, &kind, &e.Value, &e.Reason, &e.Actor, &e.CreatedAt); err != nil {
			return nil, wrapCtx(ctx, "list blocks", err)
		}
		e.Kind, e.CreatedAt = requests.BlockKind(kind), e.CreatedAt.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapCtx(ctx, "list blocks", err)
	}
	return out, nil
}

// RemoveBlock implements requests.BlockStore.
func (s *Store) RemoveBlock(ctx context.Context, tenant string, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM pinward_private.block_entries WHERE tenant_id = $1 AND id = $2`, tenant, id)
	if err != nil {
		return wrapCtx(ctx, "remove block", err)
	}
	if tag.RowsAffected() == 0 {
		return requests.BlockNotFoundError()
	}
	return nil
}

// StoreBlocked implements requests.BlockStore. The answered number comes
// from the requests' own sequence, so no request ever has it.
func (s *Store) StoreBlocked(ctx context.Context, b requests.BlockedSubmission) (requests.BlockedSubmission, error) {
	var answered int64
	// A retry's row answers with the first one's number and token.
	err := s.pool.QueryRow(ctx, `INSERT INTO pinward_private.blocked_submissions (tenant_id, answered_id, token, entry_id,
			kind, value, service_code, description, address, lon, lat, ward_id, department, email, device_id, actor, received_at,
			idempotency_key)
		VALUES ($1, nextval(pg_get_serial_sequence('requests', 'id')::regclass), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
			$12, $13, $14, $15, $16, $17)
		ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key <> '' DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
		RETURNING id, answered_id, token, received_at`,
		b.TenantID, b.Token, b.EntryID, string(b.Kind), b.Value, b.ServiceCode, b.Description, b.Address,
		b.Point[0], b.Point[1], b.WardID, b.Department, b.Email, b.DeviceID, b.Actor, b.ReceivedAt, b.IdempotencyKey).
		Scan(&b.ID, &answered, &b.Token, &b.ReceivedAt)
	if err != nil {
		return b, wrapCtx(ctx, "store blocked submission", err)
	}
	b.ServiceRequestID, b.ReceivedAt = requests.FormatServiceRequestID(answered), b.ReceivedAt.UTC()
	return b, nil
}

// ListBlocked implements requests.BlockStore.
func (s *Store) ListBlocked(ctx context.Context, tenant string, scope requests.Scope, limit int) ([]requests.BlockedSubmission, error) {
	args := []any{tenant, limit}
	where := "tenant_id = $1"
	if c := scope.Where("department", "ward_id", func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}); c != "" {
		where += " AND " + c
	}
	rows, err := s.pool.Query(ctx, `SELECT id, tenant_id, answered_id, token, entry_id, kind, value, service_code,
		description, address, lon, lat, ward_id, department, email, device_id, actor, received_at
		FROM pinward_private.blocked_submissions WHERE `+where+` ORDER BY id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, wrapCtx(ctx, "list blocked submissions", err)
	}
	defer rows.Close()
	var out []requests.BlockedSubmission
	for rows.Next() {
		var (
			b        requests.BlockedSubmission
			answered int64
			kind     string
		)
		if err := rows.Scan(&b.ID, &b.TenantID, &answered, &b.Token, &b.EntryID, &kind, &b.Value, &b.ServiceCode,
			&b.Description, &b.Address, &b.Point[0], &b.Point[1], &b.WardID, &b.Department, &b.Email, &b.DeviceID,
			&b.Actor, &b.ReceivedAt); err != nil {
			return nil, wrapCtx(ctx, "list blocked submissions", err)
		}
		b.ServiceRequestID, b.Kind, b.ReceivedAt = requests.FormatServiceRequestID(answered), requests.BlockKind(kind), b.ReceivedAt.UTC()
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapCtx(ctx, "list blocked submissions", err)
	}
	return out, nil
}
