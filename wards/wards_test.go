package wards

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
)

var zeroTime time.Time

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func box(minX, minY, maxX, maxY float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{minX, minY}, {maxX, minY}, {maxX, maxY}, {minX, maxY}, {minX, minY}}}}
}

func ward(id string, mp orb.MultiPolygon) Ward {
	return Ward{ID: id, Name: i18n.T("Ward "+id, "Quartier "+id), Geometry: mp}
}

func mustGeneration(t testing.TB, ws []Ward, from, to time.Time) *Generation {
	t.Helper()
	g, err := NewGeneration(ws, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestRedistricting(t *testing.T) {
	// Until 2022-11-15 the border is at x = 1; from then on at x = 0.5, so
	// (0.75, 0.5) moves from West to East.
	old := mustGeneration(t, []Ward{ward("W", box(0, 0, 1, 1)), ward("E", box(1, 0, 2, 1))},
		date("2010-01-01"), date("2022-11-15"))
	cur := mustGeneration(t, []Ward{ward("W", box(0, 0, 0.5, 1)), ward("E", box(0.5, 0, 2, 1))},
		date("2022-11-15"), zeroTime)
	s, err := NewSet(cur, old) // any order
	if err != nil {
		t.Fatal(err)
	}
	if gs := s.Generations(); len(gs) != 2 || gs[0] != old || gs[1] != cur {
		t.Fatalf("Generations() not sorted by ValidFrom")
	}
	p := orb.Point{0.75, 0.5}
	for _, c := range []struct {
		at   time.Time
		want string // "" = not found
	}{
		{date("2009-12-31"), ""}, // before any generation
		{date("2010-01-01"), "W"},
		{date("2020-06-01"), "W"},
		{date("2022-11-15").Add(-time.Nanosecond), "W"},
		{date("2022-11-15"), "E"}, // ValidTo is exclusive, ValidFrom inclusive
		{date("2030-01-01"), "E"},
		// The same instant in another zone is the same answer.
		{date("2022-11-15").In(time.FixedZone("EST", -5*3600)), "E"},
	} {
		got := ""
		if w, ok := s.Locate(p, c.at); ok {
			got = w.ID
		}
		if got != c.want {
			t.Errorf("Locate(%v, %s) = %q, want %q", p, c.at, got, c.want)
		}
	}
	out := make([]int32, 2)
	if g := s.LocateAll([]orb.Point{p, {5, 5}}, date("2020-06-01"), out); g != old || g.Wards[out[0]].ID != "W" || out[1] != -1 {
		t.Errorf("LocateAll in 2020: %v", out)
	}
	if g := s.LocateAll([]orb.Point{p, {5, 5}}, date("2009-12-31"), out); g != nil || out[0] != -1 || out[1] != -1 {
		t.Errorf("LocateAll before any generation: %v", out)
	}
	if _, ok := s.Locate(orb.Point{5, 5}, date("2020-01-01")); ok {
		t.Error("a point outside every ward was located")
	}
	if g := s.Current(date("2009-01-01")); g != nil {
		t.Errorf("Current before any generation = %v", g.period())
	}
	if g := s.Current(date("2015-01-01")); g != old {
		t.Errorf("Current(2015) is not the old generation")
	}
	w, ok := cur.Ward("E")
	if !ok || w.Name.Fr != "Quartier E" {
		t.Errorf("Ward(E) = %+v, %v", w, ok)
	}
	if _, ok := cur.Ward("X"); ok {
		t.Error("Ward(X) found")
	}
	if b := cur.Bound(); b != (orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{2, 1}}) {
		t.Errorf("Bound = %v", b)
	}
}

func TestSetGapsAndUnbounded(t *testing.T) {
	ws := []Ward{ward("A", box(0, 0, 1, 1))}
	first := mustGeneration(t, ws, zeroTime, date("2018-01-01"))
	second := mustGeneration(t, ws, date("2019-01-01"), zeroTime)
	s, err := NewSet(second, first)
	if err != nil {
		t.Fatal(err)
	}
	p := orb.Point{0.5, 0.5}
	for at, want := range map[string]bool{"1900-01-01": true, "2017-12-31": true, "2018-06-01": false, "2019-01-01": true} {
		if _, ok := s.Locate(p, date(at)); ok != want {
			t.Errorf("Locate at %s: %v, want %v", at, ok, want)
		}
	}
}

func TestNewSetRefusesOverlap(t *testing.T) {
	ws := []Ward{ward("A", box(0, 0, 1, 1))}
	g := func(from, to string) *Generation {
		var f, u time.Time
		if from != "" {
			f = date(from)
		}
		if to != "" {
			u = date(to)
		}
		return mustGeneration(t, ws, f, u)
	}
	cases := []struct {
		name string
		gens []*Generation
		want string
	}{
		{"overlapping", []*Generation{g("2010-01-01", "2022-11-15"), g("2022-01-01", "")},
			"wards: generations [2010-01-01T00:00:00Z, 2022-11-15T00:00:00Z) and [2022-01-01T00:00:00Z, unbounded) overlap: only one set of wards may be in force at a time (end the older one where the newer one starts)"},
		{"both unbounded", []*Generation{g("", ""), g("", "")},
			"wards: generations [unbounded, unbounded) and [unbounded, unbounded) overlap: only one set of wards may be in force at a time (end the older one where the newer one starts)"},
		{"open end", []*Generation{g("2022-01-01", ""), g("2010-01-01", "")},
			"wards: generations [2010-01-01T00:00:00Z, unbounded) and [2022-01-01T00:00:00Z, unbounded) overlap: only one set of wards may be in force at a time (end the older one where the newer one starts)"},
		{"same start", []*Generation{g("2010-01-01", "2011-01-01"), g("2010-01-01", "2012-01-01")},
			"wards: generations [2010-01-01T00:00:00Z, 2011-01-01T00:00:00Z) and [2010-01-01T00:00:00Z, 2012-01-01T00:00:00Z) overlap: only one set of wards may be in force at a time (end the older one where the newer one starts)"},
		{"empty", nil, "wards: a set needs at least one generation"},
		{"nil", []*Generation{nil}, "wards: generation 0 was not built with NewGeneration"},
	}
	for _, c := range cases {
		s, err := NewSet(c.gens...)
		if err == nil {
			t.Errorf("%s: NewSet accepted %d generations", c.name, len(s.gens))
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%s:\n got  %v\n want %s", c.name, err, c.want)
		}
	}
	// Back to back is fine.
	if _, err := NewSet(g("2010-01-01", "2022-11-15"), g("2022-11-15", "")); err != nil {
		t.Error(err)
	}
}

func TestNewGenerationErrors(t *testing.T) {
	bowtie := orb.MultiPolygon{{{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}}}
	cases := []struct {
		name     string
		ws       []Ward
		from, to time.Time
		want     string
	}{
		{"no wards", nil, zeroTime, zeroTime, "wards: a generation needs at least one ward"},
		{"end before start", []Ward{ward("A", box(0, 0, 1, 1))}, date("2020-01-01"), date("2020-01-01"),
			"wards: generation valid from 2020-01-01T00:00:00Z to 2020-01-01T00:00:00Z: the end must be after the start"},
		{"empty ID", []Ward{ward("", box(0, 0, 1, 1))}, zeroTime, zeroTime, "wards: ward 0 has an empty ID"},
		{"duplicate ID", []Ward{ward("A", box(0, 0, 1, 1)), ward("A", box(1, 0, 2, 1))}, zeroTime, zeroTime,
			`wards: ward 1 has the same ID "A" as ward 0`},
		{"bad geometry", []Ward{ward("A", bowtie)}, zeroTime, zeroTime,
			`wards: invalid geometry in ward 0 (ID "A"): ring intersects itself near 1.0000000,0.0000000`},
		{"no geometry", []Ward{ward("A", nil)}, zeroTime, zeroTime,
			`wards: invalid geometry in ward 0 (ID "A"): multipolygon has no polygons`},
	}
	for _, c := range cases {
		_, err := NewGeneration(c.ws, c.from, c.to)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s:\n got  %v\n want %s", c.name, err, c.want)
		}
	}
}

