package tiles_test

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/tiles"
)

// sampleCity is the small bundled sample town's generator config: 9 wards,
// 2,000 requests.
func sampleCity(t testing.TB) *data.City {
	t.Helper()
	c, err := data.GenerateCity(data.SampleConfig())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cityRequests gives every request a status and groups them in clusters
// of three consecutive requests, so clusters have several members.
func cityRequests(c *data.City) []tiles.Request {
	statuses := []string{"new", "acknowledged", "in_progress"}
	out := make([]tiles.Request, len(c.Requests))
	for i, r := range c.Requests {
		out[i] = tiles.Request{
			ID: fmt.Sprint(i + 1), ServiceCode: r.Category, Status: statuses[i%3],
			ClusterID: fmt.Sprint(i - i%3 + 1), WardID: fmt.Sprint("w", i%5), Point: r.Point, RequestedAt: r.CreatedAt,
		}
	}
	return out
}

func newTiler(t testing.TB, c *data.City, reqs []tiles.Request) *tiles.Tiler {
	t.Helper()
	tl := tiles.New(tiles.Options{})
	var ws []tiles.Ward
	for _, w := range c.Wards {
		ws = append(ws, tiles.Ward{ID: w.ID, NameEn: w.NameEn, NameFr: w.NameFr, Geometry: w.Geometry})
	}
	if err := tl.SetWards(ws); err != nil {
		t.Fatal(err)
	}
	var as []tiles.Asset
	for _, a := range c.Assets {
		as = append(as, tiles.Asset{Layer: a.Type, ID: a.ID, Point: a.Point})
	}
	tl.SetAssets(as)
	tl.SetRequests(reqs)
	return tl
}

func decode(t testing.TB, b []byte, layer string) []*geojson.Feature {
	t.Helper()
	if len(b) == 0 {
		return nil
	}
	ls, err := mvt.Unmarshal(b)
	if err != nil {
		t.Fatalf("decoding the %s tile: %v", layer, err)
	}
	if len(ls) != 1 || ls[0].Name != layer || ls[0].Extent != tiles.Extent {
		t.Fatalf("tile layers: got %d (%v), want one %q of extent 4096", len(ls), ls, layer)
	}
	return ls[0].Features
}

// tileCoords is p in a tile's units, as a brute-force reference.
func tileCoords(p orb.Point, tile maptile.Tile) (float64, float64) {
	n := math.Exp2(float64(tile.Z))
	u := (p[0] + 180) / 360
	s := math.Sin(p[1] * math.Pi / 180)
	v := 0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)
	return math.Round((u*n - float64(tile.X)) * tiles.Extent), math.Round((v*n - float64(tile.Y)) * tiles.Extent)
}

func inBuffer(x, y float64) bool {
	return x >= -tiles.Buffer && x <= tiles.Extent+tiles.Buffer && y >= -tiles.Buffer && y <= tiles.Extent+tiles.Buffer
}

// someTiles returns tiles at zoom z centred on every k-th request.
func someTiles(reqs []tiles.Request, z maptile.Zoom, k int) []maptile.Tile {
	seen := map[maptile.Tile]bool{}
	var out []maptile.Tile
	for i := 0; i < len(reqs); i += k {
		tt := maptile.At(reqs[i].Point, z)
		if !seen[tt] {
			seen[tt] = true
			out = append(out, tt)
		}
	}
	return out
}

