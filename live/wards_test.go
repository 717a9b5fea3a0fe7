package live_test

import (
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/live"
	"github.com/pinward/pinward/tiles"
	"github.com/pinward/pinward/wards"
)

// TestWatchWards: the map's ward layer shows the generation in force, and
// switches to the next one when its first day passes while serving.
func TestWatchWards(t *testing.T) {
	square := func(x0, y0, size float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{x0, y0}, {x0 + size, y0}, {x0 + size, y0 + size}, {x0, y0 + size}, {x0, y0}}}}
	}
	change := time.Now().Add(300 * time.Millisecond)
	old, err := wards.NewGeneration([]wards.Ward{{ID: "1", Name: i18n.T("One", "Un"), Geometry: square(-73, 46, 0.1)}}, time.Time{}, change)
	if err != nil {
		t.Fatal(err)
	}
	neu, err := wards.NewGeneration([]wards.Ward{{ID: "1", Name: i18n.T("One", "Un"), Geometry: square(-73, 46, 0.2)}}, change, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	set, err := wards.NewSet(neu, old)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := assets.NewIndex(nil)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := live.NewTiler(set, ix)
	if err != nil {
		t.Fatal(err)
	}
	east := func() float64 {
		tj, err := tl.TileJSON(tiles.LayerWards, "/t/{z}/{x}/{y}", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return tj.Bounds[2]
	}
	if got := east(); got != -72.9 {
		t.Fatalf("before the change the ward layer reaches %v, want -72.9", got)
	}
	stop := live.WatchWards(t.Context(), set, tl, nil)
	defer stop()
	for deadline := time.Now().Add(10 * time.Second); east() != -72.8; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after the change the ward layer still reaches %v, want -72.8", east())
		}
	}
	if time.Now().Before(change) {
		t.Errorf("the layer switched before the new generation's first day")
	}
}