func TestNewGenerationCopiesSlice(t *testing.T) {
	ws := []Ward{ward("A", box(0, 0, 1, 1))}
	g := mustGeneration(t, ws, zeroTime, zeroTime)
	ws[0].ID = "changed"
	if w, _ := g.Locate(orb.Point{0.5, 0.5}); w.ID != "A" {
		t.Errorf("generation saw the caller's change: %q", w.ID)
	}
}

func TestOutsideError(t *testing.T) {
	err := OutsideError()
	if err.Kind != i18n.Outside || i18n.KindOf(err) != i18n.Outside {
		t.Errorf("kind = %q", err.Kind)
	}
	if m := i18n.MessageOf(err); m.En != "The location is outside the municipality's boundaries." ||
		m.Fr != "L'emplacement est situé à l'extérieur des limites de la municipalité." {
		t.Errorf("message = %+v", m)
	}
	// Each call is a fresh value: changing one does not change the next.
	err.Message.En = "changed"
	if OutsideError().Message.En == "changed" {
		t.Error("OutsideError shares state between calls")
	}
	var target *i18n.Error
	if !errors.As(fmt.Errorf("submit: %w", OutsideError()), &target) {
		t.Error("errors.As fails through wrapping")
	}
}

// jaggedCity partitions a 0.2° square near Ottawa into n vertical strips
// whose shared borders are jagged polylines of jag vertices, used
// bit-for-bit by both neighbours as real ward files do. Strip 1 has a hole
// that is an island part of the last strip; strip 0 has a lake that belongs
// to no ward.
func jaggedCity(n, jag int, rng *rand.Rand) []Ward {
	const x0, y0, size = -75.8, 45.3, 0.2
	w := size / float64(n)
	borders := make([][]orb.Point, n+1)
	for i := range borders {
		line := make([]orb.Point, jag)
		for k := range line {
			dx := 0.0
			if i > 0 && i < n && k > 0 && k < jag-1 {
				dx = (rng.Float64() - 0.5) * w * 0.6
			}
			line[k] = orb.Point{x0 + float64(i)*w + dx, y0 + size*float64(k)/float64(jag-1)}
		}
		borders[i] = line
	}
	ws := make([]Ward, n)
	for i := range ws {
		var ring orb.Ring
		ring = append(ring, borders[i+1]...)
		for k := len(borders[i]) - 1; k >= 0; k-- {
			ring = append(ring, borders[i][k])
		}
		ring = append(ring, ring[0])
		ws[i] = ward(fmt.Sprint(i+1), orb.MultiPolygon{{ring}})
	}
	sq := func(cx, cy, h float64, ccw bool) orb.Ring {
		r := orb.Ring{{cx - h, cy - h}, {cx + h, cy - h}, {cx + h, cy + h}, {cx - h, cy + h}, {cx - h, cy - h}}
		if !ccw {
			r.Reverse()
		}
		return r
	}
	h := w * 0.05
	cx := x0 + 1.5*w
	ws[1].Geometry[0] = append(ws[1].Geometry[0], sq(cx, y0+0.09, h, false))
	ws[n-1].Geometry = append(ws[n-1].Geometry, orb.Polygon{sq(cx, y0+0.09, h, true)})
	ws[0].Geometry[0] = append(ws[0].Geometry[0], sq(x0+0.5*w, y0+0.15, h, false))
	return ws
}