func TestRequestsDetailMatchIndex(t *testing.T) {
	c := sampleCity(t)
	reqs := cityRequests(c)
	tl := newTiler(t, c, reqs)
	want := map[string]bool{"id": true, "service_code": true, "status": true, "cluster_id": true, "ward_id": true, "requested_at": true,
		"overdue": true, "escalation_level": true}
	for _, z := range []maptile.Zoom{15, 16, 18} {
		for _, tile := range someTiles(reqs, z, 97) {
			b, err := tl.Render(tiles.LayerRequests, tile)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]orb.Point{}
			for _, f := range decode(t, b, tiles.LayerRequests) {
				for k := range f.Properties {
					if !want[k] {
						t.Fatalf("request feature has property %q, not in the documented list", k)
					}
				}
				id := f.Properties.MustString("id")
				if f.ID == nil || fmt.Sprint(f.ID) != id {
					t.Errorf("feature id %v, want %s", f.ID, id)
				}
				got[id] = f.Geometry.(orb.Point)
			}
			n := 0
			for _, r := range reqs {
				x, y := tileCoords(r.Point, tile)
				if !inBuffer(x, y) {
					continue
				}
				n++
				p, ok := got[r.ID]
				if !ok {
					t.Fatalf("tile %v: request %s at (%g, %g) missing", tile, r.ID, x, y)
				}
				if math.Abs(p[0]-x) > 1 || math.Abs(p[1]-y) > 1 {
					t.Errorf("tile %v: request %s at %v, want (%g, %g)", tile, r.ID, p, x, y)
				}
			}
			if n != len(got) {
				t.Errorf("tile %v: %d features, want %d", tile, len(got), n)
			}
		}
	}
}

func TestClustersDetailMatchIndex(t *testing.T) {
	c := sampleCity(t)
	reqs := cityRequests(c)
	tl := newTiler(t, c, reqs)
	members := map[string][]tiles.Request{}
	for _, r := range reqs {
		members[r.ClusterID] = append(members[r.ClusterID], r)
	}
	tile := maptile.At(reqs[0].Point, 15)
	b, err := tl.Render(tiles.LayerClusters, tile)
	if err != nil {
		t.Fatal(err)
	}
	fs := decode(t, b, tiles.LayerClusters)
	if len(fs) == 0 {
		t.Fatal("no clusters in the tile of the first request")
	}
	for _, f := range fs {
		id := f.Properties.MustString("cluster_id")
		ms := members[id]
		if got := int(f.Properties.MustFloat64("count")); got != len(ms) {
			t.Errorf("cluster %s: count %d, want %d", id, got, len(ms))
		}
		// The earliest request names the category; status is the least advanced.
		first := slices.MinFunc(ms, func(a, b tiles.Request) int { return a.RequestedAt.Compare(b.RequestedAt) })
		if got := f.Properties.MustString("service_code"); got != first.ServiceCode {
			t.Errorf("cluster %s: service_code %s, want %s", id, got, first.ServiceCode)
		}
		if got := f.Properties.MustString("status"); got != "new" && len(ms) == 3 {
			t.Errorf("cluster %s: status %s, want open (one of its three is open)", id, got)
		}
	}
}

