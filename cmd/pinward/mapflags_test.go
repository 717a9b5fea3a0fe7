package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinward/pinward/data"
)

// TestServeMapSources: serve draws the sample town's streets by default,
// serves a --basemap file named on the command line (and none for another
// town without one), answers address searches from --addresses, and
// refuses a file it cannot use with exit status 2 before serving.
func TestServeMapSources(t *testing.T) {
	dir := t.TempDir()
	status := func(base, path string) (int, string) {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	vars := func(extra ...string) map[string]string {
		v := map[string]string{"PINWARD_DATA_DIR": filepath.Join(t.TempDir(), "var"), "PINWARD_ADDR": "127.0.0.1:0", "PINWARD_LOG_LEVEL": "warn"}
		for i := 0; i+1 < len(extra); i += 2 {
			v[extra[i]] = extra[i+1]
		}
		return v
	}

	sample := startServeForBrowser(t, vars())
	if code, body := status(sample, "/basemap/tiles.json"); code != 200 || !strings.Contains(body, `"maxzoom":16`) {
		t.Errorf("sample streets: %d %s", code, body)
	}
	if code, _ := status(sample, "/api/v1/addresses?q=main"); code != 404 {
		t.Errorf("address search without --addresses: %d", code)
	}

	streets := filepath.Join(dir, "streets.pmtiles")
	wards := filepath.Join(dir, "wards.geojson")
	addrs := filepath.Join(dir, "addresses.geojson")
	for name, body := range map[string][]byte{
		streets: data.SampleStreetsPMTiles(),
		wards:   data.SampleWardsGeoJSON(),
		addrs:   []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"addr:housenumber":"7","addr:street":"Rue Principale"},"geometry":{"type":"Point","coordinates":[-73.07,46.03]}}]}`),
	} {
		if err := os.WriteFile(name, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	other := startServeForBrowser(t, vars("PINWARD_WARDS", wards))
	if code, _ := status(other, "/basemap/tiles.json"); code != 404 {
		t.Errorf("a town of its own without --basemap serves the sample streets: %d", code)
	}
	named := startServeForBrowser(t, vars("PINWARD_WARDS", wards, "PINWARD_BASEMAP", streets, "PINWARD_ADDRESSES", addrs))
	if code, _ := status(named, "/basemap/tiles.json"); code != 200 {
		t.Errorf("--basemap: %d", code)
	}
	if code, body := status(named, "/api/v1/addresses?q=7+princ"); code != 200 || !strings.Contains(body, `"label":"7 Rue Principale"`) {
		t.Errorf("--addresses: %d %s", code, body)
	}
	if _, page := status(named, "/"); !strings.Contains(page, `"addresses":true`) || !strings.Contains(page, `"basemap_layers"`) {
		t.Error("the page is not told of the basemap and the address search")
	}

	bad := filepath.Join(dir, "bad.pmtiles")
	os.WriteFile(bad, bytes.Repeat([]byte("x"), 300), 0o644)
	for _, args := range [][]string{{"--basemap", bad}, {"--basemap", filepath.Join(dir, "missing.pmtiles")}, {"--addresses", filepath.Join(dir, "a.xlsx")}} {
		env, _, errb := testEnv(vars())
		if code := Main(t.Context(), append([]string{"serve"}, args...), env); code != 2 {
			t.Errorf("serve %v: exit %d, want 2: %s", args, code, errb)
		}
	}
}
