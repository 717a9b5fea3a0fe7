package postgis

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/requests"
)

// keyState reads a key's revocation and expiry into k.
func (s *Store) keyState(ctx context.Context, k *requests.Key) error {
	var revoked, expires *time.Time
	if err := s.pool.QueryRow(ctx, `SELECT revoked_at, expires_at FROM api_keys WHERE id = $1`, k.ID).Scan(&revoked, &expires); err != nil {
		return internal("look up API key", err)
	}
	k.RevokedAt, k.ExpiresAt = utcOrZero(revoked), utcOrZero(expires)
	return nil
}

// ListAPIKeys implements requests.KeyAdmin.
func (s *Store) ListAPIKeys(ctx context.Context, tenant string) ([]requests.Key, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, tenant_id, role, label, hash, created_at, revoked_at, expires_at
		FROM api_keys WHERE tenant_id = $1 ORDER BY id`, tenant)
	if err != nil {
		return nil, internal("list API keys", err)
	}
	defer rows.Close()
	var out []requests.Key
	for rows.Next() {
		var (
			k                requests.Key
			revoked, expires *time.Time
		)
		if err := rows.Scan(&k.ID, &k.TenantID, &k.Role, &k.Label, &k.Hash, &k.CreatedAt, &revoked, &expires); err != nil {
			return nil, internal("list API keys", err)
		}
		k.CreatedAt, k.RevokedAt, k.ExpiresAt = k.CreatedAt.UTC(), utcOrZero(revoked), utcOrZero(expires)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list API keys", err)
	}
	return out, nil
}

// RevokeAPIKey implements requests.KeyAdmin.
func (s *Store) RevokeAPIKey(ctx context.Context, tenant string, id int64, at time.Time) (requests.Key, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE tenant_id = $1 AND id = $2`, tenant, id, at)
	if err != nil {
		return requests.Key{}, internal("revoke API key", err)
	}
	if tag.RowsAffected() == 0 {
		return requests.Key{}, requests.APIKeyIDNotFoundError(id)
	}
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
	var v *time.Time
	if !at.IsZero() {
		v = &at
	}
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET expires_at = $3 WHERE tenant_id = $1 AND id = $2`, tenant, id, v)
	if err != nil {
		return internal("set API key expiry", err)
	}
	if tag.RowsAffected() == 0 {
		return requests.APIKeyIDNotFoundError(id)
	}
	return nil
}

// PageKey implements requests.KeyAdmin.
func (s *Store) PageKey(ctx context.Context, tenant string) (string, int64, error) {
	var (
		key string
		id  int64
	)
	err := s.pool.QueryRow(ctx, `SELECT key, key_id FROM page_keys WHERE tenant_id = $1`, tenant).Scan(&key, &id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, internal("read the page key", err)
	}
	return key, id, nil
}

// SetPageKey implements requests.KeyAdmin.
func (s *Store) SetPageKey(ctx context.Context, tenant, key string, id int64) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO page_keys (tenant_id, key, key_id) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id) DO UPDATE SET key = excluded.key, key_id = excluded.key_id`, tenant, key, id)
	if err != nil {
		return internal("store the page key", err)
	}
	return nil
}
