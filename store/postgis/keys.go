package postgis

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/requests"
)

// CreateAPIKey implements requests.KeyStore.
func (s *Store) CreateAPIKey(ctx context.Context, k requests.Key) (requests.Key, error) {
	depts, wards := requests.JoinScope(k.Scope)
	err := s.pool.QueryRow(ctx, `INSERT INTO api_keys (tenant_id, role, label, hash, created_at, departments, wards)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_at`,
		k.TenantID, string(k.Role), k.Label, k.Hash, k.CreatedAt, depts, wards).Scan(&k.ID, &k.CreatedAt)
	if isUniqueViolation(err, "api_keys_hash_key") {
		return requests.Key{}, requests.APIKeyConflictError()
	}
	if err != nil {
		return requests.Key{}, internal("create API key", err)
	}
	k.CreatedAt = k.CreatedAt.UTC() // as stored: microseconds, like LookupAPIKey
	return k, nil
}

// LookupAPIKey implements requests.KeyStore.
func (s *Store) LookupAPIKey(ctx context.Context, hash string) (requests.Key, error) {
	var k requests.Key
	var depts, wards string
	err := s.pool.QueryRow(ctx, `SELECT id, tenant_id, role, label, hash, created_at, departments, wards FROM api_keys WHERE hash = $1`,
		hash).Scan(&k.ID, &k.TenantID, &k.Role, &k.Label, &k.Hash, &k.CreatedAt, &depts, &wards)
	if errors.Is(err, pgx.ErrNoRows) {
		return requests.Key{}, requests.APIKeyNotFoundError()
	}
	if err != nil {
		return requests.Key{}, internal("look up API key", err)
	}
	k.CreatedAt, k.Scope = k.CreatedAt.UTC(), requests.SplitScope(depts, wards)
	return k, s.keyState(ctx, &k)
}
