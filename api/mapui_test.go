package api_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/pinward/pinward/addresses"
	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/basemap"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/requests"
)

// mapSources are the sample town's streets and a small address file, for
// the servers of the api tests.
func mapSources(t *testing.T) (*basemap.Archive, *addresses.Index) {
	t.Helper()
	bm, err := basemap.New(bytes.NewReader(data.SampleStreetsPMTiles()))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "addresses.csv")
	os.WriteFile(file, []byte("civic_number,street_name,longitude,latitude\n1265,Walkley Rd,-75.6588,45.3734\n60,Rue de la Futaie,-75.68749,45.486385\n"), 0o644)
	ad, _, err := addresses.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return bm, ad
}

// mapServer serves the sample town's streets and a small address file.
func mapServer(t *testing.T) string {
	t.Helper()
	w := newWorld(t, backends[0].open(t))
	bm, ad := mapSources(t)
	cat, _ := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
	set, _ := data.SampleWards()
	svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: cat, Wards: set, Store: w.store})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{Service: svc, Keys: w.store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Basemap: bm, Addresses: ad}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func get(t *testing.T, u string, header map[string]string) response {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// The transport would ask for gzip and undo it: ask ourselves.
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: body}
}

// TestBasemap: the sample streets come out of pinward as vector tiles,
// gzipped for a client that takes it and plain for one that does not;
// a tile the archive lacks is a 204, a malformed one a bilingual 400.
func TestBasemap(t *testing.T) {
	base := mapServer(t)
	res := get(t, base+"/basemap/tiles.json", nil)
	var tj struct {
		Tiles            []string
		MinZoom, MaxZoom int
		Bounds           [4]float64
	}
	mustJSON(t, res.body, &tj)
	if res.status != 200 || len(tj.Tiles) != 1 || !strings.HasPrefix(tj.Tiles[0], base+"/basemap/") || tj.MaxZoom != data.StreetsMaxZoom {
		t.Fatalf("tiles.json: %d %s", res.status, res.body)
	}
	c := maptile.At(orb.Point{(tj.Bounds[0] + tj.Bounds[2]) / 2, (tj.Bounds[1] + tj.Bounds[3]) / 2}, 15)
	path := fmt.Sprintf("%s/basemap/15/%d/%d.mvt", base, c.X, c.Y)
	gz := get(t, path, map[string]string{"Accept-Encoding": "gzip"})
	plain := get(t, path, nil)
	if gz.status != 200 || gz.header.Get("Content-Encoding") != "gzip" || plain.status != 200 || plain.header.Get("Content-Encoding") != "" {
		t.Fatalf("tile: %d %v / %d %v", gz.status, gz.header, plain.status, plain.header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.body))
	if err != nil {
		t.Fatal(err)
	}
	unz, _ := io.ReadAll(zr)
	if !bytes.Equal(unz, plain.body) {
		t.Error("the gzipped tile and the plain one differ")
	}
	layers, err := mvt.Unmarshal(plain.body)
	if err != nil {
		t.Fatal(err)
	}
	roads := 0
	for _, l := range layers {
		if l.Name == "roads" {
			roads += len(l.Features)
		}
	}
	if roads == 0 {
		t.Errorf("tile at the town's centre has no road: %v", layers)
	}
	if res := get(t, base+"/basemap/15/0/0.mvt", nil); res.status != http.StatusNoContent {
		t.Errorf("a tile in the sea: %d", res.status)
	}
	for _, p := range []string{"/basemap/15/99999/0.mvt", "/basemap/x/0/0.mvt", "/basemap/1/0/0.png", "/basemap/40/0/0.mvt"} {
		checkError(t, get(t, base+p, nil), http.StatusBadRequest)
	}
}

// TestAddressSearch: the address file answers searches; a missing,
// overlong or badly limited search is a bilingual 400.
func TestAddressSearch(t *testing.T) {
	base := mapServer(t)
	res := get(t, base+"/api/v1/addresses?q="+url.QueryEscape("1265 walk"), nil)
	var got []struct {
		Label     string
		Long, Lat float64
	}
	mustJSON(t, res.body, &got)
	if res.status != 200 || len(got) != 1 || got[0].Label != "1265 Walkley Rd" || got[0].Long != -75.6588 {
		t.Fatalf("search: %d %s", res.status, res.body)
	}
	if res := get(t, base+"/api/v1/addresses?q=nowhere", nil); res.status != 200 || strings.TrimSpace(string(res.body)) != "[]" {
		t.Errorf("no match: %d %s", res.status, res.body)
	}
	for _, q := range []string{"", "?q=", "?q=" + strings.Repeat("a", 201), "?q=a&limit=0", "?q=a&limit=21", "?q=a&limit=x"} {
		checkError(t, get(t, base+"/api/v1/addresses"+q, nil), http.StatusBadRequest)
	}
}
