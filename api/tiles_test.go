package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/live"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/sqlite"
	"github.com/pinward/pinward/tiles"
	"github.com/pinward/pinward/wards"
	"github.com/prometheus/client_golang/prometheus"
)

// tileWorld is the API with tiles over a real SQLite store, wired as
// pinward serve wires it: the store's change stream keeps the tiles
// current. Each test request first waits for the stream to apply every
// change committed before it, so a tile read right after a write has it.
type tileWorld struct {
	*world
	svc *requests.Service
}

func newTileWorld(t *testing.T) *tileWorld {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pinward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// A world gives the sample data, the key and the inside point; its own
	// server (without tiles) is not used.
	w := newWorld(t, st)
	cat, err := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
	if err != nil {
		t.Fatal(err)
	}
	ws, err := wards.LoadGeoJSON(bytes.NewReader(data.SampleWardsGeoJSON()), wards.DefaultFields())
	if err != nil {
		t.Fatal(err)
	}
	gen, err := wards.NewGeneration(ws, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	set, err := wards.NewSet(gen)
	if err != nil {
		t.Fatal(err)
	}
	list, _, err := assets.LoadCSV(bytes.NewReader(data.SampleAssetsCSV()), assets.DefaultCSVFormat())
	if err != nil {
		t.Fatal(err)
	}
	ix, err := assets.NewIndex(list)
	if err != nil {
		t.Fatal(err)
	}
	tl := tiles.New(tiles.Options{})
	var tws []tiles.Ward
	for _, wd := range ws {
		tws = append(tws, tiles.Ward{ID: wd.ID, NameEn: wd.Name.En, NameFr: wd.Name.Fr, Geometry: wd.Geometry})
	}
	if err := tl.SetWards(tws); err != nil {
		t.Fatal(err)
	}
	var tas []tiles.Asset
	for _, a := range list {
		tas = append(tas, tiles.Asset{Layer: a.Layer, ID: a.ID, Point: a.Point})
	}
	tl.SetAssets(tas)
	svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: cat, Wards: set, Assets: ix, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	stream := live.New(live.Config{Store: st, Tenant: tenant, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	stream.Register("tiles", live.NewTiles(st, tenant, tl, ix), requests.ChangeRequest, requests.ChangeAsset)
	if err := stream.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stream.Stop)
	h := api.New(api.Config{
		Service: svc, Keys: st, Jurisdiction: "sample.example",
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: prometheus.NewRegistry(), MaxBody: maxBody, Tiles: tl,
	})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if err := stream.Sync(r.Context()); err != nil {
			t.Errorf("sync the change stream: %v", err)
		}
		h.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.srv = srv
	return &tileWorld{world: w, svc: svc}
}

func tilePath(layer string, tile maptile.Tile) string {
	return fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", layer, tile.Z, tile.X, tile.Y)
}

// tileIDs decodes an MVT body and returns its features' id property.
func tileIDs(t *testing.T, b []byte, key string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	if len(b) == 0 {
		return out
	}
	ls, err := mvt.Unmarshal(b)
	if err != nil {
		t.Fatalf("not an MVT tile: %v", err)
	}
	for _, l := range ls {
		for _, f := range l.Features {
			if s, ok := f.Properties[key].(string); ok {
				out[s] = f.Properties
			}
		}
	}
	return out
}

func TestTilesShowSubmittedRequests(t *testing.T) {
	w := newTileWorld(t)
	form := w.pothole()
	form.Set("email", "resident@example.org")
	form.Set("first_name", "Émilie")
	form.Set("phone", "819-555-0199")
	id := w.submit(form)

	tile := maptile.At(w.inside, 17)
	res := w.get(tilePath(tiles.LayerRequests, tile))
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/vnd.mapbox-vector-tile" {
		t.Fatalf("tile: %d %s", res.status, res.header.Get("Content-Type"))
	}
	feats := tileIDs(t, res.body, "id")
	f, ok := feats[id]
	if !ok {
		t.Fatalf("request %s not in its z17 tile (%d features)", id, len(feats))
	}
	if f["service_code"] != "pothole" || f["status"] != "new" || f["cluster_id"] != id || f["ward_id"] == "" {
		t.Errorf("request feature properties: %v", f)
	}
	for _, pii := range []string{"resident@example.org", "Émilie", "555-0199", "Deep hole", "12 Main St"} {
		if bytes.Contains(res.body, []byte(pii)) {
			t.Errorf("the tile carries %q", pii)
		}
	}
	etag := res.header.Get("ETag")
	if etag == "" || res.header.Get("Cache-Control") != "public, max-age=1" {
		t.Errorf("headers: ETag %q, Cache-Control %q", etag, res.header.Get("Cache-Control"))
	}

	// 304 while nothing changed.
	nm := w.do("GET", tilePath(tiles.LayerRequests, tile), nil, map[string]string{"If-None-Match": etag})
	if nm.status != http.StatusNotModified || len(nm.body) != 0 {
		t.Errorf("If-None-Match: %d, %d bytes", nm.status, len(nm.body))
	}

	// A second report shows at once, in the clusters layer too (z12 cell).
	id2 := w.submit(w.pothole())
	res = w.do("GET", tilePath(tiles.LayerRequests, tile), nil, map[string]string{"If-None-Match": etag})
	if res.status != http.StatusOK || res.header.Get("ETag") == etag {
		t.Fatalf("after a new request: %d, ETag %q (was %q)", res.status, res.header.Get("ETag"), etag)
	}
	if _, ok := tileIDs(t, res.body, "id")[id2]; !ok {
		t.Errorf("request %s is not in the tile right after it was submitted", id2)
	}
	cl := w.get(tilePath(tiles.LayerClusters, maptile.At(w.inside, 17)))
	clusters := tileIDs(t, cl.body, "cluster_id")
	if c, ok := clusters[id]; !ok || c["count"] != float64(2) {
		t.Errorf("cluster %s: %v (the duplicate should have joined it)", id, clusters)
	}
	low := w.get(tilePath(tiles.LayerClusters, maptile.At(w.inside, 12)))
	if low.status != http.StatusOK || len(low.body) == 0 {
		t.Errorf("z12 clusters tile: %d, %d bytes", low.status, len(low.body))
	}

	// Closing takes them off the map.
	for _, r := range []string{id2, id} {
		if _, err := w.svc.UpdateStatus(context.Background(), requests.StatusUpdate{ServiceRequestID: r, To: requests.Closed, Note: "fixed", Actor: "staff:1"}); err != nil {
			t.Fatal(err)
		}
	}
	res = w.get(tilePath(tiles.LayerRequests, tile))
	if got := tileIDs(t, res.body, "id"); len(got) != 0 {
		t.Errorf("closed requests still on the tile: %v", got)
	}
}

func TestTileGzipAndHead(t *testing.T) {
	w := newTileWorld(t)
	tile := maptile.At(w.inside, 12)
	plain := w.get(tilePath(tiles.LayerWards, tile))
	if plain.status != http.StatusOK || len(plain.body) == 0 || plain.header.Get("Content-Encoding") != "" {
		t.Fatalf("plain: %d, %d bytes, encoding %q", plain.status, len(plain.body), plain.header.Get("Content-Encoding"))
	}
	if plain.header.Get("Cache-Control") != "public, max-age=300" {
		t.Errorf("wards Cache-Control %q", plain.header.Get("Cache-Control"))
	}
	gz := w.do("GET", tilePath(tiles.LayerWards, tile), nil, map[string]string{"Accept-Encoding": "br;q=1, gzip;q=0.8"})
	if gz.header.Get("Content-Encoding") != "gzip" || !strings.Contains(strings.Join(gz.header.Values("Vary"), ","), "Accept-Encoding") {
		t.Fatalf("gzip: encoding %q, Vary %q", gz.header.Get("Content-Encoding"), gz.header.Get("Vary"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.body))
	if err != nil {
		t.Fatal(err)
	}
	unz, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unz, plain.body) || len(gz.body) >= len(plain.body) {
		t.Errorf("gzip body: %d bytes -> %d (%v), plain %d", len(gz.body), len(unz), err, len(plain.body))
	}
	if gz.header.Get("ETag") != plain.header.Get("ETag") {
		t.Errorf("ETag differs between encodings")
	}
	no := w.do("GET", tilePath(tiles.LayerWards, tile), nil, map[string]string{"Accept-Encoding": "gzip;q=0"})
	if no.header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 got Content-Encoding %q", no.header.Get("Content-Encoding"))
	}
	head := w.do("HEAD", tilePath(tiles.LayerWards, tile), nil, nil)
	if head.status != http.StatusOK || len(head.body) != 0 || head.header.Get("ETag") == "" {
		t.Errorf("HEAD: %d, %d bytes", head.status, len(head.body))
	}
	// An empty tile (assets below their minzoom) is a 200 with no body.
	empty := w.get(tilePath(tiles.LayerAssets, tile))
	if empty.status != http.StatusOK || len(empty.body) != 0 {
		t.Errorf("empty tile: %d, %d bytes", empty.status, len(empty.body))
	}
	assetsTile := w.get(tilePath(tiles.LayerAssets, maptile.At(w.inside, 17)))
	if len(tileIDs(t, assetsTile.body, "id")) == 0 {
		t.Errorf("no asset in the z17 tile around a streetlight")
	}
}

