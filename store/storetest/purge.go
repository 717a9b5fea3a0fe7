package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/pinward/pinward/requests"
)

// testPurgeReporters: the personal information of reporters of requests
// closed before the cut-off is deleted, in batches, each with an event;
// open and recently closed requests, and other tenants, keep theirs.
func testPurgeReporters(t *testing.T, s Stores) {
	ctx := context.Background()
	pu := s.Store
	rep := requests.Reporter{FirstName: "Luc", Email: "luc@example.ca", Phone: "819-555-0142"}
	mk := func(tenant string, m float64, closeAt time.Time, withReporter bool) requests.Request {
		nr := newRequest(newReq(tenant, east(m), t0))
		if withReporter {
			r := rep
			nr.Reporter = &r
		}
		r := create(t, s, nr)
		if !closeAt.IsZero() {
			if _, err := s.UpdateStatus(ctx, requests.StatusChange{Tenant: tenant, ServiceRequestID: r.ServiceRequestID,
				To: requests.Closed, Note: "fixed", Actor: "crew", At: closeAt}); err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	oldClose, recentClose := t0.Add(time.Hour), t0.Add(100*24*time.Hour)
	old1 := mk(tenantA, 0, oldClose, true)
	old2 := mk(tenantA, 100, oldClose, true)
	recent := mk(tenantA, 200, recentClose, true)
	open := mk(tenantA, 300, time.Time{}, true)
	anon := mk(tenantA, 400, oldClose, false)
	other := mk(tenantB, 0, oldClose, true)

	cut := t0.Add(30 * 24 * time.Hour)
	at := t0.Add(120 * 24 * time.Hour)
	// Batches of one: two old closed reporters take two batches.
	p := requests.ReporterPurge{Tenant: tenantA, ClosedBefore: cut, At: at, Actor: "retention", Limit: 1}
	for i, want := range []int{1, 1, 0} {
		if n, err := pu.PurgeReporters(ctx, p); err != nil || n != want {
			t.Fatalf("PurgeReporters batch %d = %d, %v; want %d", i+1, n, err, want)
		}
	}
	reporter := func(tenant string, r requests.Request) requests.Reporter {
		t.Helper()
		got, err := s.GetReporter(ctx, requests.ReporterAccess{Tenant: tenant, ServiceRequestID: r.ServiceRequestID, Actor: "test", At: at})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for _, r := range []requests.Request{old1, old2} {
		if got := reporter(tenantA, r); !got.IsZero() {
			t.Errorf("request %s closed before the cut-off kept its reporter %+v", r.ServiceRequestID, got)
		}
		evs, err := s.ListEvents(ctx, tenantA, r.ServiceRequestID)
		if err != nil {
			t.Fatal(err)
		}
		purged := 0
		for _, e := range evs {
			if e.Kind == requests.EventReporterPurged {
				purged++
				if e.Actor != "retention" || !e.At.Equal(utc(at)) {
					t.Errorf("purge event %+v", e)
				}
			}
		}
		if purged != 1 {
			t.Errorf("request %s: %d reporter_purged events, want 1: %+v", r.ServiceRequestID, purged, evs)
		}
		// The request itself stays.
		if got, err := s.GetRequest(ctx, tenantA, r.ServiceRequestID); err != nil || got.Status != requests.Closed {
			t.Errorf("purged request %s: %+v, %v", r.ServiceRequestID, got, err)
		}
	}
	for _, r := range []requests.Request{recent, open} {
		if got := reporter(tenantA, r); got != rep {
			t.Errorf("request %s lost its reporter: %+v", r.ServiceRequestID, got)
		}
	}
	if got := reporter(tenantB, other); got != rep {
		t.Errorf("another tenant's reporter was purged: %+v", got)
	}
	evs, _ := s.ListEvents(ctx, tenantA, anon.ServiceRequestID)
	for _, e := range evs {
		if e.Kind == requests.EventReporterPurged {
			t.Errorf("an anonymous request got a purge event: %+v", evs)
		}
	}

	// The schedule's loop, later: the recent one's turn comes.
	n, err := requests.PurgeReporters(ctx, pu, tenantA, 30*24*time.Hour, recentClose.Add(31*24*time.Hour), nil)
	if err != nil || n != 1 {
		t.Errorf("requests.PurgeReporters = %d, %v; want 1 (the recently closed one)", n, err)
	}
	if got := reporter(tenantA, recent); !got.IsZero() {
		t.Errorf("recently closed request kept its reporter after its own cut-off: %+v", got)
	}
	if got := reporter(tenantA, open); got != rep {
		t.Errorf("an open request lost its reporter: %+v", got)
	}
}
