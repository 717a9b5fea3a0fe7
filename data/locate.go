package data

import (
	"math"

	"github.com/paulmach/orb"
)

// locator answers "which ward contains this point" fast enough to place
// millions of generated points. It is the generator's own, deliberately
// independent of package geo (the service's one point-in-polygon): a grid
// of edges and segment crossings rather than geo's banded ray cast, so it
// serves as a test oracle for geo (TestGeneratorOracleAgreesWithGeo), and
// the generated cities do not move when geo changes.
//
// The bound is cut into a grid. Each cell lists the ring edges that touch
// it and records the ward at its centre. A point in a cell without edges
// takes the centre's ward; otherwise the segment from the centre to the
// point is tested against the cell's few edges, and every crossing toggles
// membership of that edge's ward (even-odd over all rings of a ward, which
// handles holes and multipolygons alike).
//
// A locator is used by one goroutine: slowQueries is a plain counter.
type locator struct {
	minX, minY  float64
	maxX, maxY  float64
	cw, ch      float64
	nx, ny      int
	start       []int32 // cell c's edges are idx[start[c]:start[c+1]]
	idx         []int32
	edges       []locEdge
	centre      []int32 // ward index at the cell centre, -1 none, -2 unknown
	slowQueries int     // brute-force fallbacks, for tests
}

type locEdge struct {
	ax, ay, bx, by float64
	ward           int32
}

const (
	noWard        = -1
	ambiguousWard = -2
)

func newLocator(wards []Ward) *locator {
	l := &locator{}
	b := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	for wi, w := range wards {
		for _, poly := range w.Geometry {
			for _, ring := range poly {
				for i := 0; i+1 < len(ring); i++ {
					a, c := ring[i], ring[i+1]
					l.edges = append(l.edges, locEdge{a[0], a[1], c[0], c[1], int32(wi)})
					b = b.Extend(a)
				}
			}
		}
	}
	if len(l.edges) == 0 {
		l.nx, l.ny = 0, 0
		return l
	}
	l.minX, l.minY, l.maxX, l.maxY = b.Min[0], b.Min[1], b.Max[0], b.Max[1]
	// About four cells per edge keeps boundary cells down to a handful of
	// edges while the grid stays small next to the geometry.
	w, h := l.maxX-l.minX, l.maxY-l.minY
	cells := min(max(4*len(l.edges), 1024), 1<<22)
	side := math.Sqrt(w * h / float64(cells))
	l.nx = max(1, min(4096, int(math.Ceil(w/side))))
	l.ny = max(1, min(4096, int(math.Ceil(h/side))))
	l.cw, l.ch = w/float64(l.nx), h/float64(l.ny)

	// Two passes (count, fill) into one flat index.
	counts := make([]int32, l.nx*l.ny+1)
	l.forCells(func(c int, _ int32) { counts[c+1]++ })
	for c := 1; c < len(counts); c++ {
		counts[c] += counts[c-1]
	}
	l.start = counts
	l.idx = make([]int32, counts[len(counts)-1])
	fill := make([]int32, l.nx*l.ny)
	copy(fill, counts[:len(fill)])
	l.forCells(func(c int, e int32) {
		l.idx[fill[c]] = e
		fill[c]++
	})
	l.sweepCentres()
	return l
}

// forCells calls f for every cell an edge may touch: per grid row, the
// columns spanned by the part of the edge inside that row. A margin of a
// millionth of a cell absorbs rounding in the row and column arithmetic.
func (l *locator) forCells(f func(cell int, edge int32)) {
	ex, ey := l.cw*1e-6, l.ch*1e-6
	for ei, e := range l.edges {
		y0, y1 := min(e.ay, e.by), max(e.ay, e.by)
		for r := l.row(y0 - ey); r <= l.row(y1+ey); r++ {
			xa, xb := e.ax, e.bx
			if e.ay != e.by {
				xa = e.xAt(max(y0, l.minY+float64(r)*l.ch))
				xb = e.xAt(min(y1, l.minY+float64(r+1)*l.ch))
			}
			for c := l.col(min(xa, xb) - ex); c <= l.col(max(xa, xb)+ex); c++ {
				f(r*l.nx+c, int32(ei))
			}
		}
	}
}

// xAt is the edge's x at height y, clamped to the edge's ends.
func (e locEdge) xAt(y float64) float64 {
	t := max(0, min(1, (y-e.ay)/(e.by-e.ay)))
	return e.ax + t*(e.bx-e.ax)
}

func (l *locator) col(x float64) int {
	return max(0, min(l.nx-1, int(math.Floor((x-l.minX)/l.cw))))
}

func (l *locator) row(y float64) int {
	return max(0, min(l.ny-1, int(math.Floor((y-l.minY)/l.ch))))
}

