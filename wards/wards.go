package wards

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
)

// Ward is one ward of a municipality.
type Ward struct {
	ID string
	// Name is the ward's name in English and French; both hold the same
	// text when the source has only one.
	Name     i18n.Text
	Geometry orb.MultiPolygon // WGS84 lon/lat
	// Props holds the source's other properties as text (numbers without a
	// trailing ".0", objects and arrays as compact JSON; nulls left out).
	Props map[string]string
}

// OutsideError is the error for a location in no ward: kind i18n.Outside,
// with a message fit to show the resident. It is a function rather than a
// variable so no caller can change it for everyone.
func OutsideError() *i18n.Error {
	return &i18n.Error{
		Kind: i18n.Outside,
		Message: i18n.T(
			"The location is outside the municipality's boundaries.",
			"L'emplacement est situé à l'extérieur des limites de la municipalité.",
		),
	}
}

// Generation is one set of wards in force from ValidFrom (inclusive) to
// ValidTo (exclusive); a zero time leaves that end unbounded. Wards is in
// the order given to NewGeneration, which decides border points (see the
// package doc). A Generation must not be modified once built.
type Generation struct {
	ValidFrom, ValidTo time.Time
	Wards              []Ward

	index *geo.PolygonIndex
	byID  map[string]int
}

// NewGeneration checks wards (at least one, non-empty unique IDs, valid
// geometry) and indexes them for Locate. The slice is copied; the
// geometries are shared and must not be changed afterwards.
func NewGeneration(wards []Ward, from, to time.Time) (*Generation, error) {
	if len(wards) == 0 {
		return nil, errors.New("wards: a generation needs at least one ward")
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return nil, fmt.Errorf("wards: generation valid from %s to %s: the end must be after the start",
			fmtTime(from), fmtTime(to))
	}
	g := &Generation{
		ValidFrom: from,
		ValidTo:   to,
		Wards:     slices.Clone(wards),
		byID:      make(map[string]int, len(wards)),
	}
	polys := make([]orb.MultiPolygon, len(wards))
	for i, w := range g.Wards {
		if w.ID == "" {
			return nil, fmt.Errorf("wards: ward %d has an empty ID", i)
		}
		if j, dup := g.byID[w.ID]; dup {
			return nil, fmt.Errorf("wards: ward %d has the same ID %q as ward %d", i, w.ID, j)
		}
		g.byID[w.ID] = i
		// The index trusts its input (rings closed, no self-intersection);
		// wards may come from elsewhere than LoadGeoJSON, so check here too.
		if err := geo.ValidateMultiPolygon(w.Geometry); err != nil {
			return nil, fmt.Errorf("wards: %w", geo.Named(err, fmt.Sprintf("ward %d (ID %q)", i, w.ID)))
		}
		polys[i] = w.Geometry
	}
	g.index = geo.NewPolygonIndex(polys)
	return g, nil
}

// Locate returns the ward covering p, by the boundary rule in the package
// doc, or false when p is in no ward (outside the municipality). p should
// have passed geo.ValidatePoint. The returned Ward must not be modified.
func (g *Generation) Locate(p orb.Point) (*Ward, bool) {
	if i, ok := g.index.Locate(p); ok { // kept small enough to inline
		return &g.Wards[i], true
	}
	return nil, false
}

// LocateAll sets out[i] to the position in g.Wards of the ward covering
// pts[i] by Locate's rule, or -1 when it is in no ward: Locate for a batch
// (an import geocoding a city's history), with no call per point. out must
// be at least as long as pts.
func (g *Generation) LocateAll(pts []orb.Point, out []int32) { g.index.LocateAll(pts, out) }

// Ward returns the ward with the given ID.
func (g *Generation) Ward(id string) (*Ward, bool) {
	i, ok := g.byID[id]
	if !ok {
		return nil, false
	}
	return &g.Wards[i], true
}

// GridStats returns the size of the lookup's fast-path grid: cells, cells
// a border crosses, and bytes (see geo.PolygonIndex.GridStats).
func (g *Generation) GridStats() (cells, mixed, bytes int) { return g.index.GridStats() }

// Bound returns the bounding box of all the wards.
func (g *Generation) Bound() orb.Bound { return g.index.Bound() }

