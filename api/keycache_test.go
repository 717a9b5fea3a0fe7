package api

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinward/pinward/requests"
)

// countingKeys is a KeyStore holding one key, counting lookups: the point
// of the test is how often the real store is asked.
type countingKeys struct {
	key     requests.Key
	lookups atomic.Int64
}

func (c *countingKeys) CreateAPIKey(_ context.Context, k requests.Key) (requests.Key, error) {
	return k, nil
}

func (c *countingKeys) LookupAPIKey(_ context.Context, hash string) (requests.Key, error) {
	c.lookups.Add(1)
	if hash != c.key.Hash {
		return requests.Key{}, requests.APIKeyNotFoundError()
	}
	return c.key, nil
}

func TestKeyCache(t *testing.T) {
	ks := &countingKeys{key: requests.Key{ID: 7, TenantID: "t", Role: requests.RoleIntegrator, Hash: "h"}}
	c := newKeyCache(ks)
	ctx := context.Background()
	for range 5 {
		if k, err := c.LookupAPIKey(ctx, "h"); err != nil || k.ID != 7 {
			t.Fatalf("LookupAPIKey = %+v, %v", k, err)
		}
	}
	if n := ks.lookups.Load(); n != 1 {
		t.Errorf("5 lookups of one key asked the store %d times, want 1", n)
	}
	// Unknown keys are never cached: a key created a moment later works.
	for range 2 {
		if _, err := c.LookupAPIKey(ctx, "new"); err == nil {
			t.Fatal("an unknown key was found")
		}
	}
	if n := ks.lookups.Load(); n != 3 {
		t.Errorf("unknown keys asked the store %d times in all, want 3", n-1)
	}
	ks.key.Hash = "new"
	if _, err := c.LookupAPIKey(ctx, "new"); err != nil {
		t.Errorf("a key created after a failed lookup: %v", err)
	}
	// Expired entries are looked up again.
	c.mu.Lock()
	e := c.entries["h"]
	e.expires = time.Now().Add(-time.Second)
	c.entries["h"] = e
	c.mu.Unlock()
	if _, err := c.LookupAPIKey(ctx, "h"); err == nil {
		t.Error("an expired entry for a key the store no longer has was trusted")
	}
}
