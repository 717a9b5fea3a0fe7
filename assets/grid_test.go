package assets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
)

// scanNearest is the definition: every asset of the snapshot, the same
// distance formula, ties to the smaller (layer, ID).
func scanNearest(all []Asset, p orb.Point, radius float64, layers ...string) (Asset, float64, bool) {
	r := geo.NewRuler(p[1])
	var best *Asset
	bestD := 0.0
	for i := range all {
		a := &all[i]
		if len(layers) > 0 && a.Layer != layers[0] {
			continue
		}
		if d := r.Distance(p, a.Point); d <= radius && (best == nil || closer(a, d, best, bestD)) {
			best, bestD = a, d
		}
	}
	if best == nil {
		return Asset{}, 0, false
	}
	return *best, bestD, true
}

// pruned reports whether a search takes the grid's usual path (a small
// window inside the directory, cells pruned), rather than a tile walk.
func pruned(s *Snapshot, p orb.Point, radius float64) bool {
	se := s.grid.newSearch(p, radius, nil, nil)
	m := radius*(1+1e-9) + 1e-9
	return s.grid.nearestPruned(&se, m/se.kx, m/se.ky)
}

type gridCase struct {
	p      orb.Point
	radius float64
	layers []string
}

// checkGrid compares Nearest with the scan on every case and reports how
// many the grid answered.
func checkGrid(t *testing.T, ix *Index, cases []gridCase) (byGrid int) {
	t.Helper()
	s := ix.Snapshot()
	var all []Asset
	s.Scan(func(a Asset) bool { all = append(all, a); return true })
	for _, c := range cases {
		if len(c.layers) > 1 {
			t.Fatal("scanNearest takes one layer or all")
		}
		wa, wd, wok := scanNearest(all, c.p, c.radius, c.layers...)
		ga, gd, gok := s.Nearest(c.p, c.radius, c.layers...)
		if wok != gok || wd != gd || wa.Layer != ga.Layer || wa.ID != ga.ID || wa.Version != ga.Version {
			t.Fatalf("Nearest(%v, %v, %q) = %s/%s@%d %v m %v; scan gives %s/%s@%d %v m %v",
				c.p, c.radius, c.layers, ga.Layer, ga.ID, ga.Version, gd, gok, wa.Layer, wa.ID, wa.Version, wd, wok)
		}
		if pruned(s, c.p, c.radius) {
			byGrid++
		}
	}
	return byGrid
}

// checkAll compares NearestAll with Nearest, point by point, at each
// radius, for every layer and for each layer alone.
func checkAll(t *testing.T, s *Snapshot, cases []gridCase) {
	t.Helper()
	pts := make([]orb.Point, len(cases))
	for i, c := range cases {
		pts[i] = c.p
	}
	found := make([]*Asset, len(pts))
	dist := make([]float64, len(pts))
	for _, radius := range []float64{0, 30, 75, 5000} {
		for _, layers := range append([][]string{nil}, func() (ls [][]string) {
			for _, l := range s.Layers() {
				ls = append(ls, []string{l})
			}
			return ls
		}()...) {
			s.NearestAll(pts, radius, found, dist, layers...)
			for i, p := range pts {
				a, d, ok := s.Nearest(p, radius, layers...)
				if ok != (found[i] != nil) || (ok && (a.Layer != found[i].Layer || a.ID != found[i].ID || d != dist[i])) {
					t.Fatalf("NearestAll(%v, %v, %q): %v %v; Nearest %s/%s %v %v", p, radius, layers, found[i], dist[i], a.Layer, a.ID, d, ok)
				}
			}
		}
	}
}