func TestTileJSONEndpoint(t *testing.T) {
	w := newTileWorld(t)
	for _, layer := range tiles.Layers() {
		res := w.get("/tiles/" + layer + ".json")
		if res.status != http.StatusOK {
			t.Fatalf("%s.json: %d %s", layer, res.status, res.body)
		}
		var tj struct {
			Tiles        []string              `json:"tiles"`
			Bounds       []float64             `json:"bounds"`
			Center       []float64             `json:"center"`
			MinZoom      *int                  `json:"minzoom"`
			MaxZoom      int                   `json:"maxzoom"`
			VectorLayers []struct{ ID string } `json:"vector_layers"`
		}
		mustJSON(t, res.body, &tj)
		want := w.srv.URL + "/tiles/" + layer + "/{z}/{x}/{y}.mvt"
		if len(tj.Tiles) != 1 || tj.Tiles[0] != want || len(tj.Bounds) != 4 || len(tj.Center) != 3 || tj.MinZoom == nil ||
			tj.MaxZoom != tiles.MaxZoom || len(tj.VectorLayers) != 1 || tj.VectorLayers[0].ID != layer {
			t.Errorf("%s.json: %s", layer, res.body)
		}
		if !(tj.Bounds[0] < w.inside[0] && w.inside[0] < tj.Bounds[2] && tj.Bounds[1] < w.inside[1] && w.inside[1] < tj.Bounds[3]) {
			t.Errorf("%s.json: bounds %v do not hold the town", layer, tj.Bounds)
		}
	}

	// Every property of a real cell is a field TileJSON lists by its name.
	w.submit(w.pothole())
	for _, layer := range []string{tiles.LayerRequests, tiles.LayerClusters} {
		var tj struct {
			VectorLayers []struct {
				Fields map[string]string `json:"fields"`
			} `json:"vector_layers"`
		}
		mustJSON(t, w.get("/tiles/"+layer+".json").body, &tj)
		res := w.get(tilePath(layer, maptile.At(w.inside, 10)))
		ls, err := mvt.Unmarshal(res.body)
		if err != nil || len(ls) == 0 || len(ls[0].Features) == 0 {
			t.Fatalf("%s z10 tile: %d features, %v", layer, len(ls), err)
		}
		for _, f := range ls[0].Features {
			if f.Properties["aggregate"] != true || f.Properties["service_pothole"] == nil || f.Properties["status_new"] == nil {
				t.Errorf("%s z10 cell: %v, want an aggregate with service_pothole and status_new", layer, f.Properties)
			}
			for k := range f.Properties {
				if _, ok := tj.VectorLayers[0].Fields[k]; !ok {
					t.Errorf("%s: a cell has %q, which TileJSON does not list", layer, k)
				}
			}
		}
	}
}