// firstCovering is the reference answer: the first ward in order whose
// geometry covers p, by geo.Covers' edge-by-edge test.
func firstCovering(ws []Ward, p orb.Point) (string, bool) {
	for _, w := range ws {
		if geo.Covers(w.Geometry, p) {
			return w.ID, true
		}
	}
	return "", false
}

func checkAgainstBruteForce(t *testing.T, g *Generation, pts []orb.Point) {
	t.Helper()
	bad := 0
	batch := make([]int32, len(pts))
	g.LocateAll(pts, batch)
	for i, p := range pts {
		want, wantOK := firstCovering(g.Wards, p)
		got, ok := g.Locate(p)
		gotID, batchID := "", ""
		if ok {
			gotID = got.ID
		}
		if batch[i] >= 0 {
			batchID = g.Wards[batch[i]].ID
		}
		if ok != wantOK || gotID != want || batchID != want {
			if bad++; bad <= 10 {
				t.Errorf("Locate(%.9f, %.9f) = %q %v (LocateAll %q), brute force %q %v", p[0], p[1], gotID, ok, batchID, want, wantOK)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d points disagree", bad, len(pts))
	}
}

// randomPoints draws n points in b widened by 5% (so some fall outside),
// plus every vertex of the wards (which lie on shared borders) and points a
// hair off them.
func randomPoints(rng *rand.Rand, n int, b orb.Bound, ws []Ward) []orb.Point {
	dx, dy := (b.Max[0]-b.Min[0])*0.05, (b.Max[1]-b.Min[1])*0.05
	pts := make([]orb.Point, 0, n)
	for range n {
		pts = append(pts, orb.Point{
			b.Min[0] - dx + rng.Float64()*(b.Max[0]-b.Min[0]+2*dx),
			b.Min[1] - dy + rng.Float64()*(b.Max[1]-b.Min[1]+2*dy),
		})
	}
	for _, w := range ws {
		for _, poly := range w.Geometry {
			for _, r := range poly {
				for _, p := range r {
					pts = append(pts, p, orb.Point{p[0] + 1e-9, p[1]}, orb.Point{p[0], p[1] - 1e-9})
				}
			}
		}
	}
	return pts
}

func TestLocateMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for _, tc := range []struct{ n, jag int }{{2, 5}, {5, 40}, {12, 300}} {
		t.Run(fmt.Sprintf("%d_wards_%d_vertices", tc.n, tc.jag), func(t *testing.T) {
			ws := jaggedCity(tc.n, tc.jag, rng)
			g := mustGeneration(t, ws, zeroTime, zeroTime)
			checkAgainstBruteForce(t, g, randomPoints(rng, n, g.Bound(), ws))
			// The island, the hole it fills and the lake.
			if w, _ := g.Locate(orb.Point{-75.8 + 1.5*0.2/float64(tc.n), 45.39}); w == nil || w.ID != fmt.Sprint(tc.n) {
				t.Errorf("island point in %v, want ward %d", w, tc.n)
			}
			if w, ok := g.Locate(orb.Point{-75.8 + 0.5*0.2/float64(tc.n), 45.45}); ok {
				t.Errorf("lake point in ward %s", w.ID)
			}
		})
	}
}

func TestLocateBruteForceReversedOrder(t *testing.T) {
	// Reversing the file order moves border points to the other neighbour
	// and nothing else.
	rng := rand.New(rand.NewPCG(3, 4))
	ws := jaggedCity(6, 50, rng)
	rev := make([]Ward, len(ws))
	for i, w := range ws {
		rev[len(ws)-1-i] = w
	}
	g := mustGeneration(t, rev, zeroTime, zeroTime)
	checkAgainstBruteForce(t, g, randomPoints(rng, 5000, g.Bound(), rev))
	gf := mustGeneration(t, ws, zeroTime, zeroTime)
	v := ws[1].Geometry[0][0][3] // a vertex on the border of wards 2 and 3
	a, _ := gf.Locate(v)
	b, _ := g.Locate(v)
	if a.ID != "2" || b.ID != "3" {
		t.Errorf("border vertex: file order %s, reversed %s; want 2 and 3", a.ID, b.ID)
	}
}

func TestCurrentMatchesLinearScan(t *testing.T) {
	// Generations with gaps, back-to-back periods and unbounded ends;
	// Current must pick the one in force, found by checking each.
	ws := []Ward{ward("A", box(0, 0, 1, 1))}
	base := date("2000-01-01")
	day := 24 * time.Hour
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 50 {
		var gens []*Generation
		at := base
		n := 1 + rng.IntN(5)
		for i := range n {
			from := at
			if i == 0 && rng.IntN(2) == 0 {
				from = zeroTime
			}
			to := at.Add(time.Duration(1+rng.IntN(1000)) * day)
			if i == n-1 && rng.IntN(2) == 0 {
				to = zeroTime
			}
			gens = append(gens, mustGeneration(t, ws, from, to))
			at = to.Add(time.Duration(rng.IntN(3)) * day) // a gap, or none
		}
		rng.Shuffle(len(gens), func(i, j int) { gens[i], gens[j] = gens[j], gens[i] })
		s, err := NewSet(gens...)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		for range 200 {
			q := base.Add(time.Duration(rng.Int64N(int64(6000*day))) - 100*day)
			var want *Generation
			for _, g := range gens {
				if g.InForce(q) {
					want = g
				}
			}
			if got := s.Current(q); got != want {
				t.Fatalf("trial %d: Current(%s) = %v, want %v", trial, q, got, want)
			}
		}
	}
}

// TestSetOneGenerationAnyTime checks the shortcut of a set of one
// unbounded generation: it is in force at every time, the zero time and
// the far future included, and answers as the generation does.
func TestSetOneGenerationAnyTime(t *testing.T) {
	ws := []Ward{ward("A", box(0, 0, 1, 1)), ward("B", box(1, 0, 2, 1))}
	g := mustGeneration(t, ws, zeroTime, zeroTime)
	s, err := NewSet(g)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{zeroTime, date("1900-01-01"), date("2026-12-06"), date("9999-12-31")} {
		if s.Current(at) != g {
			t.Errorf("Current(%v) is not the one generation", at)
		}
		for _, c := range []struct {
			p    orb.Point
			want string
		}{{orb.Point{0.5, 0.5}, "A"}, {orb.Point{1.5, 0.5}, "B"}, {orb.Point{1, 0.5}, "A"}, {orb.Point{3, 3}, ""}} {
			w, ok := s.Locate(c.p, at)
			got := ""
			if ok {
				got = w.ID
			}
			if got != c.want {
				t.Errorf("Locate(%v, %v) = %q, want %q", c.p, at, got, c.want)
			}
		}
	}
	// A bounded single generation keeps its bounds.
	bounded, err := NewSet(mustGeneration(t, ws, date("2020-01-01"), zeroTime))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := bounded.Locate(orb.Point{0.5, 0.5}, date("2019-12-31")); ok {
		t.Error("a generation starting in 2020 answered for 2019")
	}
}