// Below DetailZoom, the cells of a tile count exactly the requests in it,
// by category and status.
func TestCellsCountEveryRequest(t *testing.T) {
	c := sampleCity(t)
	reqs := cityRequests(c)
	tl := newTiler(t, c, reqs)
	for _, z := range []maptile.Zoom{8, 12, 13, 14} {
		for _, tile := range someTiles(reqs, z, 101) {
			b, err := tl.Render(tiles.LayerRequests, tile)
			if err != nil {
				t.Fatal(err)
			}
			bound := tile.Bound()
			want, wantBy := 0, map[string]int{}
			for _, r := range reqs {
				// Inside the tile, west and north edges included (as maptile.At).
				if maptile.At(r.Point, z) == tile {
					want++
					wantBy["service_"+r.ServiceCode]++
					wantBy["status_"+r.Status]++
				}
			}
			got, gotBy := 0, map[string]int{}
			fs := decode(t, b, tiles.LayerRequests)
			if len(fs) > 256 {
				t.Fatalf("tile %v: %d cells, want at most 16x16", tile, len(fs))
			}
			for _, f := range fs {
				if agg, _ := f.Properties["aggregate"].(bool); !agg {
					t.Fatalf("tile %v: a cell without aggregate=true: %v", tile, f.Properties)
				}
				n := int(f.Properties.MustFloat64("count"))
				got += n
				sum := 0
				for k, v := range f.Properties {
					if len(k) > 8 && k[:8] == "service_" && k != "service_code" {
						gotBy[k] += int(v.(float64))
						sum += int(v.(float64))
					} else if len(k) > 7 && k[:7] == "status_" {
						gotBy[k] += int(v.(float64))
					}
				}
				if sum != n {
					t.Errorf("tile %v: cell count %d but its categories sum to %d", tile, n, sum)
				}
				// service_code and status name a most common value.
				for _, prop := range []string{"service_code", "status"} {
					prefix := prop[:len(prop)-len("code")]
					if prop == "status" {
						prefix = "status_"
					}
					most := 0
					for k, v := range f.Properties {
						if len(k) > len(prefix) && k[:len(prefix)] == prefix && k != "service_code" {
							most = max(most, int(v.(float64)))
						}
					}
					name := f.Properties.MustString(prop, "")
					if c, _ := f.Properties[prefix+name].(float64); name == "" || int(c) != most {
						t.Errorf("tile %v: cell %s %q counts %v, the most common counts %d", tile, prop, name, c, most)
					}
				}
				p := f.Geometry.(orb.Point)
				if p[0] < 0 || p[0] > tiles.Extent || p[1] < 0 || p[1] > tiles.Extent {
					t.Errorf("tile %v: cell at %v, outside the tile", tile, p)
				}
			}
			_ = bound
			if got != want {
				t.Errorf("tile %v: cells count %d requests, want %d", tile, got, want)
			}
			for k, v := range wantBy {
				if gotBy[k] != v {
					t.Errorf("tile %v: %s = %d, want %d", tile, k, gotBy[k], v)
				}
			}
		}
	}
}

func TestWardsClippedAndSimplified(t *testing.T) {
	c := sampleCity(t)
	tl := newTiler(t, c, nil)
	// At zoom 10 the whole town is in one or two tiles: every ward appears,
	// with far fewer vertices than its source.
	seen := map[string]bool{}
	source := map[string]int{}
	for _, w := range c.Wards {
		for _, p := range w.Geometry {
			for _, r := range p {
				source[w.ID] += len(r)
			}
		}
	}
	for _, tile := range someTiles(cityRequests(c), 10, 1) {
		b, err := tl.Render(tiles.LayerWards, tile)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range decode(t, b, tiles.LayerWards) {
			id := f.Properties.MustString("id")
			seen[id] = true
			if f.Properties.MustString("name_fr") == "" {
				t.Errorf("ward %s without name_fr", id)
			}
			var mp orb.MultiPolygon
			switch g := f.Geometry.(type) {
			case orb.Polygon:
				mp = orb.MultiPolygon{g}
			case orb.MultiPolygon:
				mp = g
			default:
				t.Fatalf("ward %s: geometry %T", id, g)
			}
			vertices := 0
			for _, p := range mp {
				for _, r := range p {
					vertices += len(r)
				}
			}
			if src := source[id]; vertices*3 > src*2 {
				t.Errorf("ward %s at z10: %d vertices of %d, want it simplified", id, vertices, src)
			}
		}
	}
	if len(seen) != len(c.Wards) {
		t.Errorf("z10 tiles show %d wards, want %d", len(seen), len(c.Wards))
	}
	// At zoom 16 a tile is clipped: every vertex within the buffer.
	tile := maptile.At(c.Bound.Center(), 16)
	b, err := tl.Render(tiles.LayerWards, tile)
	if err != nil {
		t.Fatal(err)
	}
	fs := decode(t, b, tiles.LayerWards)
	if len(fs) == 0 {
		t.Fatal("no ward in the tile at the town centre")
	}
	for _, f := range fs {
		for _, p := range f.Geometry.(orb.Polygon) {
			for _, q := range p {
				if !inBuffer(q[0], q[1]) {
					t.Fatalf("ward vertex %v outside the tile and its buffer", q)
				}
			}
		}
	}
}

