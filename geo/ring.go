package geo

import (
	"cmp"
	"math"
	"slices"

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
//
// A band keeps apart the edges that cross it from bottom to top (spanning
// edges, both ends beyond the band by a margin). A simple ring's spanning
// edges do not meet inside the band, so they are ordered west to east, and
// the ray from p crosses exactly those east of p: a binary search finds
// them, and only the few within tol of p are tested exactly. So a ray along
// a jagged east–west border, which crosses hundreds of edges, costs a
// search and not hundreds of tests. The other (partial) edges are tested
// one by one.
//
// Why the answer is the exact test's (edge.test on every edge): a spanning
// edge more than tol east of p has p strictly west of it by far more than
// the rounding of the cross product, so edge.test says it crosses; one more
// than tol west says it does not; neither is "on". tol is orders of
// magnitude above any rounding in the edges' x at p's latitude and in the
// cross product, and below it every edge gets edge.test itself.
type bandedRing struct {
	minY, maxY float64
	invH       float64 // bands per degree
	// Band i's partial edges are edges[start[i]:span[i]], its spanning
	// edges edges[span[i]:start[i+1]], west to east.
	start []uint32
	span  []uint32
	edges []edge
	slope []float64 // dx/dy of each spanning edge (0 for partial ones)
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
	// spans reports whether e crosses band k with both ends beyond it by a
	// margin (a millionth of a band) far above the rounding in mapping a
	// point to its band.
	spans := func(e *edge, k int) bool {
		if bands == 1 {
			return false
		}
		m := 1e-6 / br.invH
		lo, hi := br.minY+float64(k)/br.invH, br.minY+float64(k+1)/br.invH
		return e.ay < lo-m && e.by > hi+m
	}
	partial := make([]uint32, bands)
	spanning := make([]uint32, bands)
	for i := 0; i < n; i++ {
		e := newEdge(r[i], r[i+1])
		for k := br.band(e.ay, bands); k <= br.band(e.by, bands); k++ {
			if spans(&e, k) {
				spanning[k]++
			} else {
				partial[k]++
			}
		}
	}
	br.start = make([]uint32, bands+1)
	br.span = make([]uint32, bands)
	for k := 0; k < bands; k++ {
		br.span[k] = br.start[k] + partial[k]
		br.start[k+1] = br.span[k] + spanning[k]
	}
	total := br.start[bands]
	br.edges = make([]edge, total)
	br.slope = make([]float64, total)
	nextP := slices.Clone(br.start[:bands])
	nextS := slices.Clone(br.span)
	for i := 0; i < n; i++ {
		e := newEdge(r[i], r[i+1])
		for k := br.band(e.ay, bands); k <= br.band(e.by, bands); k++ {
			if spans(&e, k) {
				br.edges[nextS[k]] = e
				br.slope[nextS[k]] = (e.bx - e.ax) / (e.by - e.ay)
				nextS[k]++
			} else {
				br.edges[nextP[k]] = e
				nextP[k]++
			}
		}
	}
	// Spanning edges west to east, by their x at the band's middle.
	for k := 0; k < bands; k++ {
		lo, hi := br.span[k], br.start[k+1]
		if hi-lo < 2 {
			continue
		}
		mid := br.minY + (float64(k)+0.5)/br.invH
		idx := make([]int, hi-lo)
		for i := range idx {
			idx[i] = int(lo) + i
		}
		xAt := func(i int) float64 { return br.edges[i].ax + (mid-br.edges[i].ay)*br.slope[i] }
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(xAt(a), xAt(b)) })
		es := make([]edge, len(idx))
		ss := make([]float64, len(idx))
		for j, i := range idx {
			es[j], ss[j] = br.edges[i], br.slope[i]
		}
		copy(br.edges[lo:hi], es)
		copy(br.slope[lo:hi], ss)
	}
	return br
}

func (br *bandedRing) band(y float64, bands int) int {
	k := int((y - br.minY) * br.invH)
	return min(max(k, 0), bands-1)
}

func (br *bandedRing) classify(p orb.Point) class {
	px, py := p[0], p[1]
	if py < br.minY || py > br.maxY {
		return outside
	}
	k := br.band(py, len(br.start)-1)
	in := false
	sp, end := br.span[k], br.start[k+1]
	for i := br.start[k]; i < sp; i++ {
		on, crosses := br.edges[i].test(px, py)
		if on {
			return boundary
		}
		if crosses {
			in = !in
		}
	}
	if sp < end {
		tol := 1e-9 * (1 + math.Abs(px))
		// The first spanning edge not clearly west of p.
		lo, hi := sp, end
		for lo < hi {
			m := lo + (hi-lo)/2
			if e := &br.edges[m]; e.ax+(py-e.ay)*br.slope[m] < px-tol {
				lo = m + 1
			} else {
				hi = m
			}
		}
		i := lo
		for ; i < end; i++ {
			e := &br.edges[i]
			if e.ax+(py-e.ay)*br.slope[i] > px+tol {
				break
			}
			on, crosses := e.test(px, py)
			if on {
				return boundary
			}
			if crosses {
				in = !in
			}
		}
		if (end-i)%2 == 1 { // every edge clearly east of p is crossed
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
