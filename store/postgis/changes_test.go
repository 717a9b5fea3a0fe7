package postgis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
)

// twoRequests stores two requests of tenant "a" and returns them.
func twoRequests(t *testing.T, s *postgis.Store) []requests.Request {
	t.Helper()
	var rs []requests.Request
	for i := range 2 {
		r, err := s.CreateRequest(ctxT(t), newReq("a", "pothole", centre, t0, fmt.Sprint("tok", i)))
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return rs
}

// TestChangesLateCommit: a transaction that logs its change first but
// commits last is not skipped. The stream holds back every change of a
// transaction younger than one still running, then hands both out.
func TestChangesLateCommit(t *testing.T) {
	ctx := ctxT(t)
	s := open(t)
	rs := twoRequests(t, s)
	head, err := s.ChangeHead(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	update := `UPDATE requests SET status_notes = 'x' WHERE tenant_id = 'a' AND id = $1`
	late, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Rollback(context.WithoutCancel(ctx))
	if _, err := late.Exec(ctx, update, rs[0].ID); err != nil { // logged first (lower id, lower tx)
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, update, rs[1].ID); err != nil { // logged and committed second
		t.Fatal(err)
	}
	cs, next, err := s.Changes(ctx, "a", head.After, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 0 {
		t.Fatalf("with an older transaction still running, Changes handed out %+v", cs)
	}
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	cs, _, err = s.Changes(ctx, "a", next, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Key != rs[0].ServiceRequestID || cs[1].Key != rs[1].ServiceRequestID {
		t.Fatalf("after the late commit: %+v, want %s then %s", cs, rs[0].ServiceRequestID, rs[1].ServiceRequestID)
	}
}

// TestChangeHeadInLoad: with an older transaction still running, a change
// committed before the head comes after the head's cursor (the stream
// holds it back), and InLoad names it as already in a load; a change of
// the transaction running at the head is not.
func TestChangeHeadInLoad(t *testing.T) {
	ctx := ctxT(t)
	s := open(t)
	rs := twoRequests(t, s)
	update := `UPDATE requests SET status_notes = 'x' WHERE tenant_id = 'a' AND id = $1`
	running, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer running.Rollback(context.WithoutCancel(ctx))
	if _, err := running.Exec(ctx, update, rs[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, update, rs[1].ID); err != nil { // committed before the head
		t.Fatal(err)
	}
	head, err := s.ChangeHead(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := running.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	cs, _, err := s.Changes(ctx, "a", head.After, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Key != rs[0].ServiceRequestID || cs[1].Key != rs[1].ServiceRequestID {
		t.Fatalf("after the head: %+v, want %s then %s", cs, rs[0].ServiceRequestID, rs[1].ServiceRequestID)
	}
	if head.InLoad(cs[0].Cursor) {
		t.Errorf("the change of the transaction running at the head (%v) is said to be in the load (head %+v)", cs[0].Cursor, head)
	}
	if !head.InLoad(cs[1].Cursor) {
		t.Errorf("the change committed before the head (%v) is not said to be in the load (head %+v)", cs[1].Cursor, head)
	}
}

// TestChangesOtherDatabase: a write transaction left open in another
// database of the same server does not hold the stream back (it cannot
// write this change log), where one in this database does
// (TestChangesLateCommit).
func TestChangesOtherDatabase(t *testing.T) {
	ctx := ctxT(t)
	s := open(t)
	other, err := pgx.Connect(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.WithoutCancel(ctx))
	long, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer long.Rollback(context.WithoutCancel(ctx))
	if _, err := long.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil { // takes a transaction ID
		t.Fatal(err)
	}
	head, err := s.ChangeHead(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.CreateRequest(ctx, newReq("a", "pothole", centre, t0, "tok-other-db"))
	if err != nil {
		t.Fatal(err)
	}
	cs, _, err := s.Changes(ctx, "a", head.After, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Key != r.ServiceRequestID {
		t.Fatalf("with a transaction open in another database, Changes handed out %+v, want request %s", cs, r.ServiceRequestID)
	}
}

// TestChangesBulk: a statement changing more than 1,000 requests is one
// change of every request.
func TestChangesBulk(t *testing.T) {
	ctx := ctxT(t)
	s := open(t)
	head, err := s.ChangeHead(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `INSERT INTO requests (id, tenant_id, service_code, description, status, status_notes,
			geom, address, ward_id, asset_layer, asset_id, asset_distance_m, cluster_id, department,
			requested_at, updated_at, media_url, token, lang)
		SELECT i, 'a', 'pothole', 'bulk', 'open', '', ST_SetSRID(ST_MakePoint(-73.5, 45.5), 4326), '', 'w1', '', '', 0,
			i::text, 'roads', now(), now(), '', 'bulk' || i, 'en'
		FROM generate_series(1000001, 1001500) i`); err != nil {
		t.Fatal(err)
	}
	cs, _, err := s.Changes(ctx, "a", head.After, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Kind != requests.ChangeRequest || cs[0].Key != requests.AllKeys {
		t.Fatalf("bulk insert logged %d changes (%+v...), want one %q", len(cs), cs[:min(len(cs), 2)], requests.AllKeys)
	}
}

// TestWatchChanges: another server's commits wake a watcher through
// LISTEN/NOTIFY, and so does reconnecting after its connection is killed
// (what it missed meanwhile is then read by cursor).
func TestWatchChanges(t *testing.T) {
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
	wctx, cancel := context.WithCancel(ctx)
	wake, err := pair[1].WatchChanges(wctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		for range wake { // closed once its connection is
		}
	})
	woken := func(what string) {
		t.Helper()
		select {
		case <-wake:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no wake-up within 5 s", what)
		}
	}
	if _, err := pair[0].CreateRequest(ctx, newReq("a", "pothole", centre, t0, "t1")); err != nil {
		t.Fatal(err)
	}
	woken("a request created by the other server")
	a := assets.Asset{Layer: "hydrant", ID: "H1", Point: centre, Version: 1}
	if _, err := pair[0].UpsertAssets(ctx, requests.AssetUpsert{Tenant: "a", Assets: []assets.Asset{a}, At: t0}); err != nil {
		t.Fatal(err)
	}
	woken("an asset upserted by the other server")
	var killed int
	if err := pair[0].Pool().QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'pinward changes'`).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listeners, %v", killed, err)
	}
	woken("reconnected")
	if _, err := pair[0].CreateRequest(ctx, newReq("a", "pothole", centre, t0, "t2")); err != nil {
		t.Fatal(err)
	}
	woken("a request created after the reconnection")
}