// adversarialCases puts query points where a bucket grid can go wrong:
// assets exactly radius away (the radius is the computed distance, and the
// next float below it), points and assets on cell lines and corners, on
// top of assets, and tied assets.
func adversarialCases(s *Snapshot, rng *rand.Rand, layers []string) []gridCase {
	var as []Asset
	s.Scan(func(a Asset) bool { as = append(as, a); return true })
	g := s.grid
	var cases []gridCase
	for range 1000 {
		a := as[rng.IntN(len(as))]
		var ls []string
		if rng.IntN(2) == 0 {
			ls = []string{layers[rng.IntN(len(layers))]}
		}
		pr := geo.NewProjection(a.Point)
		p := pr.ToLonLat(orb.Point{rng.NormFloat64() * 40, rng.NormFloat64() * 40})
		switch rng.IntN(5) {
		case 0: // the asset's cell corner
			cx, cy := g.cellOf(a.Point[0], a.Point[1])
			p = orb.Point{float64(cx) / g.invW, float64(cy) / g.invH}
		case 1: // on the asset
			p = a.Point
		case 2, 3: // due east, west, north or south of it: the window's edge
			kx, ky := geo.NewRuler(a.Point[1]).MetresPerDegree()
			m := 10 + rng.Float64()*60
			p = a.Point
			switch rng.IntN(4) {
			case 0:
				p[0] -= m / kx
			case 1:
				p[0] += m / kx
			case 2:
				p[1] -= m / ky
			default:
				p[1] += m / ky
			}
		}
		d := geo.NewRuler(p[1]).Distance(p, a.Point)
		cases = append(cases,
			gridCase{p, d, ls},                              // exactly at the radius
			gridCase{p, math.Nextafter(d, 0), ls},           // just short of it
			gridCase{p, math.Nextafter(d, math.Inf(1)), ls}, // just beyond
			gridCase{p, 75, ls},
		)
	}
	return cases
}

func TestGridMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	layers := []string{"streetlight", "hydrant", "tree"}
	pr := geo.NewProjection(orb.Point{-73.6, 45.5})
	var list []Asset
	var spots []orb.Point
	for i := range 10000 {
		p := pr.ToLonLat(orb.Point{rng.Float64()*6000 - 3000, rng.Float64()*6000 - 3000})
		switch {
		case len(spots) > 0 && rng.IntN(8) == 0: // ties
			p = spots[rng.IntN(len(spots))]
		case rng.IntN(20) == 0:
			spots = append(spots, p)
		}
		list = append(list, Asset{Layer: layers[rng.IntN(3)], ID: fmt.Sprintf("a%05d", i), Point: p, Version: 1})
	}
	ix, err := NewIndex(list)
	if err != nil {
		t.Fatal(err)
	}
	// Two in five assets move onto the lines of the grid's lattice, where
	// a search window's edge meets the cell boundary.
	lattice := ix.Snapshot().grid
	var moves []Asset
	for i := 0; i < len(list); i += 5 {
		for k, a := range list[i : i+2] {
			a.Version++
			if k == 0 {
				a.Point[0] = math.Round(a.Point[0]*lattice.invW) / lattice.invW
			} else {
				a.Point[1] = math.Round(a.Point[1]*lattice.invH) / lattice.invH
			}
			list[i+k] = a
			moves = append(moves, a)
		}
	}
	if err := ix.Upsert(moves); err != nil {
		t.Fatal(err)
	}
	cases := adversarialCases(ix.Snapshot(), rng, layers)
	if n := checkGrid(t, ix, cases); n < len(cases)*9/10 {
		t.Fatalf("the grid answered %d of %d searches", n, len(cases))
	}
	checkAll(t, ix.Snapshot(), cases[:1000])

	// Moves across cells, new assets, retirements and a new layer, in
	// batches: each published snapshot must match the scan.
	for round := 1; round <= 4; round++ {
		var batch []Asset
		for i := range 1000 {
			a := list[rng.IntN(len(list))]
			if cur, ok := ix.Get(a.Layer, a.ID); ok {
				a = cur
			}
			a.Version++
			a.Point = geo.NewProjection(a.Point).ToLonLat(orb.Point{rng.NormFloat64() * 100, rng.NormFloat64() * 100})
			batch = append(batch, a)
			if i%10 == 0 {
				batch = append(batch, Asset{Layer: "bench", ID: fmt.Sprintf("b%d-%d", round, i), Point: a.Point, Version: 1})
			}
		}
		if err := ix.Upsert(batch); err != nil {
			t.Fatal(err)
		}
		before := ix.Snapshot()
		for i := range 700 {
			a := list[(round*700+i)%len(list)]
			ix.Delete(a.Layer, a.ID)
		}
		if round == 3 { // a whole layer retired: its ordinal is reused
			var bench []string
			ix.Snapshot().Scan(func(a Asset) bool {
				if a.Layer == "bench" {
					bench = append(bench, a.ID)
				}
				return true
			})
			for _, id := range bench {
				ix.Delete("bench", id)
			}
		}
		n := checkGrid(t, ix, adversarialCases(ix.Snapshot(), rng, append(layers, "bench")))
		t.Logf("round %d: %d assets; grid answered %d", round, ix.Len(), n)
		// The snapshot taken before the deletes still answers as it did.
		if before.Len() == ix.Len() {
			t.Fatal("deletes did not change the count")
		}
		if a, _, ok := before.Nearest(list[round*700%len(list)].Point, 0.5); ok && a.ID == "" {
			t.Fatal("old snapshot answered an empty asset")
		}
	}
	for _, a := range list[:3000] {
		ix.Delete(a.Layer, a.ID)
	}
	retired := map[string]bool{}
	for _, a := range list[:3000] {
		retired[a.ID] = true
	}
	for _, a := range list[:3000] {
		if got, _, ok := ix.Nearest(a.Point, 0); ok && retired[got.ID] {
			t.Fatalf("retired asset %s answered", got.ID)
		}
	}
}

