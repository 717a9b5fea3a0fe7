package geo

import (
	"github.com/paulmach/orb"
)

// class is where a point lies relative to a ring or polygon.
type class int8

const (
	outside class = iota
	inside
	boundary
)

// edge is a ring edge stored bottom-up (a is the lower end; for horizontal
// edges the left one). Storing shared edges in one canonical direction makes
// two neighbouring wards compute bit-identical answers for the same edge, so a
// point near a shared border falls in exactly one of them.
type edge struct{ ax, ay, bx, by float64 }

func newEdge(a, b orb.Point) edge {
	if a[1] > b[1] || (a[1] == b[1] && a[0] > b[0]) {
		a, b = b, a
	}
	return edge{a[0], a[1], b[0], b[1]}
}

// test classifies p against this edge for a ray cast towards +x: whether p
// lies on the edge, and whether the ray crosses it (half-open in y, so a ray
// through a vertex counts once).
func (e *edge) test(px, py float64) (on, crosses bool) {
	if py < e.ay || py > e.by {
		return false, false
	}
	if e.ay == e.by { // horizontal edge at the ray's height
		return px >= e.ax && px <= e.bx, false
	}
	// Beside the edge's box the answer needs no arithmetic, and must not
	// get any: a rounded cross product could put a point far to its side
	// "on" it (it underflows to zero for a point 5e-324 west of (0, y)).
	lo, hi := e.ax, e.bx
	if lo > hi {
		lo, hi = hi, lo
	}
	if px > hi {
		return false, false
	}
	if px < lo {
		return false, py < e.by
	}
	o := (e.bx-e.ax)*(py-e.ay) - (e.by-e.ay)*(px-e.ax)
	if o == 0 {
		return true, false
	}
	return false, o > 0 && py < e.by
}

// bandedRing is a ring whose edges are bucketed into horizontal bands, so a
// ray cast only visits the edges that span the point's latitude band instead
// of every edge: a ward with 5,000 vertices costs a handful of edge tests.
type bandedRing struct {
	minY, maxY float64
	invH       float64  // bands per degree
	start      []uint32 // edges of band i are edges[start[i]:start[i+1]]
	edges      []edge
}

// edgesPerBand balances memory (edges spanning several bands are stored in
// each) against the edges a lookup visits.
const edgesPerBand = 2

func newBandedRing(r orb.Ring) bandedRing {
	n := len(r) - 1
	if n < 1 {
		return bandedRing{minY: 1, maxY: 0} // empty: matches nothing
	}
	b := r.Bound()
	br := bandedRing{minY: b.Min[1], maxY: b.Max[1]}
	bands := max(1, n/edgesPerBand)
	if h := b.Max[1] - b.Min[1]; h > 0 {
		br.invH = float64(bands) / h
	} else {
		bands = 1
	}
	counts := make([]uint32, bands+1)
	for i := 0; i < n; i++ {
		e := newEdge(r[i], r[i+1])
		for k := br.band(e.ay, bands); k <= br.band(e.by, bands); k++ {
			counts[k+1]++
		}
	}
	for k := 1; k <= bands; k++ {
		counts[k] += counts[k-1]
	}
	br.start = counts
	br.edges = make([]edge, counts[bands])
	fill := append([]uint32(nil), counts[:bands]...)
	for i := 0; i < n; i++ {
		e := newEdge(r[i], r[i+1])
		for k := br.band(e.ay, bands); k <= br.band(e.by, bands); k++ {
			br.edges[fill[k]] = e
			fill[k]++
		}
	}
	return br
}

func (br *bandedRing) band(y float64, bands int) int {
	k := int((y - br.minY) * br.invH)
	return min(max(k, 0), bands-1)
}

func (br *bandedRing) classify(p orb.Point) class {
	if p[1] < br.minY || p[1] > br.maxY {
		return outside
	}
	k := br.band(p[1], len(br.start)-1)
	in := false
	for i := br.start[k]; i < br.start[k+1]; i++ {
		on, crosses := br.edges[i].test(p[0], p[1])
		if on {
			return boundary
		}
		if crosses {
			in = !in
		}
	}
	if in {
		return inside
	}
	return outside
}

// ringClass classifies p against r by visiting every edge; the reference
// that bandedRing must agree with, and fine for one-off checks.
func ringClass(r orb.Ring, p orb.Point) class {
	in := false
	for i := 0; i+1 < len(r); i++ {
		e := newEdge(r[i], r[i+1])
		on, crosses := e.test(p[0], p[1])
		if on {
			return boundary
		}
		if crosses {
			in = !in
		}
	}
	if in {
		return inside
	}
	return outside
}
