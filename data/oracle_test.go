package data

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/wards"
)

// The generator's locator is written independently of package geo (a grid
// of edges and segment crossings, not geo's banded ray cast), so it is an
// oracle for the service's point-in-polygon: on every generated request
// and on random points over the city, the ward geo finds (through wards)
// is the one the generator placed the point in.
func TestGeneratorOracleAgreesWithGeo(t *testing.T) {
	c := mustGenerate(t, testConfig())
	ws := make([]wards.Ward, len(c.Wards))
	for i, w := range c.Wards {
		ws[i] = wards.Ward{ID: w.ID, Name: i18n.T(w.NameEn, w.NameFr), Geometry: w.Geometry}
	}
	gen, err := wards.NewGeneration(ws, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	loc := newLocator(c.Wards)
	pts := make([]orb.Point, 0, len(c.Requests)+50_000)
	for _, r := range c.Requests {
		pts = append(pts, r.Point)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	b := c.Bound
	for range 50_000 {
		pts = append(pts, orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])})
	}
	bad, inside := 0, 0
	for _, p := range pts {
		want := ""
		if i := loc.locate(p); i >= 0 {
			want = c.Wards[i].ID
			inside++
		}
		got := ""
		if w, ok := gen.Locate(p); ok {
			got = w.ID
		}
		if got != want {
			bad++
			if bad <= 5 {
				t.Errorf("%v: geo says ward %q, the generator %q", p, got, want)
			}
		}
	}
	if bad > 0 || inside < len(pts)/2 {
		t.Errorf("%d of %d points disagree (%d inside a ward)", bad, len(pts), inside)
	}
}