// An asset far from the others (past the largest directory) goes to the
// grid's overflow R-tree, and searches the pruned path cannot take (wide
// radii, the antimeridian) walk the tiles, with the same answers; so do
// layers past the tiles' 256 ordinals.
func TestGridFallbacks(t *testing.T) {
	ix, err := NewIndex([]Asset{
		{Layer: "l", ID: "a", Point: orb.Point{-73.6, 45.5}},
		{Layer: "l", ID: "b", Point: orb.Point{-73.601, 45.5}},
	})
	if err != nil {
		t.Fatal(err)
	}
	far := []Asset{
		{Layer: "l", ID: "paris", Point: orb.Point{2.35, 48.85}},
		{Layer: "l", ID: "east", Point: orb.Point{179.9999, 0}},
		{Layer: "l", ID: "west", Point: orb.Point{-179.9999, 0}},
		{Layer: "l", ID: "near", Point: orb.Point{-73.5, 45.5}}, // the directory could have grown to it; frozen now
	}
	if err := ix.Upsert(far); err != nil {
		t.Fatal(err)
	}
	cases := []gridCase{
		{orb.Point{2.3501, 48.85}, 50, nil},
		{orb.Point{-73.6, 45.5}, 5000, nil},
		{orb.Point{-73.5001, 45.5}, 50, nil},
		{orb.Point{-73.5999, 45.5}, 80, []string{"l"}},
		{orb.Point{180, 0}, 50, nil},
		{orb.Point{-180, 0}, 50, nil},
	}
	checkGrid(t, ix, cases)
	if a, _, ok := ix.Nearest(orb.Point{2.3501, 48.85}, 50); !ok || a.ID != "paris" {
		t.Fatalf("Paris: %v %v", a.ID, ok)
	}
	if a, _, ok := ix.Nearest(orb.Point{-73.5, 45.5}, 1); !ok || a.ID != "near" {
		t.Fatalf("near: %v %v", a.ID, ok)
	}
	// Retiring assets of the overflow: never answered again.
	ix.Delete("l", "paris")
	ix.Delete("l", "west")
	if a, _, ok := ix.Nearest(orb.Point{2.3501, 48.85}, 50); ok {
		t.Fatalf("retired Paris answered: %v", a.ID)
	}
	checkGrid(t, ix, cases)

	// 300 layers: those past the 256 ordinals live in the overflow too.
	var many []Asset
	for i := range 300 {
		many = append(many, Asset{Layer: fmt.Sprintf("L%03d", i), ID: "x", Point: orb.Point{-73.6 + float64(i)*1e-5, 45.5001}})
	}
	if err := ix.Upsert(many); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"L000", "L255", "L256", "L299"} {
		cases = append(cases, gridCase{orb.Point{-73.6, 45.5001}, 80, []string{l}}, gridCase{orb.Point{-73.5975, 45.5001}, 60, []string{l}},
			gridCase{orb.Point{-73.597, 45.5001}, 5000, []string{l}})
	}
	cases = append(cases, gridCase{orb.Point{-73.597, 45.5001}, 30, nil}, gridCase{orb.Point{-73.5971, 45.5001}, 1e7, nil})
	checkGrid(t, ix, cases)
	at299 := many[299].Point
	if a, _, ok := ix.Nearest(at299, 1, "L299"); !ok || a.Layer != "L299" {
		t.Fatalf("layer L299: %v %v", a.Layer, ok)
	}
	ix.Delete("L299", "x")
	if a, _, ok := ix.Nearest(at299, 1, "L299"); ok {
		t.Fatalf("retired L299/x answered: %v", a.ID)
	}
}

