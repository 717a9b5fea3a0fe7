package requests

import (
	"bytes"
	"testing"
	"time"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/wards"
)

// TestPageBounds: the pages open on the wards in force, and on nothing
// before they take effect.
func TestPageBounds(t *testing.T) {
	ws, err := wards.LoadGeoJSON(bytes.NewReader(data.SampleWardsGeoJSON()), wards.DefaultFields())
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g, err := wards.NewGeneration(ws, from, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	set, err := wards.NewSet(g)
	if err != nil {
		t.Fatal(err)
	}
	b := PageBounds(set, from.Add(time.Hour))
	r := g.Bound()
	if b != [4]float64{r.Min[0], r.Min[1], r.Max[0], r.Max[1]} || b[0] >= b[2] || b[1] >= b[3] {
		t.Errorf("bounds %v, want the generation's %v", b, r)
	}
	if b := PageBounds(set, from.Add(-time.Hour)); b != [4]float64{} {
		t.Errorf("before the wards take effect: %v, want zero", b)
	}
}
