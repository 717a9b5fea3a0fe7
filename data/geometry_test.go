package data

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// shapeConfigs are small cities with awkward shapes: a single ward, a strip,
// straight borders, and many wards (numbered names, several enclaves).
func shapeConfigs() map[string]CityConfig {
	small := func(x, y, vps int, size float64) CityConfig {
		return CityConfig{Seed: int64(x*100 + y*10 + vps), WardsX: x, WardsY: y, WardSizeM: size,
			VerticesPerSide: vps, StreetSpacingM: 150, Requests: 500, DuplicateShare: 0.3}
	}
	return map[string]CityConfig{
		"sample":   SampleConfig(),
		"1x1":      small(1, 1, 40, 2000),
		"2x1":      small(2, 1, 60, 1500),
		"straight": small(3, 2, 0, 1000),
		"tiny":     small(2, 2, 100, 200),
		"9x8":      small(9, 8, 20, 800),
	}
}

// reporter is the part of testing.T the geometry checks use, so
// TestChecksCatchDefects can run them on broken cities and count failures.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

func TestWardRings(t *testing.T) {
	for name, cfg := range shapeConfigs() {
		t.Run(name, func(t *testing.T) {
			c := mustGenerate(t, cfg)
			if got, want := len(c.Wards), cfg.WardsX*cfg.WardsY; got != want {
				t.Fatalf("%d wards, want %d", got, want)
			}
			checkRings(t, c.Wards)
			checkNoCrossings(t, c.Wards)
		})
	}
}

func checkRings(t reporter, wards []Ward) {
	t.Helper()
	for wi, w := range wards {
		if w.ID != fmt.Sprint(wi+1) || w.NameEn == "" || w.NameFr == "" {
			t.Errorf("ward %d: id %q names %q/%q", wi, w.ID, w.NameEn, w.NameFr)
		}
		for pi, p := range w.Geometry {
			for ri, r := range p {
				where := fmt.Sprintf("ward %s part %d ring %d", w.ID, pi, ri)
				checkRing(t, where, r, ri == 0)
			}
		}
	}
}

func checkRing(t reporter, where string, r orb.Ring, outer bool) {
	t.Helper()
	if len(r) < 4 {
		t.Errorf("%s: %d points, want at least 4", where, len(r))
		return
	}
	if r[0] != r[len(r)-1] {
		t.Errorf("%s: not closed", where)
	}
	want := orb.CCW
	if !outer {
		want = orb.CW
	}
	if got := r.Orientation(); got != want {
		t.Errorf("%s: orientation %v, want %v", where, got, want)
	}
	for i := 1; i < len(r); i++ {
		if r[i] == r[i-1] {
			t.Errorf("%s: duplicate consecutive point %d %v", where, i, r[i])
		}
		if !(math.Abs(r[i][0]) <= 180 && math.Abs(r[i][1]) <= 90) {
			t.Errorf("%s: point %d %v out of range", where, i, r[i])
		}
	}
}

type seg struct{ a, b orb.Point }

func (s seg) minX() float64 { return min(s.a[0], s.b[0]) }
func (s seg) maxX() float64 { return max(s.a[0], s.b[0]) }

