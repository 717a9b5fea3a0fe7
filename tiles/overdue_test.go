package tiles_test

import (
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/pinward/pinward/tiles"
)

// TestOverdueAndEscalation: request features carry their own overdue flag
// and escalation level; a cluster's say whether any member is overdue and
// its highest level, and follow members that change or leave.
func TestOverdueAndEscalation(t *testing.T) {
	tl := tiles.New(tiles.Options{})
	p := orb.Point{-73.1, 46.05}
	at := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	a := tiles.Request{ID: "1", ServiceCode: "pothole", Status: "open", ClusterID: "1", WardID: "1", Point: p, RequestedAt: at}
	b := a
	b.ID, b.Point, b.Overdue, b.EscalationLevel = "2", orb.Point{p[0] + 1e-5, p[1]}, true, 2
	tl.SetRequests([]tiles.Request{a, b})
	tile := maptile.At(p, 16)
	props := func(layer string) map[string]map[string]any {
		t.Helper()
		bs, err := tl.Render(layer, tile)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]map[string]any{}
		for _, f := range decode(t, bs, layer) {
			key := "id"
			if layer == tiles.LayerClusters {
				key = "cluster_id"
			}
			out[f.Properties.MustString(key)] = f.Properties
		}
		return out
	}
	check := func(what string, got map[string]any, overdue bool, level float64) {
		t.Helper()
		if got["overdue"] != overdue || got["escalation_level"] != level {
			t.Errorf("%s: overdue %v, escalation_level %v; want %v, %v", what, got["overdue"], got["escalation_level"], overdue, level)
		}
	}
	rs := props(tiles.LayerRequests)
	check("request 1", rs["1"], false, 0)
	check("request 2", rs["2"], true, 2)
	check("cluster", props(tiles.LayerClusters)["1"], true, 2)

	b.EscalationLevel = 3
	tl.PutRequest(b)
	check("cluster after a level", props(tiles.LayerClusters)["1"], true, 3)
	tl.RemoveRequest("2")
	check("cluster without its overdue request", props(tiles.LayerClusters)["1"], false, 0)
}
