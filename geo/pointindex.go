package geo

import (
	"cmp"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// PointIndex finds the points nearest to a location, in metres, such as the
// streetlight a resident is reporting. Values of type T identify the points
// (an asset's position in a slice, say); equal distances are broken by the
// smaller value so answers never depend on insertion order.
//
// The zero value is an empty index. Copy is O(1) (copy-on-write), so a writer
// can copy, change and publish a new index while readers keep using the old
// one without locks. An index must not be changed while another goroutine
// reads it.
type PointIndex[T cmp.Ordered] struct {
	tree rtree.RTreeG[T]
}

// Insert adds v at p.
func (ix *PointIndex[T]) Insert(p orb.Point, v T) { ix.tree.Insert(p, p, v) }

// Delete removes v at p; p must be where v was inserted.
func (ix *PointIndex[T]) Delete(p orb.Point, v T) { ix.tree.Delete(p, p, v) }

// Len returns the number of points indexed.
func (ix *PointIndex[T]) Len() int { return ix.tree.Len() }

// Copy returns an independent index sharing storage until either changes.
func (ix *PointIndex[T]) Copy() *PointIndex[T] {
	return &PointIndex[T]{tree: *ix.tree.Copy()}
}

// Nearest returns the nearest value within radius metres of p for which keep
// returns true (keep may be nil), with its distance in metres.
func (ix *PointIndex[T]) Nearest(p orb.Point, radius float64, keep func(T) bool) (v T, dist float64, ok bool) {
	// A box search over the radius's window beats a best-first walk for the
	// small radii lookups use: no priority queue, and only the leaves the
	// window touches are visited.
	r := NewRuler(p[1])
	// A hair wider than the radius, so a point the distance formula puts at
	// exactly radius, give or take its rounding, is in the window.
	w := r.Buffer(p, radius*(1+1e-9)+1e-9)
	visit := func(at, _ [2]float64, c T) bool {
		d := r.Distance(p, at)
		if d > radius || (ok && (d > dist || (d == dist && c > v))) {
			return true
		}
		if keep != nil && !keep(c) {
			return true
		}
		v, dist, ok = c, d, true
		return true
	}
	ix.tree.Search(w.Min, w.Max, visit)
	// Distances wrap at the antimeridian; so must the window.
	if w.Min[0] < -180 {
		ix.tree.Search([2]float64{w.Min[0] + 360, w.Min[1]}, [2]float64{180, w.Max[1]}, visit)
	}
	if w.Max[0] > 180 {
		ix.tree.Search([2]float64{-180, w.Min[1]}, [2]float64{w.Max[0] - 360, w.Max[1]}, visit)
	}
	return v, dist, ok
}

// Within calls fn for every point within radius metres of p, nearest first,
// until fn returns false.
func (ix *PointIndex[T]) Within(p orb.Point, radius float64, fn func(v T, at orb.Point, dist float64) bool) {
	r := NewRuler(p[1])
	ix.tree.Nearby(
		func(min, max [2]float64, _ T, _ bool) float64 { return r.BoundDistance(p, min, max) },
		func(min, _ [2]float64, v T, d float64) bool {
			if d > radius {
				return false
			}
			return fn(v, min, d)
		},
	)
}

// Scan calls fn for every point in the index, in no particular order, until
// fn returns false.
func (ix *PointIndex[T]) Scan(fn func(v T, at orb.Point) bool) {
	ix.tree.Scan(func(min, _ [2]float64, v T) bool { return fn(v, min) })
}

// Search calls fn for every point inside b until fn returns false.
func (ix *PointIndex[T]) Search(b orb.Bound, fn func(v T, at orb.Point) bool) {
	ix.tree.Search(b.Min, b.Max, func(min, _ [2]float64, v T) bool { return fn(v, min) })
}
