package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"time"

	"github.com/pinward/pinward/requests"
)

// keyState reads a key's revocation and expiry into k.
func keyState(ctx context.Context, q querier, k *requests.Key) error {
	var revoked, expires sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT revoked_at, expires_at FROM api_keys WHERE id = ?`, k.ID).Scan(&revoked, &expires); err != nil {
		return err
	}
	k.RevokedAt, k.ExpiresAt = fromMicros(revoked), fromMicros(expires)
	return nil
}

// ListAPIKeys implements requests.KeyAdmin.
func (s *Store) ListAPIKeys(ctx context.Context, tenant string) ([]requests.Key, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, tenant_id, role, label, hash, created_at, revoked_at, expires_at
		FROM api_keys WHERE tenant_id = ? ORDER BY id`, tenant)
	if err != nil {
		return nil, wrap(ctx, "list API keys", err)
	}
	defer rows.Close()
	var out []requests.Key
	for rows.Next() {
		var (
			k                         requests.Key
			role                      string
			created, revoked, expires sql.NullInt64
		)
		if err := rows.Scan(&k.ID, &k.TenantID, &role, &k.Label, &k.Hash, &created, &revoked, &expires); err != nil {
			return nil, wrap(ctx, "list API keys", err)
		}
		k.Role = requests.Role(role)
		k.CreatedAt, k.RevokedAt, k.ExpiresAt = fromMicros(created), fromMicros(revoked), fromMicros(expires)
		out = append(out, k)
	}
	return out, wrap(ctx, "list API keys", rows.Err())
}

// RevokeAPIKey implements requests.KeyAdmin.
func (s *Store) RevokeAPIKey(ctx context.Context, tenant string, id int64, at time.Time) (requests.Key, error) {
	err := s.inTx(ctx, "revoke API key", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE tenant_id = ? AND id = ?`,
			micros(at), tenant, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return requests.APIKeyIDNotFoundError(id)
		}
		return nil
	})
	if err != nil {
		return requests.Key{}, err
	}
	return s.keyByID(ctx, tenant, id)
}

func (s *Store) keyByID(ctx context.Context, tenant string, id int64) (requests.Key, error) {
	keys, err := s.ListAPIKeys(ctx, tenant)
	if err != nil {
		return requests.Key{}, err
	}
	for _, k := range keys {
		if k.ID == id {
			return k, nil
		}
	}
	return requests.Key{}, requests.APIKeyIDNotFoundError(id)
}

// SetAPIKeyExpiry implements requests.KeyAdmin.
func (s *Store) SetAPIKeyExpiry(ctx context.Context, tenant string, id int64, at time.Time) error {
	return s.inTx(ctx, "set API key expiry", func(tx *sql.Tx) error {
		var v any
		if !at.IsZero() {
			v = micros(at)
		}
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET expires_at = ? WHERE tenant_id = ? AND id = ?`, v, tenant, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return requests.APIKeyIDNotFoundError(id)
		}
		return nil
	})
}

// PageKey implements requests.KeyAdmin.
func (s *Store) PageKey(ctx context.Context, tenant string) (string, int64, error) {
	var (
		key string
		id  int64
	)
	err := s.read.QueryRowContext(ctx, `SELECT key, key_id FROM page_keys WHERE tenant_id = ?`, tenant).Scan(&key, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, nil
	}
	return key, id, wrap(ctx, "read the page key", err)
}

// SetPageKey implements requests.KeyAdmin.
func (s *Store) SetPageKey(ctx context.Context, tenant, key string, id int64) error {
	return s.inTx(ctx, "store the page key", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO page_keys (tenant_id, key, key_id) VALUES (?, ?, ?)
			ON CONFLICT (tenant_id) DO UPDATE SET key = excluded.key, key_id = excluded.key_id`, tenant, key, id)
		return err
	})
}