func TestAssetsFromMinZoom(t *testing.T) {
	c := sampleCity(t)
	tl := newTiler(t, c, nil)
	a := c.Assets[0]
	b, err := tl.Render(tiles.LayerAssets, maptile.At(a.Point, tiles.AssetsMinZoom-1))
	if err != nil || len(b) != 0 {
		t.Fatalf("assets below minzoom: %d bytes, %v; want an empty tile", len(b), err)
	}
	tile := maptile.At(a.Point, 17)
	b, err = tl.Render(tiles.LayerAssets, tile)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, o := range c.Assets {
		if x, y := tileCoords(o.Point, tile); inBuffer(x, y) {
			want++
		}
	}
	fs := decode(t, b, tiles.LayerAssets)
	found := false
	for _, f := range fs {
		if f.Properties.MustString("id") == a.ID && f.Properties.MustString("layer") == a.Type {
			found = true
		}
	}
	if len(fs) != want || !found {
		t.Errorf("assets tile: %d features (asset %s found: %v), want %d", len(fs), a.ID, found, want)
	}
}

// UpdateAssets moves, adds and removes assets; the cached tiles follow on
// the next fetch, and the set matches a full reload.
func TestUpdateAssets(t *testing.T) {
	c := sampleCity(t)
	tl := newTiler(t, c, nil)
	n := tl.AssetCount()
	a, gone := c.Assets[0], c.Assets[1]
	tile := maptile.At(a.Point, 17)
	ids := func(tile maptile.Tile) map[string]bool {
		t.Helper()
		r, err := tl.Tile(tiles.LayerAssets, tile)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, f := range decode(t, r.Data, tiles.LayerAssets) {
			m[f.Properties.MustString("layer")+"/"+f.Properties.MustString("id")] = true
		}
		return m
	}
	if !ids(tile)[a.Type+"/"+a.ID] {
		t.Fatalf("asset %s not in its tile", a.ID)
	}
	// Move a 2 km east, add a new one where it was, remove another.
	moved := orb.Point{a.Point[0] + 0.026, a.Point[1]}
	tl.UpdateAssets([]tiles.Asset{{Layer: a.Type, ID: a.ID, Point: moved}, {Layer: "bench", ID: "new-1", Point: a.Point}},
		[]tiles.Asset{{Layer: gone.Type, ID: gone.ID}, {Layer: "none", ID: "never-stored"}})
	got := ids(tile)
	if got[a.Type+"/"+a.ID] || !got["bench/new-1"] {
		t.Errorf("after the update, tile %v: moved asset still there or new asset missing: %v", tile, got)
	}
	if !ids(maptile.At(moved, 17))[a.Type+"/"+a.ID] {
		t.Error("the moved asset is not in the tile of its new place")
	}
	if ids(maptile.At(gone.Point, 17))[gone.Type+"/"+gone.ID] {
		t.Error("the removed asset is still shown")
	}
	if got := tl.AssetCount(); got != n {
		t.Errorf("%d assets after one add and one removal, want %d", got, n)
	}
}