// TestNearestAllCellOrder runs NearestAll over many points per cell in
// random order (the batch visits them sorted by cell within a tile), with
// points outside the directory and invalid ones among them, then over a
// shorter batch that reuses the pooled working memory, into buffers full of
// stale answers: every answer must be Nearest's.
func TestNearestAllCellOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	pr := geo.NewProjection(orb.Point{-75.7, 45.4})
	var list []Asset
	for i := range 3000 {
		p := pr.ToLonLat(orb.Point{rng.Float64()*2000 - 1000, rng.Float64()*2000 - 1000})
		list = append(list, Asset{Layer: []string{"bin", "tree"}[i%2], ID: fmt.Sprintf("b%04d", i), Point: p})
	}
	ix, err := NewIndex(list)
	if err != nil {
		t.Fatal(err)
	}
	s := ix.Snapshot()
	var pts []orb.Point
	for range 20000 { // about 50 points a cell, shuffled
		pts = append(pts, pr.ToLonLat(orb.Point{rng.Float64()*2400 - 1200, rng.Float64()*2400 - 1200}))
	}
	pts = append(pts, orb.Point{10, 10}, orb.Point{-75.7, 89.99}, orb.Point{math.NaN(), 45.4}, orb.Point{-75.7, 91}, orb.Point{179.9999, 45.4})
	rng.Shuffle(len(pts), func(i, j int) { pts[i], pts[j] = pts[j], pts[i] })
	stale := &list[0]
	for _, n := range []int{len(pts), 777, 1} {
		batch := pts[:n]
		for _, layers := range [][]string{nil, {"tree"}} {
			found := make([]*Asset, n)
			dist := make([]float64, n)
			for i := range found {
				found[i], dist[i] = stale, -1
			}
			s.NearestAll(batch, 75, found, dist, layers...)
			hits := 0
			for i, p := range batch {
				a, d, ok := s.Nearest(p, 75, layers...)
				if ok != (found[i] != nil) || (ok && (a.Layer != found[i].Layer || a.ID != found[i].ID || d != dist[i])) || (!ok && dist[i] != 0) {
					t.Fatalf("n=%d layers %q: NearestAll(%v) = %v %v; Nearest %s/%s %v %v", n, layers, p, found[i], dist[i], a.Layer, a.ID, d, ok)
				}
				if ok {
					hits++
				}
			}
			if n == len(pts) && hits < n/2 {
				t.Fatalf("only %d of %d points found an asset: the test is not testing", hits, n)
			}
		}
	}
}