// InForce reports whether the generation is in force at t.
func (g *Generation) InForce(t time.Time) bool {
	return (g.ValidFrom.IsZero() || !t.Before(g.ValidFrom)) && (g.ValidTo.IsZero() || t.Before(g.ValidTo))
}

func (g *Generation) period() string {
	return fmt.Sprintf("[%s, %s)", fmtTime(g.ValidFrom), fmtTime(g.ValidTo))
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "unbounded"
	}
	return t.Format(time.RFC3339)
}

// Set is the ward generations of one municipality, sorted by ValidFrom,
// with no two in force at the same time. Gaps are allowed: no ward is in
// force then. A Set is immutable.
type Set struct {
	gens []*Generation
	// always is the one generation of a set that has one, in force at
	// every time: most municipalities. Locate then skips the comparisons
	// of times a point would otherwise pay for.
	always *Generation
}

// NewSet sorts gens by ValidFrom and refuses nil generations and
// overlapping validity periods.
func NewSet(gens ...*Generation) (*Set, error) {
	if len(gens) == 0 {
		return nil, errors.New("wards: a set needs at least one generation")
	}
	for i, g := range gens {
		if g == nil || g.index == nil {
			return nil, fmt.Errorf("wards: generation %d was not built with NewGeneration", i)
		}
	}
	s := &Set{gens: slices.Clone(gens)}
	// A zero ValidFrom is "since always", so it sorts first.
	slices.SortStableFunc(s.gens, func(a, b *Generation) int {
		switch {
		case a.ValidFrom.IsZero() && b.ValidFrom.IsZero():
			return 0
		case a.ValidFrom.IsZero():
			return -1
		case b.ValidFrom.IsZero():
			return 1
		}
		return a.ValidFrom.Compare(b.ValidFrom)
	})
	for i := 1; i < len(s.gens); i++ {
		a, b := s.gens[i-1], s.gens[i]
		// Sorted by start, so only neighbours can overlap: b starts no
		// earlier than a, and they overlap unless a ends by b's start.
		if a.ValidTo.IsZero() || b.ValidFrom.IsZero() || a.ValidTo.After(b.ValidFrom) {
			return nil, fmt.Errorf("wards: generations %s and %s overlap: only one set of wards may be in force at a time (end the older one where the newer one starts)",
				a.period(), b.period())
		}
	}
	if g := s.gens[0]; len(s.gens) == 1 && g.ValidFrom.IsZero() && g.ValidTo.IsZero() {
		s.always = g
	}
	return s, nil
}

// Current returns the generation in force at t, or nil when none is.
func (s *Set) Current(t time.Time) *Generation {
	if s.always != nil {
		return s.always
	}
	// The last generation starting by t is the only candidate. Scanning
	// from the newest beats a binary search for the handful of generations
	// a city has, and most lookups are for recent dates.
	for i := len(s.gens) - 1; i >= 0; i-- {
		g := s.gens[i]
		if g.ValidFrom.IsZero() || !g.ValidFrom.After(t) {
			if g.ValidTo.IsZero() || t.Before(g.ValidTo) {
				return g
			}
			return nil
		}
	}
	return nil
}

// Locate returns the ward covering p in the generation in force at t (a
// request's own date, so it keeps its ward across a redistricting). False
// means p is outside the municipality, or no generation is in force at t.
func (s *Set) Locate(p orb.Point, at time.Time) (*Ward, bool) {
	if g := s.always; g != nil { // kept small enough to inline
		return g.Locate(p)
	}
	return s.locateAt(p, at)
}

func (s *Set) locateAt(p orb.Point, at time.Time) (*Ward, bool) {
	if g := s.Current(at); g != nil {
		return g.Locate(p)
	}
	return nil, false
}

// LocateAll is Generation.LocateAll in the generation in force at t, which
// it returns; when none is, it returns nil and sets every out[i] to -1.
func (s *Set) LocateAll(pts []orb.Point, at time.Time, out []int32) *Generation {
	g := s.Current(at)
	if g == nil {
		for i := range pts {
			out[i] = -1
		}
		return nil
	}
	g.LocateAll(pts, out)
	return g
}

// Generations returns the generations, oldest first.
func (s *Set) Generations() []*Generation { return slices.Clone(s.gens) }
