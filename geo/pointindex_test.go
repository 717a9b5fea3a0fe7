package geo

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/paulmach/orb"
)

func randomPoints(rng *rand.Rand, n int, b orb.Bound) []orb.Point {
	pts := make([]orb.Point, n)
	for i := range pts {
		pts[i] = orb.Point{
			b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]),
			b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1]),
		}
	}
	return pts
}

var gatineauish = orb.Bound{Min: orb.Point{-75.90, 45.38}, Max: orb.Point{-75.85, 45.42}}

func linearNearest(pts []orb.Point, p orb.Point, radius float64, keep func(int32) bool) (int32, float64, bool) {
	r := NewRuler(p[1])
	best, bestD, ok := int32(-1), math.Inf(1), false
	for i, q := range pts {
		if keep != nil && !keep(int32(i)) {
			continue
		}
		d := r.Distance(p, q)
		if d <= radius && (d < bestD || (d == bestD && int32(i) < best)) {
			best, bestD, ok = int32(i), d, true
		}
	}
	return best, bestD, ok
}

func TestNearestAgreesWithLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	pts := randomPoints(rng, 20000, gatineauish)
	pts = append(pts, pts[100], pts[200]) // exact duplicates: ties by smaller value
	var ix PointIndex[int32]
	for i, p := range pts {
		ix.Insert(p, int32(i))
	}
	even := func(v int32) bool { return v%2 == 0 }
	for i := 0; i < 600; i++ {
		p := randomPoints(rng, 1, gatineauish)[0]
		if i%50 == 0 {
			p = pts[100]
		}
		for _, keep := range []func(int32) bool{nil, even} {
			for _, radius := range []float64{5, 30, 200} {
				got, gd, gok := ix.Nearest(p, radius, keep)
				want, wd, wok := linearNearest(pts, p, radius, keep)
				if gok != wok || (gok && (got != want || math.Abs(gd-wd) > 1e-9)) {
					t.Fatalf("Nearest(%v, %v) = %d %.3f %v; scan %d %.3f %v", p, radius, got, gd, gok, want, wd, wok)
				}
			}
		}
	}
}

func TestWithinIsNearestFirst(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	pts := randomPoints(rng, 5000, gatineauish)
	var ix PointIndex[int32]
	for i, p := range pts {
		ix.Insert(p, int32(i))
	}
	p := orb.Point{-75.875, 45.40}
	var got []float64
	ix.Within(p, 150, func(v int32, at orb.Point, d float64) bool {
		if at != pts[v] {
			t.Fatalf("value %d reported at %v, inserted at %v", v, at, pts[v])
		}
		got = append(got, d)
		return true
	})
	want := 0
	for _, q := range pts {
		if Distance(p, q) <= 150 {
			want++
		}
	}
	if len(got) != want || !sort.Float64sAreSorted(got) {
		t.Fatalf("Within returned %d points (want %d), sorted=%v", len(got), want, sort.Float64sAreSorted(got))
	}
}

func TestPointIndexCopyIsIndependent(t *testing.T) {
	var ix PointIndex[int32]
	a, b := orb.Point{-75.88, 45.40}, orb.Point{-75.8801, 45.4001}
	ix.Insert(a, 1)
	snap := ix.Copy()
	ix.Delete(a, 1)
	ix.Insert(b, 2)
	if v, _, ok := snap.Nearest(a, 50, nil); !ok || v != 1 {
		t.Fatalf("snapshot changed: %v %v", v, ok)
	}
	if v, _, ok := ix.Nearest(a, 50, nil); !ok || v != 2 {
		t.Fatalf("index after delete: %v %v", v, ok)
	}
	if ix.Len() != 1 || snap.Len() != 1 {
		t.Fatalf("lengths %d %d", ix.Len(), snap.Len())
	}
	var none PointIndex[int32]
	if _, _, ok := none.Nearest(a, 1e6, nil); ok {
		t.Fatal("empty index found something")
	}
}

func BenchmarkPointIndexNearest(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	city := orb.Bound{Min: orb.Point{-75.95, 45.30}, Max: orb.Point{-75.60, 45.50}}
	pts := randomPoints(rng, 100000, city) // ~1 point per 600 m²... a dense street grid
	var ix PointIndex[int32]
	for i, p := range pts {
		ix.Insert(p, int32(i))
	}
	qs := randomPoints(rng, 4096, city)
	b.Run("index", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			ix.Nearest(qs[i%len(qs)], 50, nil)
		}
	})
	b.Run("linear-scan", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			linearNearest(pts, qs[i%len(qs)], 50, nil)
		}
	})
}