// A new request shows on the next fetch; a removed one leaves it.
func TestCacheInvalidation(t *testing.T) {
	c := sampleCity(t)
	reqs := cityRequests(c)
	tl := newTiler(t, c, reqs)
	p := reqs[0].Point
	tile := maptile.At(p, 16)
	before, err := tl.Tile(tiles.LayerRequests, tile)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := tl.Tile(tiles.LayerRequests, tile)
	if again != before {
		t.Error("an unchanged tile was rendered again instead of coming from the cache")
	}
	wards, _ := tl.Tile(tiles.LayerWards, tile)
	tl.PutRequest(tiles.Request{ID: "999999", ServiceCode: "pothole", Status: "new", Point: p, RequestedAt: time.Now()})
	after, _ := tl.Tile(tiles.LayerRequests, tile)
	if after.ETag == before.ETag || !hasID(t, after.Data, "999999") {
		t.Fatal("the tile does not show the new request")
	}
	if w, _ := tl.Tile(tiles.LayerWards, tile); w != wards {
		t.Error("a request change re-rendered the wards tile")
	}
	cl, _ := tl.Tile(tiles.LayerClusters, maptile.At(p, 12))
	if !tl.RemoveRequest("999999") || tl.RemoveRequest("999999") {
		t.Fatal("RemoveRequest: want true once, then false")
	}
	if gone, _ := tl.Tile(tiles.LayerRequests, tile); gone.ETag != before.ETag || hasID(t, gone.Data, "999999") {
		t.Error("the removed request is still on the tile")
	}
	if cl2, _ := tl.Tile(tiles.LayerClusters, maptile.At(p, 12)); cl2.ETag == cl.ETag {
		t.Error("the z12 clusters tile did not change with the request")
	}
	if gz := after.Gzip(); len(gz) == 0 || len(gz) >= len(after.Data) {
		t.Errorf("gzip: %d bytes for %d", len(gz), len(after.Data))
	}
}

func hasID(t *testing.T, b []byte, id string) bool {
	for _, f := range decode(t, b, tiles.LayerRequests) {
		if f.Properties.MustString("id", "") == id {
			return true
		}
	}
	return false
}

func TestParseTile(t *testing.T) {
	good, err := tiles.ParseTile("requests", "12", "1234", "1456", "mvt")
	if err != nil || good != maptile.New(1234, 1456, 12) {
		t.Fatalf("ParseTile: %v, %v", good, err)
	}
	for _, c := range []struct {
		layer, z, x, y, ext string
		kind                i18n.Kind
		field               string
	}{
		{"roads", "1", "0", "0", "mvt", i18n.NotFound, "layer"},
		{"wards", "1", "0", "0", "pbf", i18n.Invalid, "format"},
		{"wards", "23", "0", "0", "mvt", i18n.Invalid, "z"},
		{"wards", "-1", "0", "0", "mvt", i18n.Invalid, "z"},
		{"wards", "a", "0", "0", "mvt", i18n.Invalid, "z"},
		{"wards", "1", "2", "0", "mvt", i18n.Invalid, "x"},
		{"wards", "1", "0", "2", "mvt", i18n.Invalid, "y"},
		{"wards", "0", "0", "-0", "mvt", i18n.Invalid, "y"},
	} {
		_, err := tiles.ParseTile(c.layer, c.z, c.x, c.y, c.ext)
		var e *i18n.Error
		if !asI18n(err, &e) || e.Kind != c.kind || e.Field != c.field || e.Message.Fr == "" || e.Message.En == e.Message.Fr {
			t.Errorf("ParseTile(%v): %#v, want a bilingual %s error on %s", c, err, c.kind, c.field)
		}
	}
}

func asI18n(err error, e **i18n.Error) bool {
	v, ok := err.(*i18n.Error)
	*e = v
	return ok
}

