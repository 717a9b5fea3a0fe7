package tiles

import (
	"fmt"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// Putting, moving and removing requests leaves nothing behind: no bucket,
// cell or interned string outlives the requests that used it, and a
// recycled string id never shows the old string.
func TestIndexLeavesNothingBehind(t *testing.T) {
	ix := newRequestIndex()
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var rs []Request
	for i := range 500 {
		rs = append(rs, Request{
			ID: fmt.Sprintf("r-%03d", i), ServiceCode: fmt.Sprint("code", i%7), Status: "new",
			ClusterID: fmt.Sprintf("c-%d", i/4), WardID: fmt.Sprint(i % 3),
			Point: orb.Point{-73.5 + float64(i)*1e-4, 45.5}, RequestedAt: at.Add(time.Duration(i) * time.Minute),
		})
	}
	ix.load(rs[:250])
	for _, r := range rs[250:] {
		ix.put(r)
	}
	for i, r := range rs {
		r.Point[1] += 0.01 // move every one, and advance half
		if i%2 == 0 {
			r.Status = "in_progress"
		}
		ix.put(r)
	}
	if len(ix.byID) != 500 || len(ix.clusters) != 125 {
		t.Fatalf("%d requests in %d clusters, want 500 in 125", len(ix.byID), len(ix.clusters))
	}
	for _, r := range rs {
		if !ix.remove(r.ID) {
			t.Fatalf("request %s not found", r.ID)
		}
	}
	if len(ix.buckets) != 0 || len(ix.cbuckets) != 0 || len(ix.clusters) != 0 || len(ix.dict.idx) != 0 {
		t.Errorf("left behind: %d buckets, %d cluster buckets, %d clusters, %d strings",
			len(ix.buckets), len(ix.cbuckets), len(ix.clusters), len(ix.dict.idx))
	}
	for z, level := range ix.reqPyr {
		if len(level) != 0 || len(ix.clPyr[z]) != 0 {
			t.Fatalf("zoom %d: %d request cells and %d cluster cells left", z, len(level), len(ix.clPyr[z]))
		}
	}
	// Recycled ids name the new strings.
	ix.put(Request{ID: "x-1", ServiceCode: "pothole", Status: "new", WardID: "w9", Point: orb.Point{-73.5, 45.5}, RequestedAt: at})
	e := ix.byID["x-1"]
	sp := ix.buckets[e.bucket].spots[e.slot]
	for i, want := range []string{"x-1", "pothole", "new", "x-1", "w9"} {
		if v := sp.vals[i]; v[0] != fDictStr || ix.dict.strs[v[1]] != want {
			t.Errorf("value %d: %v (%q), want %q", i, v, ix.dict.strs[v[1]], want)
		}
	}
}

// A tile is aggregated from MaxDetailFeatures+1 requests (or clusters) in
// it, not counting its buffer.
func TestAggregatedThreshold(t *testing.T) {
	ix := newRequestIndex()
	centre := orb.Point{-73.1, 46.05}
	for i := range MaxDetailFeatures + 1 {
		ix.put(Request{ID: fmt.Sprint(i + 1), ServiceCode: "graffiti", Status: "new",
			Point: orb.Point{centre[0] + float64(i%40)*1e-5, centre[1] + float64(i/40)*1e-5}})
	}
	for z := maptile.Zoom(DetailZoom); z <= MaxAggZoom; z++ {
		tile := maptile.At(centre, z)
		n := 0
		for _, e := range ix.byID {
			if maptile.At(e.r.Point, z) == tile {
				n++
			}
		}
		for _, clusters := range []bool{false, true} {
			if got, want := ix.aggregated(tile, clusters), n > MaxDetailFeatures; got != want {
				t.Errorf("zoom %d, clusters %v, %d in the tile: aggregated %v, want %v", z, clusters, n, got, want)
			}
		}
	}
	if tile := maptile.At(centre, DetailZoom); !ix.aggregated(tile, false) {
		t.Fatal("a z15 tile of 1,001 requests is not aggregated")
	}
	ix.remove("1")
	if tile := maptile.At(centre, DetailZoom); ix.aggregated(tile, false) || ix.aggregated(tile, true) {
		t.Error("a z15 tile of 1,000 requests is aggregated")
	}
}
