package live_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/live"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/sqlite"
	"github.com/pinward/pinward/tiles"
)

// TestTilesTurnOverdue: a request on the map turns overdue when its due
// time passes, with no change of the request to say so, and carries its
// escalation level.
func TestTilesTurnOverdue(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pinward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	p := orb.Point{-73.1, 46.05}
	r := requests.Request{TenantID: "town", ServiceCode: "pothole", Status: requests.New, Point: p, WardID: "1",
		Department: "roads", RequestedAt: at, UpdatedAt: at, DueAt: at.Add(time.Hour), Lang: i18n.En, Token: "t1"}
	if _, err := st.CreateRequest(ctx, requests.NewRequest{Request: r,
		Event: requests.Event{TenantID: "town", At: at, Actor: "resident", Kind: requests.EventCreated, To: requests.New}}); err != nil {
		t.Fatal(err)
	}
	now := at.Add(30 * time.Minute)
	tl := tiles.New(tiles.Options{})
	v := live.NewTiles(st, "town", tl, nil)
	v.Now = func() time.Time { return now }
	if err := v.Load(ctx); err != nil {
		t.Fatal(err)
	}
	overdue := func() any {
		t.Helper()
		b, err := tl.Render(tiles.LayerRequests, maptile.At(p, 16))
		if err != nil {
			t.Fatal(err)
		}
		layers, err := mvt.Unmarshal(b)
		if err != nil || len(layers) != 1 || len(layers[0].Features) != 1 {
			t.Fatalf("tile: %v, %v", layers, err)
		}
		return layers[0].Features[0].Properties["overdue"]
	}
	if got := overdue(); got != false {
		t.Errorf("before its due time: overdue %v", got)
	}
	if n := v.MarkOverdue(); n != 0 {
		t.Errorf("marked %d before the due time", n)
	}
	now = at.Add(2 * time.Hour)
	if n := v.MarkOverdue(); n != 1 {
		t.Errorf("marked %d after the due time, want 1", n)
	}
	if got := overdue(); got != true {
		t.Errorf("after its due time: overdue %v", got)
	}
}
