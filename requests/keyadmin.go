package requests

import (
	"context"
	"time"

	"github.com/pinward/pinward/i18n"
)

// KeyAdmin manages API keys after they are made: list, revoke, expire,
// and the resident page's key, which every server of a tenant publishes
// and which outlives restarts.
type KeyAdmin interface {
	// ListAPIKeys returns tenant's keys by ID, revoked ones included.
	ListAPIKeys(ctx context.Context, tenant string) ([]Key, error)
	// RevokeAPIKey marks key id of tenant revoked at at (a key already
	// revoked keeps its first time) and returns it; APIKeyIDNotFoundError
	// when tenant has no such key. LookupAPIKey still finds a revoked key,
	// with RevokedAt set: Key.Usable refuses it.
	RevokeAPIKey(ctx context.Context, tenant string, id int64, at time.Time) (Key, error)
	// SetAPIKeyExpiry makes key id of tenant expire at at (zero: never).
	SetAPIKeyExpiry(ctx context.Context, tenant string, id int64, at time.Time) error
	// PageKey returns the key stored as tenant's page key ("" for none).
	PageKey(ctx context.Context, tenant string) (key string, id int64, err error)
	// SetPageKey stores key (of ID id) as tenant's page key.
	SetPageKey(ctx context.Context, tenant, key string, id int64) error
}

// Usable reports whether k may be used at now: not revoked, not expired.
func (k Key) Usable(now time.Time) bool {
	return k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}

// APIKeyIDNotFoundError is the error for an unknown key ID (keys revoke).
func APIKeyIDNotFoundError(id int64) *i18n.Error {
	return i18n.Errorf(i18n.NotFound, "id", i18n.T("there is no API key %d", "il n'existe aucune clé d'API %d"), id)
}