func TestTileJSON(t *testing.T) {
	c := sampleCity(t)
	tl := newTiler(t, c, cityRequests(c))
	for _, layer := range tiles.Layers() {
		tj, err := tl.TileJSON(layer, "http://x/tiles/"+layer+"/{z}/{x}/{y}.mvt", []string{"pothole", "graffiti"}, []string{"new", "in_progress"})
		if err != nil {
			t.Fatal(err)
		}
		b := tj.Bounds
		if tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 || len(tj.VectorLayers) != 1 || tj.VectorLayers[0].ID != layer ||
			b[0] > c.Bound.Min[0]+1e-6 || b[2] < c.Bound.Max[0]-1e-6 || tj.MaxZoom != tiles.MaxZoom {
			t.Errorf("TileJSON %s: %+v", layer, tj)
		}
		var fields []string
		for k := range tj.VectorLayers[0].Fields {
			fields = append(fields, k)
		}
		sort.Strings(fields)
		if len(fields) == 0 {
			t.Errorf("TileJSON %s: no fields", layer)
		}
		for _, f := range fields {
			if strings.ContainsAny(f, "<>") {
				t.Errorf("TileJSON %s: placeholder field %q", layer, f)
			}
		}
		if layer == tiles.LayerRequests || layer == tiles.LayerClusters {
			for _, f := range []string{"service_pothole", "service_graffiti", "status_new", "status_in_progress"} {
				if _, ok := tj.VectorLayers[0].Fields[f]; !ok {
					t.Errorf("TileJSON %s lacks %s: %v", layer, f, fields)
				}
			}
		}
	}
	if _, err := tl.TileJSON("roads", "x", nil, nil); i18n.KindOf(err) != i18n.NotFound {
		t.Errorf("TileJSON of an unknown layer: %v", err)
	}
}

// A tile from DetailZoom on that would hold more than MaxDetailFeatures
// requests stays aggregated, with every request counted; deeper zooms
// show them one by one.
func TestDenseTileStaysAggregated(t *testing.T) {
	centre := orb.Point{-73.1, 46.05}
	var reqs []tiles.Request
	for i := range tiles.MaxDetailFeatures + 200 {
		// About 1 m apart in a small square: all in one z17 tile.
		p := orb.Point{centre[0] + float64(i%40)*1e-5, centre[1] + float64(i/40)*1e-5}
		reqs = append(reqs, tiles.Request{ID: fmt.Sprint(i + 1), ServiceCode: "graffiti", Status: "new", Point: p, RequestedAt: time.Unix(0, 0)})
	}
	tl := tiles.New(tiles.Options{})
	tl.SetRequests(reqs)
	tile := maptile.At(centre, 15)
	if !tl.Aggregated(tiles.LayerRequests, tile) {
		t.Fatalf("a z15 tile of %d requests is not aggregated", len(reqs))
	}
	b, err := tl.Render(tiles.LayerRequests, tile)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, f := range decode(t, b, tiles.LayerRequests) {
		sum += int(f.Properties.MustFloat64("count"))
	}
	if sum != len(reqs) {
		t.Errorf("cells count %d requests, want %d", sum, len(reqs))
	}
	deep := maptile.At(centre, tiles.MaxAggZoom+1)
	if tl.Aggregated(tiles.LayerRequests, deep) {
		t.Errorf("zoom %d is aggregated", deep.Z)
	}
	// Taking most of them away brings single features back.
	for _, r := range reqs[100:] {
		tl.RemoveRequest(r.ID)
	}
	if tl.Aggregated(tiles.LayerRequests, tile) {
		t.Error("a z15 tile of 100 requests is still aggregated")
	}
	if b, _ := tl.Render(tiles.LayerRequests, tile); len(decode(t, b, tiles.LayerRequests)) != 100 {
		t.Error("the z15 tile does not show the 100 requests left")
	}
}

// Renders and changes run concurrently (go test -race checks the locking).
func TestConcurrentRenderAndChange(t *testing.T) {
	c := sampleCity(t)
	reqs := cityRequests(c)
	tl := newTiler(t, c, reqs[:1000])
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, r := range reqs[1000:1400] {
			tl.PutRequest(r)
			tl.RemoveRequest(reqs[0].ID)
		}
	}()
	for i := 0; i < 400; i++ {
		r := reqs[i*3%len(reqs)]
		for _, layer := range tiles.Layers() {
			if _, err := tl.Tile(layer, maptile.At(r.Point, maptile.Zoom(10+i%8))); err != nil {
				t.Fatal(err)
			}
		}
	}
	<-done
	if n := tl.RequestCount(); n != 1399 {
		t.Errorf("%d requests after the changes, want 1399", n)
	}
}
