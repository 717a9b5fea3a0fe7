package requests

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
)

func lockReq(p orb.Point, d float64, asset string) NewRequest {
	q := &ClusterQuery{Tenant: "t", ServiceCodes: []string{"pothole", "road_damage"}, Point: p, DistanceM: d,
		Bound: geo.NewRuler(p[1]).Buffer(p, d), LockCellDeg: LockCellDeg(d)}
	r := Request{Point: p}
	if asset != "" {
		r.AssetLayer, r.AssetID = "streetlight", asset
		q.AssetLayer, q.AssetID = "streetlight", asset
	}
	return NewRequest{Request: r, Cluster: q}
}

func shareLock(a, b NewRequest) bool {
	_, ca := a.ClusterLocks()
	_, cb := b.ClusterLocks()
	for _, k := range ca {
		if slices.Contains(cb, k) {
			return true
		}
	}
	return false
}

// TestClusterLocks checks the property the stores rely on: two creations
// that could pick each other share a lock; two far apart share none.
func TestClusterLocks(t *testing.T) {
	if g, c := (NewRequest{}).ClusterLocks(); g != "" || c != nil {
		t.Errorf("no cluster query locks %q %v", g, c)
	}
	whole := lockReq(orb.Point{-73, 46}, 30, "")
	whole.Cluster.LockCellDeg = 0
	if g, c := whole.ClusterLocks(); g != "t/pothole" || c != nil {
		t.Errorf("LockCellDeg 0 locks %q %v, want the whole group", g, c)
	}
	for _, d := range []float64{10, 30, 60, 250} {
		c := LockCellDeg(d)
		// The cell's width in metres at 60°, measured by geo's ruler.
		if geo.NewRuler(60).Distance(orb.Point{0, 60}, orb.Point{c, 60}) < 2*d || math.Log2(c) != math.Round(math.Log2(c)) {
			t.Errorf("LockCellDeg(%v) = %v, want a power of two of at least %v m at 60°", d, c, 2*d)
		}
	}

	rng := rand.New(rand.NewPCG(1, 2))
	for _, lat := range []float64{45.5, 62.5, -33.9, 0.0001} {
		for range 2000 {
			d := []float64{20, 30, 60}[rng.IntN(3)]
			a := orb.Point{-73 + rng.Float64()*0.01, lat + rng.Float64()*0.01}
			// b within distance of a (the worst case: on the rim of the
			// bound), c well out of reach.
			ang := rng.Float64() * 2 * math.Pi
			ru := geo.NewRuler(a[1])
			bd := ru.Buffer(a, d)
			b := orb.Point{a[0] + math.Cos(ang)*(bd.Max[0]-a[0]), a[1] + math.Sin(ang)*(bd.Max[1]-a[1])}
			far := ru.Buffer(a, 20*geo.NewRuler(0).Distance(orb.Point{0, 0}, orb.Point{0, LockCellDeg(d)}))
			c := orb.Point{far.Max[0], a[1]}
			ra, rb, rc := lockReq(a, d, ""), lockReq(b, d, ""), lockReq(c, d, "")
			if !shareLock(ra, rb) {
				_, ca := ra.ClusterLocks()
				_, cb := rb.ClusterLocks()
				t.Fatalf("lat %v, %v m: %v and %v (within reach) share no lock: %v / %v", lat, d, a, b, ca, cb)
			}
			if shareLock(ra, rc) {
				t.Fatalf("lat %v: %v and %v, far apart, share a lock", lat, a, c)
			}
			if _, ca := ra.ClusterLocks(); len(ca) > 6 || !slices.IsSorted(ca) {
				t.Fatalf("lat %v: %d cells %v, want at most 6, sorted", lat, len(ca), ca)
			}
		}
	}

	// The same asset far apart: one lock in common. A request whose rule
	// ignores assets still locks its own, since another may match it.
	a, b := lockReq(orb.Point{-73, 46}, 30, "SL-1"), lockReq(orb.Point{-72.9, 46}, 30, "SL-1")
	if !shareLock(a, b) {
		t.Error("two reports of one asset share no lock")
	}
	b.Cluster.AssetLayer, b.Cluster.AssetID = "", ""
	if !shareLock(a, b) {
		t.Error("a report matching by asset shares no lock with one that names the asset")
	}
	// A bound too wide for the grid locks the whole group.
	huge := lockReq(orb.Point{-73, 46}, 30, "")
	huge.Cluster.Bound = geo.NewRuler(46).Buffer(orb.Point{-73, 46}, 5000)
	if _, c := huge.ClusterLocks(); c != nil {
		t.Errorf("a 5 km bound locks %d cells, want the whole group", len(c))
	}
}
