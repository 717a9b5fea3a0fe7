package geo

import (
	"slices"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// PolygonIndex answers "which polygon covers this point" for a fixed set of
// (multi)polygons, such as a municipality's wards. A grid of up to
// 1024 × 1024 cells over their bounds answers at once for the points in a
// cell no edge touches (see cellGrid), which is nearly all of them. Elsewhere
// an R-tree over the bounds of every polygon part narrows the candidates, and
// each candidate's rings are banded (see bandedRing) so the exact test
// touches a few edges, not thousands.
//
// Boundary rule: a polygon covers the points on its boundary (PostGIS
// ST_Covers). When several polygons cover a point, as on a border two wards
// share, the polygon with the lowest index wins, so every point of the
// municipality belongs to exactly one polygon. In PostGIS terms:
// ST_Covers(geom, pt) ORDER BY index LIMIT 1.
//
// A PolygonIndex is immutable once built and safe for concurrent use.
type PolygonIndex struct {
	tree  rtree.RTreeG[int32] // part number
	parts []polygonPart
	count int
	bound orb.Bound
	grid  cellGrid
}

type polygonPart struct {
	owner int
	outer bandedRing
	holes []bandedRing
}

func (pp *polygonPart) classify(p orb.Point) class {
	c := pp.outer.classify(p)
	if c == outside {
		return outside
	}
	for i := range pp.holes {
		switch pp.holes[i].classify(p) {
		case inside:
			return outside
		case boundary:
			c = boundary
		}
	}
	return c
}

// NewPolygonIndex indexes polys; Locate answers with positions in this slice.
// The polygons should have passed ValidateMultiPolygon.
func NewPolygonIndex(polys []orb.MultiPolygon) *PolygonIndex {
	ix := &PolygonIndex{count: len(polys)}
	first := true
	for owner, mp := range polys {
		for _, poly := range mp {
			if len(poly) == 0 {
				continue
			}
			pp := polygonPart{owner: owner, outer: newBandedRing(poly[0])}
			for _, h := range poly[1:] {
				pp.holes = append(pp.holes, newBandedRing(h))
			}
			b := poly[0].Bound()
			ix.tree.Insert(b.Min, b.Max, int32(len(ix.parts)))
			ix.parts = append(ix.parts, pp)
			if first {
				ix.bound, first = b, false
			} else {
				ix.bound = ix.bound.Union(b)
			}
		}
	}
	ix.grid = newCellGrid(ix, polys)
	return ix
}

// Locate returns the index of the polygon covering p, by the boundary rule
// above, or false when no polygon covers it.
func (ix *PolygonIndex) Locate(p orb.Point) (int, bool) {
	var best int
	if ix.grid.blocks != nil {
		x, y, ok := ix.grid.cellXY(p)
		if !ok { // outside the polygons' bounds
			return -1, false
		}
		v := ix.grid.value(x, y)
		if v < cellNone {
			return int(v), true
		}
		if v == cellNone { // outside every polygon
			return -1, false
		}
		best = ix.locateMixed(v&^cellMixed, x, y, p)
	} else {
		best = ix.locateEdges(p)
	}
	return best, best >= 0
}

// LocateAll sets out[i] to the polygon covering pts[i] by Locate's rule,
// or -1: Locate for a batch (an import geocoding a city's history), with
// the grid read inline and no call per point. out must be at least as long
// as pts.
func (ix *PolygonIndex) LocateAll(pts []orb.Point, out []int32) {
	out = out[:len(pts)]
	g := &ix.grid
	if g.blocks == nil {
		for i, p := range pts {
			out[i] = int32(ix.locateEdges(p))
		}
		return
	}
	for i, p := range pts {
		x, y, ok := g.cellXY(p)
		if !ok { // outside the polygons' bounds
			out[i] = -1
			continue
		}
		switch v := g.value(x, y); {
		case v < cellNone:
			out[i] = int32(v)
		case v == cellNone:
			out[i] = -1
		default:
			out[i] = int32(ix.locateMixed(v&^cellMixed, x, y, p))
		}
	}
}

// locateEdges is Locate by the R-tree and the edge test alone, or -1.
func (ix *PolygonIndex) locateEdges(p orb.Point) int { return ix.lowestCovering(p, nil) }

// lowestCovering is locateEdges among the parts not in skip.
func (ix *PolygonIndex) lowestCovering(p orb.Point, skip []int32) int {
	best := -1
	ix.tree.Search(p, p, func(_, _ [2]float64, part int32) bool {
		if slices.Contains(skip, part) {
			return true
		}
		pp := &ix.parts[part]
		if best >= 0 && pp.owner >= best {
			return true
		}
		if pp.classify(p) != outside {
			best = pp.owner
		}
		return true
	})
	return best
}

// GridStats returns the number of cells of the fast-path grid, how many of
// them a border crosses (where lookups test edges), and the memory the
// grid takes in bytes.
func (ix *PolygonIndex) GridStats() (cells, mixed, bytes int) {
	return ix.grid.stats()
}

// Len returns the number of polygons indexed.
func (ix *PolygonIndex) Len() int { return ix.count }

// Bound returns the bounding box of every polygon indexed.
func (ix *PolygonIndex) Bound() orb.Bound { return ix.bound }

// Covers reports whether mp covers p (boundary included) by testing every
// edge. It is the slow reference PolygonIndex is checked against, and handy
// for one-off tests.
func Covers(mp orb.MultiPolygon, p orb.Point) bool {
	for _, poly := range mp {
		if len(poly) == 0 {
			continue
		}
		c := ringClass(poly[0], p)
		if c == outside {
			continue
		}
		for _, h := range poly[1:] {
			if ringClass(h, p) == inside {
				c = outside
				break
			}
		}
		if c != outside {
			return true
		}
	}
	return false
}
