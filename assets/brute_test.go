package assets_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/geo"
)

// bruteNearest is the definition Nearest must meet: a scan of every asset
// with the same distance formula and the same tie rule.
func bruteNearest(all map[[2]string]assets.Asset, p orb.Point, radius float64, layers ...string) (assets.Asset, float64, bool) {
	want := map[string]bool{}
	for _, l := range layers {
		want[l] = true
	}
	r := geo.NewRuler(p[1])
	var best assets.Asset
	bestD, found := 0.0, false
	for _, a := range all {
		if len(layers) > 0 && !want[a.Layer] {
			continue
		}
		d := r.Distance(p, a.Point)
		if d > radius {
			continue
		}
		if !found || d < bestD || (d == bestD && cmp.Or(cmp.Compare(a.Layer, best.Layer), cmp.Compare(a.ID, best.ID)) < 0) {
			best, bestD, found = a, d, true
		}
	}
	return best, bestD, found
}

// TestNearestBruteForce compares Nearest with a linear scan for thousands of
// random points, over layers of different densities with many assets placed
// exactly on top of others (so ties are common), before and after rounds of
// upserts, moves and deletes.
func TestNearestBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 7))
	layers := []string{"streetlight", "hydrant", "bench", "bus_stop"}
	center := orb.Point{-75.70, 45.42}
	pr := geo.NewProjection(center)
	randPoint := func(halfSide float64) orb.Point {
		return pr.ToLonLat(orb.Point{(rng.Float64()*2 - 1) * halfSide, (rng.Float64()*2 - 1) * halfSide})
	}

	all := map[[2]string]assets.Asset{}
	var list []assets.Asset
	var spots []orb.Point // shared positions, for ties
	add := func(a assets.Asset) {
		all[[2]string{a.Layer, a.ID}] = a
	}
	for i := range 6000 {
		l := layers[min(rng.IntN(7), 3)] // streetlights are the dense layer
		p := randPoint(1500)
		if len(spots) > 0 && rng.IntN(5) == 0 {
			p = spots[rng.IntN(len(spots))]
		} else if rng.IntN(10) == 0 {
			spots = append(spots, p)
		}
		add(assets.Asset{Layer: l, ID: fmt.Sprintf("%c%d", 'a'+rng.IntN(3), i), Point: p, Version: 1})
	}
	for _, a := range all {
		list = append(list, a)
	}
	ix := mustIndex(t, list)

	check := func(round int) {
		t.Helper()
		if ix.Len() != len(all) {
			t.Fatalf("round %d: Len %d, want %d", round, ix.Len(), len(all))
		}
		at := map[orb.Point]int{}
		for _, a := range all {
			at[a.Point]++
		}
		found, ties := 0, 0
		for q := range 3000 {
			p := randPoint(1600)
			if q%4 == 0 && len(spots) > 0 {
				p = offset(spots[rng.IntN(len(spots))], rng.Float64()*4-2, rng.Float64()*4-2)
			}
			radius := []float64{5, 15, 30, 60, 150}[q%5]
			var ls []string
			switch q % 3 {
			case 1:
				ls = layers[q%4 : q%4+1]
			case 2:
				ls = []string{layers[q%4], layers[(q+1)%4]}
			}
			wa, wd, wok := bruteNearest(all, p, radius, ls...)
			ga, gd, gok := ix.Nearest(p, radius, ls...)
			if wok != gok || wd != gd || wa.Layer != ga.Layer || wa.ID != ga.ID || wa.Version != ga.Version {
				t.Fatalf("round %d: Nearest(%v, %g, %q) = %s/%s@%d %v m %v; linear scan gives %s/%s@%d %v m %v",
					round, p, radius, ls, ga.Layer, ga.ID, ga.Version, gd, gok, wa.Layer, wa.ID, wa.Version, wd, wok)
			}
			if wok {
				found++
				if at[wa.Point] > 1 {
					ties++
				}
			}
		}
		t.Logf("round %d: %d assets, 3000 queries, %d found, %d at shared spots", round, len(all), found, ties)
	}
	check(0)

	for round := 1; round <= 3; round++ {
		var batch []assets.Asset
		for _, a := range all {
			switch rng.IntN(10) {
			case 0: // move
				a.Point = randPoint(1500)
				a.Version++
				batch = append(batch, a)
			case 1: // replay
				batch = append(batch, a)
			}
		}
		for i := range 300 {
			batch = append(batch, assets.Asset{Layer: layers[rng.IntN(4)], ID: fmt.Sprintf("r%d-%d", round, i), Point: randPoint(1500), Version: 1})
		}
		if err := ix.Upsert(batch); err != nil {
			t.Fatal(err)
		}
		for _, a := range batch {
			if old := all[[2]string{a.Layer, a.ID}]; a.Version > old.Version || old.ID == "" {
				add(a)
			}
		}
		n := 0
		for k := range all {
			if n++; n%7 == 0 {
				if !ix.Delete(k[0], k[1]) {
					t.Fatalf("Delete(%v) = false", k)
				}
				delete(all, k)
			}
		}
		check(round)
	}
}
