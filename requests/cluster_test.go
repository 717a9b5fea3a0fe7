package requests

import (
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func TestClusterQuery(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	origin := orb.Point{-73.1, 46.05}
	east := func(m float64) orb.Point { return orb.Point{origin[0] + m/77_400, origin[1]} } // ~77.4 km per degree here
	q := ClusterQuery{
		Tenant: "t", ServiceCodes: []string{"pothole", "road_damage"},
		Point: origin, DistanceM: 30, Since: t0.Add(-time.Hour),
		AssetLayer: "streetlight", AssetID: "SL-1",
	}
	base := Request{ID: 1, ServiceRequestID: "1", ClusterID: "1", TenantID: "t", ServiceCode: "pothole",
		Status: New, Point: east(10), RequestedAt: t0}
	with := func(f func(*Request)) Request { r := base; f(&r); return r }

	for _, tc := range []struct {
		name string
		r    Request
		want bool
	}{
		{"near, same category", base, true},
		{"equivalent category", with(func(r *Request) { r.ServiceCode = "road_damage" }), true},
		{"acknowledged is still open", with(func(r *Request) { r.Status = Acknowledged }), true},
		{"at the distance", with(func(r *Request) { r.Point = east(29.9) }), true},
		{"too far", with(func(r *Request) { r.Point = east(31) }), false},
		{"too far but same asset", with(func(r *Request) { r.Point = east(500); r.AssetLayer, r.AssetID = "streetlight", "SL-1" }), true},
		{"same ID, other layer", with(func(r *Request) { r.Point = east(500); r.AssetLayer, r.AssetID = "hydrant", "SL-1" }), false},
		{"other category", with(func(r *Request) { r.ServiceCode = "graffiti" }), false},
		{"other tenant", with(func(r *Request) { r.TenantID = "u" }), false},
		{"closed", with(func(r *Request) { r.Status = Closed }), false},
		{"before the window", with(func(r *Request) { r.RequestedAt = t0.Add(-2 * time.Hour) }), false},
	} {
		if got := q.Matches(tc.r); got != tc.want {
			t.Errorf("%s: Matches = %v, want %v", tc.name, got, tc.want)
		}
	}

	noWindow := q
	noWindow.Since = time.Time{}
	if !noWindow.Matches(with(func(r *Request) { r.RequestedAt = t0.AddDate(-1, 0, 0) })) {
		t.Error("without a window a year-old open request does not match")
	}
	assetOnly := q
	assetOnly.DistanceM = 0
	if assetOnly.Matches(base) {
		t.Error("distance 0 still matches by distance")
	}

	// Pick: same asset beats distance; then nearest; then earliest; then ID.
	far := with(func(r *Request) {
		r.ID, r.ClusterID, r.Point = 2, "2", east(200)
		r.AssetLayer, r.AssetID = "streetlight", "SL-1"
	})
	near := with(func(r *Request) { r.ID, r.ClusterID, r.Point = 3, "3", east(5) })
	nearer := with(func(r *Request) { r.ID, r.ClusterID, r.Point = 4, "4", east(2) })
	closed := with(func(r *Request) { r.ID, r.ClusterID, r.Point, r.Status = 5, "5", east(1), Closed })
	if got := q.Pick([]Request{near, far, nearer, closed}); got != "2" {
		t.Errorf("Pick = %q, want the same-asset request's cluster 2", got)
	}
	if got := q.Pick([]Request{near, nearer, closed}); got != "4" {
		t.Errorf("Pick = %q, want the nearest open request's cluster 4", got)
	}
	early := with(func(r *Request) { r.ID, r.ClusterID, r.Point, r.RequestedAt = 9, "7", east(2), t0.Add(-time.Minute) })
	if got := q.Pick([]Request{nearer, early}); got != "7" {
		t.Errorf("Pick = %q, want the earlier request's cluster 7", got)
	}
	twin := with(func(r *Request) { r.ID, r.ClusterID, r.Point = 3, "8", east(2) })
	if got := q.Pick([]Request{nearer, twin}); got != "8" {
		t.Errorf("Pick = %q, want the smaller ID's cluster 8", got)
	}
	if got := q.Pick([]Request{closed}); got != "" {
		t.Errorf("Pick = %q, want a new cluster", got)
	}
	unset := with(func(r *Request) { r.ClusterID = "" })
	if got := q.Pick([]Request{unset}); got != "1" {
		t.Errorf("Pick of a request without ClusterID = %q, want its own ID", got)
	}
	if q.LockKey() != "t/pothole" {
		t.Errorf("LockKey = %q", q.LockKey())
	}
}