func TestTileErrors(t *testing.T) {
	w := newTileWorld(t)
	for _, c := range []struct {
		method, path string
		status       int
		kind, field  string
	}{
		{"GET", "/tiles/roads/1/0/0.mvt", 404, "not_found", "layer"},
		{"GET", "/tiles/wards/1/0/0.pbf", 400, "invalid", "format"},
		{"GET", "/tiles/wards/1/0/0.png", 400, "invalid", "format"},
		{"GET", "/tiles/wards/23/0/0.mvt", 400, "invalid", "z"},
		{"GET", "/tiles/wards/99999999999/0/0.mvt", 400, "invalid", "z"},
		{"GET", "/tiles/wards/x/0/0.mvt", 400, "invalid", "z"},
		{"GET", "/tiles/wards/2/4/0.mvt", 400, "invalid", "x"},
		{"GET", "/tiles/wards/2/0/-1.mvt", 400, "invalid", "y"},
		{"GET", "/tiles/wards/2/0/1.5.mvt", 400, "invalid", "format"},
		{"GET", "/tiles/roads.json", 404, "not_found", "layer"},
		{"GET", "/tiles/wards.xml", 400, "invalid", "format"},
		{"GET", "/tiles/wards/2/0/0", 404, "not_found", ""},
		{"POST", "/tiles/wards/2/0/0.mvt", 405, "method_not_allowed", ""},
	} {
		t.Run(strings.TrimPrefix(c.path, "/tiles/"), func(t *testing.T) {
			res := w.do(c.method, c.path, nil, map[string]string{"Accept-Language": "fr-CA"})
			if c.path == "/tiles/wards.xml" {
				// The .xml extension makes the error XML, as everywhere in the API.
				if !strings.HasPrefix(res.header.Get("Content-Type"), "application/xml") {
					t.Errorf("Content-Type %q", res.header.Get("Content-Type"))
				}
			}
			e := checkError(t, res, c.status)
			if e.Kind != c.kind || e.Field != c.field || e.Description != e.DescriptionFr {
				t.Errorf("%s %s: %+v", c.method, c.path, e)
			}
		})
	}
}
