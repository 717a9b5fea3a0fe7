package postgis_test

import (
	"context"
	"testing"
	"time"

	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
	"github.com/pinward/pinward/store/storetest"
)

func TestAssetContract(t *testing.T) {
	storetest.RunAssets(t, func(t *testing.T) storetest.Stores {
		s := open(t)
		return storetest.Stores{Store: s, KeyStore: s}
	})
}

// TestAssetWatch: a server following through LISTEN/NOTIFY sees another
// server's upsert and retirement within a second, with no polling.
func TestAssetWatch(t *testing.T) {
	url := pgtest.URL(t)
	ctx := ctxT(t)
	var pair [2]*postgis.Store
	for i := range pair {
		s, err := postgis.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		pair[i] = s
	}
	f, err := requests.StartAssets(ctx, pair[1], "a", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	wake, err := pair[1].WatchAssets(wctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); f.Run(wctx, wake, time.Hour) }() // an hour: only NOTIFY can wake it in time
	t.Cleanup(func() { cancel(); <-done })

	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s not seen by the other server within a second", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	a := assets.Asset{Layer: "hydrant", ID: "H1", Point: centre, Version: 1}
	if _, err := pair[0].UpsertAssets(ctx, requests.AssetUpsert{Tenant: "a", Assets: []assets.Asset{a}, At: t0}); err != nil {
		t.Fatal(err)
	}
	waitFor("upsert", func() bool { _, ok := f.Index().Get("hydrant", "H1"); return ok })
	if _, err := pair[0].RetireAsset(ctx, requests.AssetRetire{Tenant: "a", Layer: "hydrant", ID: "H1", At: t0}); err != nil {
		t.Fatal(err)
	}
	waitFor("retirement", func() bool { _, ok := f.Index().Get("hydrant", "H1"); return !ok })
}
