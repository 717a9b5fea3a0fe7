package storetest

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/pinward/pinward/requests"
)

// openStatuses is every status but Closed: what the map tiles load.
var openStatuses = []requests.Status{requests.New, requests.Acknowledged, requests.InProgress}

// testKeysetPaging: Filter.ByID walks the open requests in ID order, page
// by page after the last ID seen, and returns every one exactly once,
// including requests created between pages (whatever their RequestedAt)
// and none closed before its page was read, nor another tenant's.
func testKeysetPaging(t *testing.T, s Stores) {
	ctx := context.Background()
	const limit = 4
	var (
		open   = map[int64]bool{} // tenant A's open requests, by ID
		closed = map[int64]bool{}
		seq    int
	)
	// add creates a request of tenant A, open or closed, and one of tenant
	// B. RequestedAt goes back and forth so ID order is not time order.
	add := func(close bool) requests.Request {
		seq++
		at := t0.Add(time.Duration((seq*7)%11) * time.Hour)
		r := create(t, s, newRequest(newReq(tenantA, east(float64(seq)), at)))
		create(t, s, newRequest(newReq(tenantB, east(float64(seq)), at)))
		if !close {
			open[r.ID] = true
			return r
		}
		closeReq(t, s, r)
		closed[r.ID] = true
		return r
	}
	for i := range 15 {
		add(i%4 == 1)
	}
	// One more to close during the walk, before its page comes.
	late := add(false)

	seen := map[int64]int{}
	f := requests.Filter{Tenant: tenantA, Statuses: openStatuses, ByID: true, Limit: limit}
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatalf("still paging after %d pages: the cursor does not advance", pages)
		}
		page, err := s.ListRequests(ctx, f)
		if err != nil {
			t.Fatalf("ListRequests(%+v): %v", f, err)
		}
		if len(page) > limit {
			t.Fatalf("page after %d: %d requests, want at most %d", f.AfterID, len(page), limit)
		}
		for i, r := range page {
			seen[r.ID]++
			switch {
			case r.TenantID != tenantA:
				t.Errorf("page after %d: request %d of tenant %q", f.AfterID, r.ID, r.TenantID)
			case r.ID <= f.AfterID:
				t.Errorf("page after %d: request %d is not after the cursor", f.AfterID, r.ID)
			case i > 0 && r.ID <= page[i-1].ID:
				t.Errorf("page after %d: %d follows %d, want ascending IDs", f.AfterID, r.ID, page[i-1].ID)
			case r.Status == requests.Closed:
				t.Errorf("page after %d: request %d is closed", f.AfterID, r.ID)
			}
		}
		if pages == 0 && len(page) > 0 {
			// A listed request is what GetRequest returns.
			if g, err := s.GetRequest(ctx, tenantA, page[0].ServiceRequestID); err != nil || !reflect.DeepEqual(g, page[0]) {
				t.Errorf("listed %+v, GetRequest %+v, %v", page[0], g, err)
			}
		}
		if len(page) < limit {
			break
		}
		f.AfterID = page[len(page)-1].ID
		// Between pages: more requests arrive (open and closed), and the
		// late one closes before the walk reaches it.
		if pages < 3 {
			add(false)
			add(true)
			add(false)
		}
		if pages == 1 {
			closeReq(t, s, late)
			delete(open, late.ID)
			closed[late.ID] = true
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("request %d listed %d times, want once", id, n)
		}
		if !open[id] {
			t.Errorf("request %d listed, but it is not one of tenant A's open requests (closed: %v)", id, closed[id])
		}
	}
	for id := range open {
		if seen[id] == 0 {
			t.Errorf("open request %d never listed", id)
		}
	}

	// Without a status filter ByID lists every request, closed too, in ID
	// order; a cursor past the last ID lists nothing.
	var want []int64
	for id := range open {
		want = append(want, id)
	}
	for id := range closed {
		want = append(want, id)
	}
	slices.Sort(want)
	var got []int64
	all := requests.Filter{Tenant: tenantA, ByID: true, Limit: requests.MaxListLimit, AfterID: want[2]}
	rs, err := s.ListRequests(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		got = append(got, r.ID)
	}
	if !slices.Equal(got, want[3:]) {
		t.Errorf("ListRequests(%+v) = %v, want %v", all, got, want[3:])
	}
	all.AfterID = want[len(want)-1]
	if rs, err := s.ListRequests(ctx, all); err != nil || len(rs) != 0 {
		t.Errorf("after the last ID: %d requests, %v; want none", len(rs), err)
	}
}

// closeReq closes r a minute after it was requested.
func closeReq(t *testing.T, s Stores, r requests.Request) {
	t.Helper()
	if _, err := s.UpdateStatus(context.Background(), requests.StatusChange{Tenant: r.TenantID, ServiceRequestID: r.ServiceRequestID,
		To: requests.Closed, Note: "fixed", Actor: "crew", At: r.RequestedAt.Add(time.Minute)}); err != nil {
		t.Fatalf("closing %s: %v", r.ServiceRequestID, err)
	}
}
