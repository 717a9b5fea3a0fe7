package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// testKeyAdmin: keys are listed, revoked (LookupAPIKey then shows it) and
// expire; the page key is kept across calls (restarts) until rotated or
// revoked.
func testKeyAdmin(t *testing.T, s Stores) {
	ctx := context.Background()
	mk := func(tenant string, role requests.Role) requests.Key {
		t.Helper()
		_, hash := requests.NewAPIKey()
		k, err := s.CreateAPIKey(ctx, requests.Key{TenantID: tenant, Role: role, Label: string(role), Hash: hash, CreatedAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	a, b := mk(tenantA, requests.RoleIntegrator), mk(tenantA, requests.RoleStaff)
	other := mk(tenantB, requests.RoleStaff)
	keys, err := s.ListAPIKeys(ctx, tenantA)
	if err != nil || len(keys) != 2 || keys[0].ID != a.ID || keys[1].ID != b.ID || keys[0].Hash != a.Hash || !keys[0].CreatedAt.Equal(utc(t0)) {
		t.Fatalf("ListAPIKeys = %+v, %v; want the tenant's two keys", keys, err)
	}
	_, err = s.RevokeAPIKey(ctx, tenantA, other.ID, t0)
	wantKind(t, "revoking another tenant's key", err, i18n.NotFound)
	at := t0.Add(time.Hour)
	k, err := s.RevokeAPIKey(ctx, tenantA, a.ID, at)
	if err != nil || !k.RevokedAt.Equal(utc(at)) {
		t.Fatalf("RevokeAPIKey = %+v, %v", k, err)
	}
	if k, _ := s.RevokeAPIKey(ctx, tenantA, a.ID, at.Add(time.Hour)); !k.RevokedAt.Equal(utc(at)) {
		t.Errorf("revoking twice moved the time to %v", k.RevokedAt)
	}
	got, err := s.LookupAPIKey(ctx, a.Hash)
	if err != nil || !got.RevokedAt.Equal(utc(at)) || got.Usable(at) {
		t.Errorf("LookupAPIKey of a revoked key = %+v, %v; want it with RevokedAt", got, err)
	}
	exp := t0.Add(48 * time.Hour)
	if err := s.SetAPIKeyExpiry(ctx, tenantA, b.ID, exp); err != nil {
		t.Fatal(err)
	}
	got, err = s.LookupAPIKey(ctx, b.Hash)
	if err != nil || !got.ExpiresAt.Equal(utc(exp)) || !got.Usable(exp.Add(-time.Second)) || got.Usable(exp) {
		t.Errorf("LookupAPIKey of an expiring key = %+v, %v", got, err)
	}
	wantKind(t, "expiring an unknown key", s.SetAPIKeyExpiry(ctx, tenantA, 99999, exp), i18n.NotFound)

	// The page key: made once, the same at the next start, per tenant.
	now := time.Now()
	k1, err := requests.PageKey(ctx, s, tenantA, "", now)
	if err != nil {
		t.Fatal(err)
	}
	if k2, err := requests.PageKey(ctx, s, tenantA, "", now); err != nil || k2 != k1 {
		t.Errorf("second start's page key %q, %v; want the first %q", k2, err, k1)
	}
	if kb, _ := requests.PageKey(ctx, s, tenantB, "", now); kb == k1 {
		t.Error("two tenants share a page key")
	}
	rotated, prev, err := requests.RotatePageKey(ctx, s, tenantA, "rotated", now)
	if err != nil || rotated == k1 || prev == 0 {
		t.Fatalf("RotatePageKey = %q, %d, %v", rotated, prev, err)
	}
	if k3, _ := requests.PageKey(ctx, s, tenantA, "", now); k3 != rotated {
		t.Errorf("page key after rotation %q, want the rotated one", k3)
	}
	// A revoked page key is replaced at the next start.
	_, id, _ := s.PageKey(ctx, tenantA)
	if _, err := s.RevokeAPIKey(ctx, tenantA, id, now); err != nil {
		t.Fatal(err)
	}
	if k4, _ := requests.PageKey(ctx, s, tenantA, "", now.Add(time.Second)); k4 == rotated || k4 == "" {
		t.Errorf("page key after revoking it: %q, want a new one", k4)
	}
}
