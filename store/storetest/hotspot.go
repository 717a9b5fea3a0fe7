package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/pinward/pinward/requests"
)

// testHotspot: a Bound crowded with more than requests.HotspotLimit open
// requests still gets Pick's answer: at one point, the earliest there (each
// request here starts its own cluster, so any other choice shows); nearer
// the new point than the crowd, the nearest. Locate still sees them all.
func testHotspot(t *testing.T, s Stores) {
	ctx := context.Background()
	n := requests.HotspotLimit*2 + 5
	p := east(0)
	// Stored newest first, so the earliest has the largest ID: neither
	// insertion order nor ID order gives it away.
	var earliest requests.Request
	for i := range n {
		r := newReq(tenantA, p, t0.Add(time.Duration(n-i)*time.Minute))
		got := create(t, s, newRequest(r)) // no ClusterQuery: a cluster of its own
		if i == n-1 {
			earliest = got
		}
	}
	at := t0.Add(time.Duration(n+1) * time.Minute)
	nr := newRequest(newReq(tenantA, p, at))
	nr.Cluster = cq(tenantA, p)
	if got := create(t, s, nr); got.ClusterID != earliest.ClusterID {
		t.Errorf("new request at a crowded point joined cluster %s, want the earliest's %s", got.ClusterID, earliest.ClusterID)
	}
	// 20 m from the crowd, 4 m from a lone request: the lone one is nearest.
	lone := create(t, s, newRequest(newReq(tenantA, east(24), at)))
	nr = newRequest(newReq(tenantA, east(20), at.Add(time.Minute)))
	nr.Cluster = cq(tenantA, east(20))
	if got := create(t, s, nr); got.ClusterID != lone.ClusterID {
		t.Errorf("new request near a crowd joined cluster %s, want the nearest request's %s", got.ClusterID, lone.ClusterID)
	}
	near, err := s.OpenRequestsNear(ctx, *cq(tenantA, p))
	if err != nil {
		t.Fatal(err)
	}
	if len(near) < n+1 {
		t.Errorf("OpenRequestsNear found %d, want every one of the %d", len(near), n+3)
	}
}
