package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/pinward/pinward/requests"
)

// CreateAPIKey implements requests.KeyStore. A zero CreatedAt is set to now.
func (s *Store) CreateAPIKey(ctx context.Context, k requests.Key) (requests.Key, error) {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now()
	}
	k.CreatedAt = norm(k.CreatedAt)
	err := s.inTx(ctx, "create API key", func(tx *sql.Tx) error {
		// Checked under the write lock, so the unique index never fires.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM api_keys WHERE hash = ?`, k.Hash).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return requests.APIKeyConflictError()
		}
		depts, wards := requests.JoinScope(k.Scope)
		res, err := tx.ExecContext(ctx, `INSERT INTO api_keys (tenant_id, role, label, hash, created_at, departments, wards) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			k.TenantID, string(k.Role), k.Label, k.Hash, micros(k.CreatedAt), depts, wards)
		if err != nil {
			return err
		}
		k.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return requests.Key{}, err
	}
	return k, nil
}

// LookupAPIKey implements requests.KeyStore.
func (s *Store) LookupAPIKey(ctx context.Context, hash string) (requests.Key, error) {
	var (
		k            requests.Key
		role         string
		created      sql.NullInt64
		depts, wards string
	)
	err := s.read.QueryRowContext(ctx, `SELECT id, tenant_id, role, label, hash, created_at, departments, wards FROM api_keys WHERE hash = ?`, hash).
		Scan(&k.ID, &k.TenantID, &role, &k.Label, &k.Hash, &created, &depts, &wards)
	if errors.Is(err, sql.ErrNoRows) {
		return requests.Key{}, requests.APIKeyNotFoundError()
	}
	if err != nil {
		return requests.Key{}, wrap(ctx, "look up API key", err)
	}
	k.Role, k.CreatedAt, k.Scope = requests.Role(role), fromMicros(created), requests.SplitScope(depts, wards)
	return k, wrap(ctx, "look up API key", keyState(ctx, s.read, &k))
}
