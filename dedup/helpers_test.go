package dedup

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
)

var testOrigin = orb.Point{-75.70, 45.42} // Ottawa

// randomReports draws clumpy reports: half around a few hot spots (a busy
// corner, a block of broken lights), half scattered over about 4 km; some
// exact repeats of a point, shared assets, equal timestamps, and IDs of
// every kind CompareIDs orders (integers, leading zeros, text).
func randomReports(rng *rand.Rand, n int) []Report {
	pj := geo.NewProjection(testOrigin)
	cats := []string{"pothole", "road_damage", "graffiti", "streetlight_out"}
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	days := func(d float64) time.Duration { return time.Duration(d * float64(24*time.Hour)) }
	type spot struct {
		at orb.Point
		t  time.Time
	}
	hot := make([]spot, 1+n/40)
	for i := range hot {
		hot[i] = spot{orb.Point{(rng.Float64() - 0.5) * 4000, (rng.Float64() - 0.5) * 4000}, start.Add(days(60 * rng.Float64()))}
	}
	perm := rng.Perm(n)
	out := make([]Report, n)
	for i := range out {
		var m orb.Point
		var t time.Time
		if rng.IntN(2) == 0 {
			// A hot spot: reports bunch in space and, over a few days, in time.
			h := hot[rng.IntN(len(hot))]
			m = orb.Point{h.at[0] + rng.NormFloat64()*25, h.at[1] + rng.NormFloat64()*25}
			t = h.t.Add(days(rng.ExpFloat64()))
		} else {
			m = orb.Point{(rng.Float64() - 0.5) * 4000, (rng.Float64() - 0.5) * 4000}
			t = start.Add(days(60 * rng.Float64()))
		}
		r := Report{
			ID:        strconv.Itoa(perm[i] + 1),
			Category:  cats[rng.IntN(len(cats))],
			CreatedAt: t.Truncate(10 * time.Minute), // ties in time happen
			Point:     pj.ToLonLat(m),
		}
		switch rng.IntN(20) {
		case 0:
			r.ID = fmt.Sprintf("SR-%05d", perm[i])
		case 1:
			r.ID = "00" + r.ID
		}
		if i > 0 && rng.IntN(15) == 0 {
			r.Point = out[rng.IntN(i)].Point // the same spot, to the bit
		}
		if rng.IntN(4) == 0 {
			r.AssetID = fmt.Sprintf("L-%d", rng.IntN(n/10+1))
		}
		out[i] = r
	}
	return out
}

// bruteForce is the definition, pair by pair in O(n²): same partition,
// created within the window, and within the distance in pj metres or
// naming the same asset; clusters are the connected components, named by
// their smallest ID.
func bruteForce(reports []Report, rules Rules, pj geo.Projection) []Assignment {
	rs, err := rules.Compile()
	if err != nil {
		panic(err)
	}
	n := len(reports)
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	m := make([]orb.Point, n)
	key := make([]string, n)
	rule := make([]Rule, n)
	for i, r := range reports {
		m[i] = pj.ToMetres(r.Point)
		key[i], rule[i] = rs.Partition(r.Category), rs.Rule(r.Category)
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			a, b := reports[i], reports[j]
			if key[i] != key[j] {
				continue
			}
			rule := rule[i]
			dt := a.CreatedAt.Sub(b.CreatedAt).Abs()
			if rule.Window > 0 && dt > rule.Window {
				continue
			}
			dx, dy := m[i][0]-m[j][0], m[i][1]-m[j][1]
			near := math.Sqrt(float64(dx*dx)+float64(dy*dy)) <= rule.Distance // no FMA, as PostGIS
			asset := rule.SameAsset && a.AssetID != "" && a.AssetID == b.AssetID
			if near || asset {
				parent[find(i)] = find(j)
			}
		}
	}
	best := map[int]string{}
	for i, r := range reports {
		root := find(i)
		if b, ok := best[root]; !ok || CompareIDs(r.ID, b) < 0 {
			best[root] = r.ID
		}
	}
	out := make([]Assignment, n)
	for i, r := range reports {
		out[i] = Assignment{ID: r.ID, ClusterID: best[find(i)]}
	}
	return out
}

// diff describes the first difference between two assignments.
func diff(got, want []Assignment) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d assignments, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("row %d: got %+v, want %+v", i+1, got[i], want[i])
		}
	}
	return ""
}

func testRules(eps float64, window time.Duration, sameAsset bool) Rules {
	r := Rule{Distance: eps, Window: window, SameAsset: sameAsset}
	pothole := r
	pothole.Equivalent = []string{"road_damage"}
	return Rules{Default: r, Categories: map[string]Rule{"pothole": pothole}}
}

func clusterCount(as []Assignment) int {
	ids := make([]string, 0, len(as))
	for _, a := range as {
		ids = append(ids, a.ClusterID)
	}
	slices.Sort(ids)
	return len(slices.Compact(ids))
}

// raceEnabled is set under -race (race_test.go), where tests use less data.
var raceEnabled bool
