package geo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// stripCity partitions the square [0,10]² into n vertical strips whose shared
// borders are jagged polylines of `jag` vertices, stored once and used by both
// neighbours (as real ward files do). Strip 1 has a square hole which is an
// island part of the last strip, and strip 0 has a lake hole that belongs to
// nobody.
func stripCity(n, jag int, rng *rand.Rand) []orb.MultiPolygon {
	borders := make([][]orb.Point, n+1) // bottom to top
	for i := 0; i <= n; i++ {
		x := 10 * float64(i) / float64(n)
		line := make([]orb.Point, jag)
		for k := range line {
			y := 10 * float64(k) / float64(jag-1)
			dx := 0.0
			if i > 0 && i < n && k > 0 && k < jag-1 {
				dx = (rng.Float64() - 0.5) * 10 / float64(n) * 0.6
			}
			line[k] = orb.Point{x + dx, y}
		}
		borders[i] = line
	}
	polys := make([]orb.MultiPolygon, n)
	for i := 0; i < n; i++ {
		var ring orb.Ring
		ring = append(ring, borders[i+1]...) // right border, bottom to top
		for k := len(borders[i]) - 1; k >= 0; k-- {
			ring = append(ring, borders[i][k]) // left border, top to bottom
		}
		ring = append(ring, ring[0])
		polys[i] = orb.MultiPolygon{{ring}}
	}
	// The square hole must sit clear of strip 1's jagged borders.
	cx := 10 * 1.5 / float64(n)
	w := 10 / float64(n) * 0.1
	island := orb.Ring{{cx - w, 4}, {cx + w, 4}, {cx + w, 5}, {cx - w, 5}, {cx - w, 4}}
	hole := orb.Ring{{cx - w, 4}, {cx - w, 5}, {cx + w, 5}, {cx + w, 4}, {cx - w, 4}}
	polys[1][0] = append(polys[1][0], hole)
	polys[n-1] = append(polys[n-1], orb.Polygon{island})
	lx := 10 * 0.5 / float64(n)
	lake := orb.Ring{{lx - w, 7}, {lx - w, 8}, {lx + w, 8}, {lx + w, 7}, {lx - w, 7}}
	polys[0][0] = append(polys[0][0], lake)
	return polys
}

func bruteLocate(polys []orb.MultiPolygon, p orb.Point) (int, bool) {
	for i, mp := range polys {
		if Covers(mp, p) {
			return i, true
		}
	}
	return -1, false
}

func TestStripCityIsValid(t *testing.T) {
	for i, mp := range stripCity(8, 500, rand.New(rand.NewPCG(1, 2))) {
		if err := ValidateMultiPolygon(mp); err != nil {
			t.Fatalf("strip %d: %v", i, err)
		}
	}
}

func TestPolygonIndexAgreesWithBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	polys := stripCity(8, 800, rng)
	ix := NewPolygonIndex(polys)
	if ix.Len() != 8 {
		t.Fatalf("Len = %d", ix.Len())
	}
	var found, none int
	for i := 0; i < 5000; i++ {
		p := orb.Point{rng.Float64()*12 - 1, rng.Float64()*12 - 1}
		got, ok := ix.Locate(p)
		want, wantOK := bruteLocate(polys, p)
		if got != want || ok != wantOK {
			t.Fatalf("Locate(%v) = %d,%v; brute force %d,%v", p, got, ok, want, wantOK)
		}
		// Random points never land exactly on a border, where the two
		// boundary rules differ: our ring test must agree with orb's.
		for j, mp := range polys {
			if Covers(mp, p) != planar.MultiPolygonContains(mp, p) {
				t.Fatalf("Covers(%d, %v) disagrees with orb/planar", j, p)
			}
		}
		if ok {
			found++
		} else {
			none++
		}
	}
	if found == 0 || none == 0 {
		t.Fatalf("degenerate sample: %d found, %d outside", found, none)
	}
}

// Every point inside the square but outside the lake lies in exactly one
// strip; the lake is outside the municipality.
func TestPolygonIndexPartition(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	polys := stripCity(6, 300, rng)
	ix := NewPolygonIndex(polys)
	for i := 0; i < 20000; i++ {
		p := orb.Point{rng.Float64() * 10, rng.Float64() * 10}
		n := 0
		for _, mp := range polys {
			if Covers(mp, p) {
				n++
			}
		}
		_, ok := ix.Locate(p)
		inLake := p[0] > 10*0.5/6-10/6.0*0.1 && p[0] < 10*0.5/6+10/6.0*0.1 && p[1] > 7 && p[1] < 8
		if inLake {
			if ok {
				t.Fatalf("%v in the lake was located", p)
			}
			continue
		}
		if !ok || n != 1 {
			t.Fatalf("%v covered by %d polygons (located: %v)", p, n, ok)
		}
	}
}

