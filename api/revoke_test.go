package api_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
)

// TestRevokedKeyRefusedOnEveryServer: two servers share one PostGIS; both
// have used (and cached) a staff key; once it is revoked, each refuses it
// with a bilingual 403 within a second.
func TestRevokedKeyRefusedOnEveryServer(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	cat, err := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
	if err != nil {
		t.Fatal(err)
	}
	set, err := data.SampleWards()
	if err != nil {
		t.Fatal(err)
	}
	var stores []*postgis.Store
	var srvs []*httptest.Server
	for range 2 {
		st, err := postgis.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: cat, Wards: set, Store: st})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(api.New(api.Config{Service: svc, Keys: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
		t.Cleanup(srv.Close)
		stores, srvs = append(stores, st), append(srvs, srv)
	}
	key := staffKey(t, stores[0])
	get := func(srv *httptest.Server) response {
		return call(t, "GET", srv.URL+"/api/v1/clusters", nil, map[string]string{"X-Api-Key": key})
	}
	for i, srv := range srvs {
		if r := get(srv); r.status != http.StatusOK {
			t.Fatalf("server %d before revocation: %d %s", i, r.status, r.body)
		}
	}
	k, err := stores[0].LookupAPIKey(ctx, requests.HashAPIKey(key))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stores[1].RevokeAPIKey(ctx, tenant, k.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	for i, srv := range srvs {
		for {
			r := get(srv)
			if r.status == http.StatusForbidden {
				checkError(t, r, http.StatusForbidden)
				t.Logf("server %d refuses the revoked key after %v", i, time.Since(revoked).Round(time.Millisecond))
				break
			}
			if time.Since(revoked) > time.Second {
				t.Fatalf("server %d still accepts the key %v after its revocation: %d", i, time.Since(revoked), r.status)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