func (l *locator) cellCentre(c int) (x, y float64) {
	return l.minX + (float64(c%l.nx)+0.5)*l.cw, l.minY + (float64(c/l.nx)+0.5)*l.ch
}

// sweepCentres finds the ward at every cell centre by walking each row from
// a point left of the bound (in no ward) and toggling at every crossing of
// the horizontal segment between consecutive centres.
func (l *locator) sweepCentres() {
	l.centre = make([]int32, l.nx*l.ny)
	// stamp marks edges already tested for the current segment, as an
	// edge can be listed in both cells the segment spans.
	stamp, stampN := make([]uint32, len(l.edges)), uint32(0)
	for r := range l.ny {
		var st wardSet
		y := l.minY + (float64(r)+0.5)*l.ch
		prevX := l.minX - l.cw
		for c := range l.nx {
			x := l.minX + (float64(c)+0.5)*l.cw
			stampN++
			for _, cell := range [2]int{r*l.nx + c - 1, r*l.nx + c} {
				if cell < r*l.nx {
					continue
				}
				for _, ei := range l.idx[l.start[cell]:l.start[cell+1]] {
					if stamp[ei] == stampN {
						continue
					}
					stamp[ei] = stampN
					e := &l.edges[ei]
					// Half-open in y and x, so a crossing at a vertex or
					// exactly at a centre is counted once.
					if (e.ay > y) == (e.by > y) {
						continue
					}
					xi := e.ax + (y-e.ay)*(e.bx-e.ax)/(e.by-e.ay)
					if prevX <= xi && xi < x {
						st.toggle(e.ward)
					}
				}
			}
			l.centre[r*l.nx+c] = st.single()
			prevX = x
		}
	}
}

// wardSet is the set of wards containing a point while crossings are
// counted; in a partition it ends with at most one member.
type wardSet struct {
	w        [6]int32
	n        int
	overflow bool
}

func (s *wardSet) toggle(w int32) {
	for i := 0; i < s.n; i++ {
		if s.w[i] == w {
			s.n--
			s.w[i] = s.w[s.n]
			return
		}
	}
	if s.n == len(s.w) {
		s.overflow = true
		return
	}
	s.w[s.n] = w
	s.n++
}

func (s *wardSet) single() int32 {
	switch {
	case s.overflow || s.n > 1:
		return ambiguousWard
	case s.n == 1:
		return s.w[0]
	}
	return noWard
}

// locate returns the index of the ward containing pt, or -1. Points exactly
// on a border may go to either side; the generator does not care.
func (l *locator) locate(pt orb.Point) int {
	x, y := pt[0], pt[1]
	if l.nx == 0 || !(x >= l.minX && x <= l.maxX && y >= l.minY && y <= l.maxY) {
		return noWard
	}
	c := l.row(y)*l.nx + l.col(x)
	edges := l.idx[l.start[c]:l.start[c+1]]
	w := l.centre[c]
	if len(edges) == 0 && w != ambiguousWard {
		return int(w)
	}
	if w == ambiguousWard {
		return l.slowLocate(pt)
	}
	cx, cy := l.cellCentre(c)
	var st wardSet
	if w >= 0 {
		st.toggle(w)
	}
	for _, ei := range edges {
		e := &l.edges[ei]
		if segmentsCross(cx, cy, x, y, e) {
			st.toggle(e.ward)
		}
	}
	if r := st.single(); r != ambiguousWard {
		return int(r)
	}
	return l.slowLocate(pt)
}

// segmentsCross reports whether segment C→P crosses edge e. An edge end
// lying exactly on the line CP counts as being on its right, for both edges
// sharing it, so a path through a vertex is counted consistently.
func segmentsCross(cx, cy, px, py float64, e *locEdge) bool {
	oa := orient(cx, cy, px, py, e.ax, e.ay) > 0
	ob := orient(cx, cy, px, py, e.bx, e.by) > 0
	if oa == ob {
		return false
	}
	oc := orient(e.ax, e.ay, e.bx, e.by, cx, cy)
	op := orient(e.ax, e.ay, e.bx, e.by, px, py)
	return (oc > 0 && op < 0) || (oc < 0 && op > 0)
}

func orient(ax, ay, bx, by, cx, cy float64) float64 {
	return (bx-ax)*(cy-ay) - (by-ay)*(cx-ax)
}

// slowLocate is the brute-force ray cast used when a cell centre lies on a
// border (in practice never).
func (l *locator) slowLocate(pt orb.Point) int {
	l.slowQueries++
	var st wardSet
	for i := range l.edges {
		e := &l.edges[i]
		if (e.ay > pt[1]) == (e.by > pt[1]) {
			continue
		}
		if xi := e.ax + (pt[1]-e.ay)*(e.bx-e.ax)/(e.by-e.ay); xi > pt[0] {
			st.toggle(e.ward)
		}
	}
	if st.n == 0 {
		return noWard
	}
	return int(st.w[0])
}