// Points exactly on shared vertices belong to the lowest-numbered polygon;
// points on the island's edges belong to strip 1 (lower than the island's
// owner); the island's interior belongs to the last strip.
func TestPolygonIndexBoundaryRule(t *testing.T) {
	polys := stripCity(4, 50, rand.New(rand.NewPCG(7, 8)))
	ix := NewPolygonIndex(polys)
	right := polys[0][0][0] // strip 0's outer ring starts with its right border
	for _, v := range right[1 : len(right)/2] {
		if got, _ := ix.Locate(v); got != 0 {
			t.Fatalf("shared vertex %v located in %d, want 0 (lowest index)", v, got)
		}
	}
	island := polys[3][1][0]
	for _, v := range island {
		if got, _ := ix.Locate(v); got != 1 {
			t.Fatalf("island corner %v located in %d, want 1", v, got)
		}
	}
	c := orb.Point{(island[0][0] + island[1][0]) / 2, 4.5}
	if got, _ := ix.Locate(c); got != 3 {
		t.Fatalf("island centre located in %d, want 3", got)
	}
	// The outer border counts as inside: the corner of the square.
	if got, ok := ix.Locate(orb.Point{0, 0}); !ok || got != 0 {
		t.Fatalf("corner (0,0) located %d,%v", got, ok)
	}
}

func TestBandedRingMatchesFullScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	r := circle(orb.Point{0, 0}, 1, 5000)
	br := newBandedRing(r)
	for i := 0; i < 10000; i++ {
		p := orb.Point{rng.Float64()*2.2 - 1.1, rng.Float64()*2.2 - 1.1}
		if i%10 == 0 {
			p = r[rng.IntN(len(r))] // exactly on a vertex
		}
		if a, b := br.classify(p), ringClass(r, p); a != b {
			t.Fatalf("%v: banded %v, full scan %v", p, a, b)
		}
	}
}

func BenchmarkPolygonIndexLocate(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	polys := stripCity(24, 2500, rng) // ~5,000 vertices a ward
	ix := NewPolygonIndex(polys)
	pts := make([]orb.Point, 4096)
	for i := range pts {
		pts[i] = orb.Point{rng.Float64() * 10, rng.Float64() * 10}
	}
	b.Run("index", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			ix.Locate(pts[i%len(pts)])
		}
	})
	b.Run("naive-orb-planar", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			p := pts[i%len(pts)]
			for _, mp := range polys {
				if planar.MultiPolygonContains(mp, p) {
					break
				}
			}
		}
	})
}

// A ring whose north side zigzags: a ray along it crosses hundreds of
// edges that span its band, the case the banded ring answers by binary
// search. Every answer must be the full scan's, on and beside the edges.
func TestBandedRingSpanningEdges(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	r := orb.Ring{{0, 0}, {10, 0}}
	for i := 400; i >= 0; i-- {
		r = append(r, orb.Point{10 * float64(i) / 400, 9 + rng.Float64()})
	}
	r = append(r, orb.Point{0, 0})
	if err := ValidateRing(r); err != nil {
		t.Fatal(err)
	}
	br := newBandedRing(r)
	spanning := 0
	for k := range br.span {
		spanning += int(br.start[k+1] - br.span[k])
	}
	if spanning < len(r) {
		t.Fatalf("only %d spanning entries: the test does not exercise them", spanning)
	}
	var pts []orb.Point
	for range 20000 {
		pts = append(pts, orb.Point{rng.Float64()*10.2 - 0.1, 8.8 + rng.Float64()*1.4})
	}
	for k := 0; k+1 < len(r); k++ {
		a, b := r[k], r[k+1]
		for range 4 {
			u := rng.Float64()
			p := orb.Point{a[0] + u*(b[0]-a[0]), a[1] + u*(b[1]-a[1])}
			pts = append(pts, p, a,
				orb.Point{math.Nextafter(p[0], 20), p[1]}, orb.Point{math.Nextafter(p[0], -20), p[1]},
				orb.Point{p[0], math.Nextafter(p[1], 20)}, orb.Point{p[0], math.Nextafter(p[1], -20)})
		}
	}
	for _, p := range pts {
		if got, want := br.classify(p), ringClass(r, p); got != want {
			t.Fatalf("%v: banded %v, full scan %v", p, got, want)
		}
	}
}