// checkNoCrossings checks that no two edges of any rings of any wards cross
// or overlap; they may only meet at shared end points. A shared border
// appears once per direction, and each direction at most once, or two
// wards would overlap along it.
func checkNoCrossings(t reporter, wards []Ward) {
	t.Helper()
	directed := map[seg]int{}
	var segs []seg
	for _, w := range wards {
		for _, p := range w.Geometry {
			for _, r := range p {
				for i := 0; i+1 < len(r); i++ {
					s := seg{r[i], r[i+1]}
					directed[s]++
					if directed[s] > 1 {
						t.Errorf("ward %s: edge %v used twice in the same direction", w.ID, s)
					}
					if _, rev := directed[seg{s.b, s.a}]; rev {
						continue // already listed from the neighbour
					}
					segs = append(segs, s)
				}
			}
		}
	}
	// Sweep in x: only edges whose x ranges overlap are compared.
	slices.SortFunc(segs, func(p, q seg) int { return cmp.Compare(p.minX(), q.minX()) })
	bad := 0
	for i, s := range segs {
		for j := i + 1; j < len(segs) && segs[j].minX() <= s.maxX(); j++ {
			if segmentsConflict(s, segs[j]) {
				bad++
				if bad <= 5 {
					t.Errorf("edges cross: %v and %v", s, segs[j])
				}
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d crossing pairs in all", bad)
	}
}

func orientSign(a, b, c orb.Point) int {
	v := (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// segmentsConflict reports whether two edges intersect anywhere other than
// at a single shared end point.
func segmentsConflict(p, q seg) bool {
	if max(p.a[1], p.b[1]) < min(q.a[1], q.b[1]) || max(q.a[1], q.b[1]) < min(p.a[1], p.b[1]) {
		return false
	}
	d1, d2 := orientSign(p.a, p.b, q.a), orientSign(p.a, p.b, q.b)
	d3, d4 := orientSign(q.a, q.b, p.a), orientSign(q.a, q.b, p.b)
	shared := p.a == q.a || p.a == q.b || p.b == q.a || p.b == q.b
	if d1 == 0 && d2 == 0 { // collinear: conflict if they overlap in more than a point
		lo := func(s seg) orb.Point { return minPt(s.a, s.b) }
		hi := func(s seg) orb.Point { return maxPt(s.a, s.b) }
		return lessPt(maxPt(lo(p), lo(q)), minPt(hi(p), hi(q)))
	}
	if shared {
		return false // meeting at a vertex, not collinear: fine
	}
	if d1*d2 < 0 && d3*d4 < 0 {
		return true
	}
	// Touching: an end point lying on the other edge.
	on := func(s seg, x orb.Point) bool {
		return x[0] >= min(s.a[0], s.b[0]) && x[0] <= max(s.a[0], s.b[0]) &&
			x[1] >= min(s.a[1], s.b[1]) && x[1] <= max(s.a[1], s.b[1])
	}
	return (d1 == 0 && on(p, q.a)) || (d2 == 0 && on(p, q.b)) || (d3 == 0 && on(q, p.a)) || (d4 == 0 && on(q, p.b))
}

func lessPt(a, b orb.Point) bool { return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]) }
func minPt(a, b orb.Point) orb.Point {
	if lessPt(b, a) {
		return b
	}
	return a
}
func maxPt(a, b orb.Point) orb.Point {
	if lessPt(a, b) {
		return b
	}
	return a
}

// TestPartition checks the wards tile the city: no point is in two wards,
// and a point is in exactly one ward iff it is inside the city's outline.
// The outline is derived independently of the generator: it is the set of
// edges not matched by the reverse edge of another ring, so a border that
// is not bitwise shared shows up as a sliver of outline and fails here.
func TestPartition(t *testing.T) {
	for name, cfg := range shapeConfigs() {
		t.Run(name, func(t *testing.T) {
			checkPartition(t, mustGenerate(t, cfg))
		})
	}
}

func checkPartition(t reporter, c *City) {
	t.Helper()
	outline := outlineEdges(c.Wards)
	// The outline must be the city's edge, each lake and the offshore
	// island: a border that is not exactly shared leaves an extra loop of
	// unmatched edges around the sliver between its two versions.
	if got, want := components(outline), 2+len(lakeRings(c.Wards)); got != want {
		t.Errorf("outline has %d loops, want %d (edge, island and lakes)", got, want)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	b := c.Bound.Pad(0.02 * (c.Bound.Max[0] - c.Bound.Min[0]))
	var pts []orb.Point
	for range 2000 {
		pts = append(pts, orb.Point{
			b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]),
			b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1]),
		})
	}
	// Points a hair (≈1 mm) either side of border edges test the shared
	// borders where it matters.
	perWard := max(4, 1500/len(c.Wards))
	for _, w := range c.Wards {
		r := w.Geometry[0][0]
		for i := 0; i+1 < len(r); i += max(1, len(r)/perWard) {
			m := orb.Point{(r[i][0] + r[i+1][0]) / 2, (r[i][1] + r[i+1][1]) / 2}
			dx, dy := r[i+1][0]-r[i][0], r[i+1][1]-r[i][1]
			l := math.Hypot(dx, dy) / 1e-8
			pts = append(pts, orb.Point{m[0] - dy/l, m[1] + dx/l}, orb.Point{m[0] + dy/l, m[1] - dx/l})
		}
	}
	loc := newLocator(c.Wards)
	br := newBrute(c.Wards)
	var inside, bad int
	for _, p := range pts {
		in := br.containing(p)
		want := 0
		if evenOdd(outline, p) {
			want = 1
			inside++
		}
		if len(in) != want {
			bad++
			if bad <= 5 {
				t.Errorf("point %v in wards %v, inside outline %v", p, in, want == 1)
			}
			continue
		}
		// The generator's own index must agree with the brute force.
		got := loc.locate(p)
		if (want == 0 && got != -1) || (want == 1 && got != in[0]) {
			bad++
			if bad <= 5 {
				t.Errorf("locator puts %v in ward %d, brute force in %v", p, got, in)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d points misplaced", bad, len(pts))
	}
	if loc.slowQueries > 0 {
		t.Errorf("locator fell back to brute force %d times", loc.slowQueries)
	}
	if inside < len(pts)/2 {
		t.Errorf("only %d of %d points inside the city", inside, len(pts))
	}
}

// countingReporter records failures instead of failing the test.
type countingReporter struct{ n int }

func (*countingReporter) Helper()                 {}
func (r *countingReporter) Errorf(string, ...any) { r.n++ }

// TestChecksCatchDefects breaks a good city in the ways the checks exist
// to catch, and expects each check to notice: they must not pass vacuously.
func TestChecksCatchDefects(t *testing.T) {
	cases := map[string]struct {
		breakIt func(c *City)
		check   func(r reporter, c *City)
	}{
		"border moved in one ward only": {
			func(c *City) {
				r := c.Wards[0].Geometry[0][0]
				// Vertex 5 lies on the southern border, shared with the
				// ward below; push it 20 m north in this ward alone.
				r[5][1] += 20 / 111_320.0
			},
			checkPartition,
		},
		"ring reversed": {
			func(c *City) { slices.Reverse(c.Wards[1].Geometry[0][0]) },
			func(r reporter, c *City) { checkRings(r, c.Wards) },
		},
		"ring open": {
			func(c *City) { g := &c.Wards[2].Geometry[0][0]; *g = (*g)[:len(*g)-1] },
			func(r reporter, c *City) { checkRings(r, c.Wards) },
		},
		"self-intersection": {
			func(c *City) {
				r := c.Wards[3].Geometry[0][0]
				r[10], r[12] = r[12], r[10]
			},
			func(r reporter, c *City) { checkNoCrossings(r, c.Wards) },
		},
		"wards overlap": {
			func(c *City) { c.Wards[4].Geometry = append(c.Wards[4].Geometry, c.Wards[5].Geometry[0]) },
			checkPartition,
		},
	}
	for name, tc := range cases {
		c := mustGenerate(t, SampleConfig())
		var r countingReporter
		tc.check(&r, c)
		if r.n != 0 {
			t.Fatalf("%s: check fails on a good city", name)
		}
		tc.breakIt(c)
		tc.check(&r, c)
		if r.n == 0 {
			t.Errorf("%s: check did not notice", name)
		}
	}
}

func outlineEdges(wards []Ward) []seg {
	directed := map[seg]bool{}
	for _, w := range wards {
		for _, p := range w.Geometry {
			for _, r := range p {
				for i := 0; i+1 < len(r); i++ {
					directed[seg{r[i], r[i+1]}] = true
				}
			}
		}
	}
	var out []seg
	for s := range directed {
		if !directed[seg{s.b, s.a}] {
			out = append(out, s)
		}
	}
	return out
}

// components counts the connected pieces of a set of edges.
func components(edges []seg) int {
	parent := map[orb.Point]orb.Point{}
	var find func(p orb.Point) orb.Point
	find = func(p orb.Point) orb.Point {
		q, ok := parent[p]
		if !ok || q == p {
			parent[p] = p
			return p
		}
		r := find(q)
		parent[p] = r
		return r
	}
	for _, e := range edges {
		parent[find(e.a)] = find(e.b)
	}
	n := 0
	for p := range parent {
		if find(p) == p {
			n++
		}
	}
	return n
}

// lakeRings returns the holes that are not an island part of another ward.
func lakeRings(wards []Ward) []orb.Ring {
	var lakes []orb.Ring
	for _, w := range wards {
		for _, hole := range w.Geometry[0][1:] {
			if enclaveOwner(wards, hole) < 0 {
				lakes = append(lakes, hole)
			}
		}
	}
	return lakes
}

// enclaveOwner returns the ward that has hole, reversed, as an island part.
func enclaveOwner(wards []Ward, hole orb.Ring) int {
	for wj, v := range wards {
		for _, part := range v.Geometry[1:] {
			if slices.Equal(part[0], reversedRing(hole)) {
				return wj
			}
		}
	}
	return -1
}

// evenOdd is a plain ray cast over loose edges.
func evenOdd(edges []seg, p orb.Point) bool {
	in := false
	for _, s := range edges {
		if (s.a[1] > p[1]) != (s.b[1] > p[1]) &&
			p[0] < s.a[0]+(p[1]-s.a[1])*(s.b[0]-s.a[0])/(s.b[1]-s.a[1]) {
			in = !in
		}
	}
	return in
}

// TestHolesAndIslands checks the special shapes exist: an enclave whose
// ring is, coordinate for coordinate, a hole of one ward and an island part
// of another; a lake hole that no ward owns; an offshore island part.
func TestHolesAndIslands(t *testing.T) {
	for name, cfg := range shapeConfigs() {
		t.Run(name, func(t *testing.T) {
			c := mustGenerate(t, cfg)
			var enclaves, lakes, offshore int
			for wi, w := range c.Wards {
				for _, hole := range w.Geometry[0][1:] {
					owner := enclaveOwner(c.Wards, hole)
					switch {
					case owner == wi:
						t.Errorf("ward %s owns its own enclave", w.ID)
					case owner >= 0:
						enclaves++
					default:
						lakes++
						// A point well inside the lake is in no ward.
						var cx, cy float64
						for _, p := range hole[1:] {
							cx += p[0]
							cy += p[1]
						}
						p := orb.Point{cx / float64(len(hole)-1), cy / float64(len(hole)-1)}
						for _, v := range c.Wards {
							if planar.MultiPolygonContains(v.Geometry, p) {
								t.Errorf("lake centre %v is in ward %s", p, v.ID)
							}
						}
					}
				}
				for _, part := range w.Geometry[1:] {
					if len(part) != 1 {
						t.Errorf("ward %s: island part with %d rings", w.ID, len(part))
					}
				}
				offshore += len(w.Geometry) - 1
			}
			offshore -= enclaves
			n := cfg.WardsX * cfg.WardsY
			if lakes < 1 || offshore != 1 || (n >= 2 && enclaves < 1) {
				t.Errorf("%d lakes, %d enclaves, %d offshore islands", lakes, enclaves, offshore)
			}
		})
	}
}

func TestWardNames(t *testing.T) {
	seen := map[string]bool{}
	for n := 1; n <= len(wardNames); n++ {
		en, fr := wardName(n)
		if seen[en] || seen[fr] || en == "" || fr == "" {
			t.Errorf("ward %d: names %q/%q empty or repeated", n, en, fr)
		}
		seen[en], seen[fr] = true, true
	}
	if len(wardNames) < 60 {
		t.Errorf("%d names, want at least 60", len(wardNames))
	}
	if en, fr := wardName(len(wardNames) + 1); en != fmt.Sprint("Ward ", len(wardNames)+1) || fr != fmt.Sprint("Quartier ", len(wardNames)+1) {
		t.Errorf("numbered names: %q/%q", en, fr)
	}
}

func mustGenerate(t testing.TB, cfg CityConfig) *City {
	t.Helper()
	c, err := GenerateCity(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
