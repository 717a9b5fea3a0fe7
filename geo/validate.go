package geo

import (
	"cmp"
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// ValidatePoint refuses coordinates that cannot be a place on Earth: NaN,
// infinities, and values out of range. When the values only make sense the
// other way round it says so, because a swapped lat/lon is the most common
// mistake integrators make.
func ValidatePoint(p orb.Point) error {
	lon, lat := p[0], p[1]
	switch {
	case math.IsNaN(lon) || math.IsInf(lon, 0):
		return invalid("longitude is not a finite number")
	case math.IsNaN(lat) || math.IsInf(lat, 0):
		return invalid("latitude is not a finite number")
	case math.Abs(lat) > 90 && math.Abs(lat) <= 180 && math.Abs(lon) <= 90:
		return invalid("latitude %g is out of range [-90, 90]; longitude and latitude look swapped", lat)
	case math.Abs(lon) > 180:
		return invalid("longitude %g is out of range [-180, 180]", lon)
	case math.Abs(lat) > 90:
		return invalid("latitude %g is out of range [-90, 90]", lat)
	}
	return nil
}

// LooksSwapped reports whether p lies outside area while p with longitude and
// latitude exchanged lies inside it: a strong hint for a clearer message.
func LooksSwapped(p orb.Point, area orb.Bound) bool {
	return !area.Contains(p) && area.Contains(orb.Point{p[1], p[0]})
}

// ValidateRing checks one ring: finite coordinates in range, at least four
// points, closed, non-zero area and no self-intersection.
func ValidateRing(r orb.Ring) error {
	if len(r) < 4 {
		return invalid("ring has %d points; a closed ring needs at least 4", len(r))
	}
	for _, p := range r {
		if err := ValidatePoint(p); err != nil {
			return err
		}
	}
	if r[0] != r[len(r)-1] {
		return invalid("ring is not closed: first point %v differs from last point %v", r[0], r[len(r)-1])
	}
	for i := 1; i+1 < len(r); i++ {
		a, b, c := r[i-1], r[i], r[i+1]
		if a == b {
			return invalid("ring repeats the point %.7f,%.7f", b[0], b[1])
		}
		if orient(a, b, c) == 0 && (b[0]-a[0])*(c[0]-b[0])+(b[1]-a[1])*(c[1]-b[1]) < 0 {
			return invalid("ring doubles back on itself at %.7f,%.7f", b[0], b[1])
		}
	}
	if p, ok := firstSelfIntersection(r); ok {
		return invalid("ring intersects itself near %.7f,%.7f", p[0], p[1])
	}
	if ringArea2(r) == 0 {
		return invalid("ring has zero area (all points on one line)")
	}
	return nil
}

// ValidatePolygon checks every ring of a polygon, and that each hole starts
// inside the outer ring.
func ValidatePolygon(p orb.Polygon) error {
	if len(p) == 0 {
		return invalid("polygon has no rings")
	}
	for i, r := range p {
		if err := ValidateRing(r); err != nil {
			if i > 0 {
				err.(*InvalidError).Reason = "hole: " + err.(*InvalidError).Reason
			}
			return err
		}
	}
	for _, hole := range p[1:] {
		if ringClass(p[0], hole[0]) == outside {
			return invalid("hole at %.7f,%.7f lies outside the outer ring", hole[0][0], hole[0][1])
		}
	}
	return nil
}

// ValidateMultiPolygon checks every polygon of a multipolygon.
func ValidateMultiPolygon(mp orb.MultiPolygon) error {
	if len(mp) == 0 {
		return invalid("multipolygon has no polygons")
	}
	for _, p := range mp {
		if err := ValidatePolygon(p); err != nil {
			return err
		}
	}
	return nil
}

// ringArea2 is twice the signed area (positive when counter-clockwise).
func ringArea2(r orb.Ring) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a
}

// firstSelfIntersection finds two non-adjacent edges of a closed ring that
// touch or cross. A sweep over edges sorted by their left end keeps it near
// O(n log n) for real boundaries with thousands of vertices.
func firstSelfIntersection(r orb.Ring) (orb.Point, bool) {
	n := len(r) - 1 // edges
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	minX := func(i int) float64 { return math.Min(r[i][0], r[i+1][0]) }
	maxX := func(i int) float64 { return math.Max(r[i][0], r[i+1][0]) }
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(minX(a), minX(b)) })
	var active []int
	for _, i := range order {
		x := minX(i)
		active = slices.DeleteFunc(active, func(j int) bool { return maxX(j) < x })
		for _, j := range active {
			if adjacent(i, j, n) {
				continue
			}
			if segmentsTouch(r[i], r[i+1], r[j], r[j+1]) {
				return r[i], true
			}
		}
		active = append(active, i)
	}
	return orb.Point{}, false
}

func adjacent(i, j, n int) bool {
	d := i - j
	if d < 0 {
		d = -d
	}
	return d <= 1 || d == n-1
}

// orient is the sign of the turn a→b→c: >0 left, <0 right, 0 collinear.
func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

func onSegment(a, b, p orb.Point) bool {
	return math.Min(a[0], b[0]) <= p[0] && p[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= p[1] && p[1] <= math.Max(a[1], b[1])
}

// segmentsTouch reports whether segments ab and cd share at least one point.
func segmentsTouch(a, b, c, d orb.Point) bool {
	o1, o2 := orient(a, b, c), orient(a, b, d)
	o3, o4 := orient(c, d, a), orient(c, d, b)
	if ((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0)) {
		return true
	}
	return (o1 == 0 && onSegment(a, b, c)) || (o2 == 0 && onSegment(a, b, d)) ||
		(o3 == 0 && onSegment(c, d, a)) || (o4 == 0 && onSegment(c, d, b))
}
