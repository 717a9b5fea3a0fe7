package postgis_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pinward/pinward/requests"
)

// WatchRequests reports the requests any connection creates or changes,
// of its tenant only, after they commit; a bulk update is reported as All;
// and the channel closes once ctx ends.
func TestWatchRequests(t *testing.T) {
	s := open(t)
	ctx := ctxT(t)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := s.WatchRequests(wctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	next := func(what string) requests.RequestChanges {
		t.Helper()
		select {
		case c, ok := <-ch:
			if !ok {
				t.Fatalf("%s: channel closed", what)
			}
			return c
		case <-time.After(time.Second):
			t.Fatalf("%s: not reported within a second", what)
		}
		return requests.RequestChanges{}
	}
	quiet := func(what string) {
		t.Helper()
		select {
		case c := <-ch:
			t.Fatalf("%s: reported %+v", what, c)
		case <-time.After(200 * time.Millisecond):
		}
	}

	r, err := s.CreateRequest(ctx, newReq("a", "pothole", centre, t0, "tok-1"))
	if err != nil {
		t.Fatal(err)
	}
	if c := next("creation"); c.All || !slices.Equal(c.IDs, []string{r.ServiceRequestID}) {
		t.Fatalf("creation: %+v, want [%s]", c, r.ServiceRequestID)
	}
	if _, err := s.CreateRequest(ctx, newReq("b", "pothole", centre, t0, "tok-2")); err != nil {
		t.Fatal(err)
	}
	quiet("another tenant's request")

	if _, err := s.UpdateStatus(ctx, requests.StatusChange{Tenant: "a", ServiceRequestID: r.ServiceRequestID,
		To: requests.Acknowledged, Actor: "staff", At: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if c := next("status change"); c.All || !slices.Equal(c.IDs, []string{r.ServiceRequestID}) {
		t.Fatalf("status change: %+v, want [%s]", c, r.ServiceRequestID)
	}

	// A bulk change (a GIS team's UPDATE, a batch re-clustering) is too big
	// to itemise.
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 450 {
		if _, err := tx.Exec(ctx, `INSERT INTO requests (tenant_id, service_code, status, geom, cluster_id, requested_at, updated_at)
			VALUES ('a', 'pothole', 'open', ST_SetSRID(ST_MakePoint(-73.55, 45.5), 4326), $1, now(), now())`, "bulk"); err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	quiet("an uncommitted transaction")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got := 0
	for got < 450 {
		c := next("450 inserts")
		if c.All {
			break
		}
		got += len(c.IDs)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE requests SET status_notes = 'x' WHERE tenant_id = 'a' AND cluster_id = 'bulk'`); err != nil {
		t.Fatal(err)
	}
	if c := next("bulk update"); !c.All {
		t.Fatalf("an update of 450 rows: %+v, want All", c)
	}

	cancel()
	select {
	case _, ok := <-ch:
		for ok {
			_, ok = <-ch
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the channel did not close after ctx ended")
	}
}
