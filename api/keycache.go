package api

import (
	"context"
	"sync"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// keyCacheTTL is how long a known API key is trusted without asking the
// store again. Only found keys are cached, so a key just created works at
// once; a key revoked (pinward keys revoke, on any server or none) is
// refused by every server within this long: a store lookup per key and
// server twice a second costs nothing, and needs no signal between them.
const keyCacheTTL = 500 * time.Millisecond

// keyCacheMax bounds the cache; past it, the cache starts over.
const keyCacheMax = 10_000

// keyCache spares each POST the store round trip of its API key lookup: an
// integrator sends many requests with one key.
type keyCache struct {
	requests.KeyStore
	mu      sync.Mutex
	entries map[string]cachedKey
}

type cachedKey struct {
	key     requests.Key
	expires time.Time
}

func newKeyCache(ks requests.KeyStore) *keyCache {
	return &keyCache{KeyStore: ks, entries: map[string]cachedKey{}}
}

// LookupAPIKey implements requests.KeyStore.
func (c *keyCache) LookupAPIKey(ctx context.Context, hash string) (requests.Key, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[hash]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.key, nil
	}
	k, err := c.KeyStore.LookupAPIKey(ctx, hash)
	if err != nil {
		return k, err
	}
	c.mu.Lock()
	if len(c.entries) >= keyCacheMax {
		clear(c.entries)
	}
	c.entries[hash] = cachedKey{key: k, expires: now.Add(keyCacheTTL)}
	c.mu.Unlock()
	return k, nil
}

// errAPIKeyRevoked refuses a key that was revoked or has expired.
func errAPIKeyRevoked() error {
	return i18n.Errorf(i18n.Forbidden, "api_key", i18n.T("this API key was revoked or has expired",
		"cette clé d'API a été révoquée ou a expiré"))
}
