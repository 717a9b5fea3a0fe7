package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/requests"
)

// testHistory: ImportRequests keys rows by tenant, source and source ID
// (a second import stores only new keys), puts each member in its head's
// cluster (in the same call or an earlier one), keeps rows without a
// point off the lists but in reports, and reports leave a closing time
// they do not know out of the time to close.
func testHistory(t *testing.T, s Stores) {
	ctx := context.Background()
	at := time.Date(2014, 1, 14, 13, 48, 1, 0, time.UTC)
	row := func(id, head string, located bool, status requests.Status, closeAfter time.Duration) requests.ImportedRequest {
		r := requests.Request{ServiceCode: "pothole", Status: status, WardID: "7", Department: "roads",
			RequestedAt: at, UpdatedAt: at.Add(closeAfter), Channel: requests.ChannelPhone}
		if located {
			r.Point = orb.Point{-75.7, 45.4}
		}
		return requests.ImportedRequest{Request: r, Located: located, CloseTimeKnown: closeAfter > 0 || status != requests.Closed,
			Source: "ottawa", SourceID: id, SourceStatus: "Closed", SourceChannel: "CC PHONE", SourceCategory: "Road Travelled Surface",
			ClusterHead: head}
	}
	first := []requests.ImportedRequest{
		row("A", "", true, requests.New, 0),
		row("B", "A", true, requests.New, 0),
		row("C", "", false, requests.Closed, 0),            // no point, closed at an unknown time
		row("D", "D", true, requests.Closed, 10*time.Hour), // closed ten hours later
	}
	n, err := s.ImportRequests(ctx, tenantA, first)
	if err != nil || n != 4 {
		t.Fatalf("ImportRequests = %d, %v; want 4", n, err)
	}
	listed := func() map[string]requests.Request {
		rs, err := s.ListRequests(ctx, requests.Filter{Tenant: tenantA})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]requests.Request{}
		for _, r := range rs {
			out[r.UpdatedAt.Sub(r.RequestedAt).String()+"/"+r.ServiceRequestID] = r
		}
		return out
	}
	rs, err := s.ListRequests(ctx, requests.Filter{Tenant: tenantA, ByID: true})
	if err != nil || len(rs) != 3 {
		t.Fatalf("ListRequests = %d requests, %v; want the 3 with a point (A, B, D)", len(rs), err)
	}
	a, b, d := rs[0], rs[1], rs[2] // IDs follow input order
	if a.ClusterID != a.ServiceRequestID || b.ClusterID != a.ServiceRequestID || d.ClusterID != d.ServiceRequestID {
		t.Errorf("clusters A %s (id %s), B %s, D %s (id %s): want B in A's, A and D their own", a.ClusterID, a.ServiceRequestID,
			b.ClusterID, d.ClusterID, d.ServiceRequestID)
	}
	if a.Point != (orb.Point{-75.7, 45.4}) || a.Channel != requests.ChannelPhone || a.WardID != "7" || !a.RequestedAt.Equal(at) {
		t.Errorf("A stored as %+v", a)
	}
	// C, between B and D, is read back as having no point.
	c, err := s.GetRequest(ctx, tenantA, requests.FormatServiceRequestID(b.ID+1))
	if err != nil || !c.Unlocated || c.Status != requests.Closed {
		t.Errorf("C read back as %+v, %v; want closed and unlocated", c, err)
	}
	if a.Unlocated || b.Unlocated || d.Unlocated {
		t.Errorf("requests with a point read back as unlocated: %v %v %v", a.Unlocated, b.Unlocated, d.Unlocated)
	}

	// Again, with one new member of A's cluster: only it is stored.
	n, err = s.ImportRequests(ctx, tenantA, append(first, row("E", "A", true, requests.New, 0)))
	if err != nil || n != 1 {
		t.Fatalf("second ImportRequests = %d, %v; want 1 (E)", n, err)
	}
	if got := listed(); len(got) != 4 {
		t.Errorf("after the second import %d requests listed, want 4", len(got))
	}
	rs, _ = s.ListRequests(ctx, requests.Filter{Tenant: tenantA, ByID: true})
	if e := rs[len(rs)-1]; e.ClusterID != a.ServiceRequestID {
		t.Errorf("E's cluster %s, want A's %s (stored by the earlier import)", e.ClusterID, a.ServiceRequestID)
	}
	// Keys are per tenant.
	if n, err := s.ImportRequests(ctx, tenantB, first[:1]); err != nil || n != 1 {
		t.Errorf("ImportRequests for another tenant = %d, %v; want 1", n, err)
	}

	rows, total, err := s.ReportRows(ctx, tenantA, requests.ReportQuery{By: requests.ByWard, AsOf: at.AddDate(1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if total.Received != 5 || total.Closed != 2 || total.Open != 3 || len(rows) != 1 || rows[0].Key != "7" {
		t.Errorf("report: total %+v, rows %+v; want 5 received in ward 7, 2 closed", total, rows)
	}
	// Only D's closing time is known: both quantiles are its 10 hours.
	if total.MedianHoursToClose != 10 || total.P90HoursToClose != 10 {
		t.Errorf("hours to close: median %v, p90 %v; want 10 and 10 (C's closing time is unknown)", total.MedianHoursToClose, total.P90HoursToClose)
	}
}
