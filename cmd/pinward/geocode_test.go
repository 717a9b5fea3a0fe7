package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
)

// run calls Main in-process, as the shell would.
func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code = Main(context.Background(), args, env)
	return code, out.String(), errb.String()
}

func TestGeocodeBundledSample(t *testing.T) {
	// A pin on a sample asset, one far away, and bad rows.
	a := sampleAsset(t)
	in := "lat,id,lon,extra\n" +
		fmt.Sprintf("%v,centre,%v,x\n", a.Point[1], a.Point[0]) +
		"45.0,far,-60.0,x\n" +
		"abc,bad1,-73.1,x\n" +
		"NaN,bad2,-73.1,x\n" +
		"-73.1,swapped,46.05,x\n"
	code, out, errOut := run(t, in, "geocode")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "id,ward_id,asset_id,asset_distance_m" {
		t.Fatalf("header %v", rows[0])
	}
	if len(rows) != 3 {
		t.Fatalf("want 2 result rows, got %v", rows)
	}
	if rows[1][0] != "centre" || rows[1][1] == "" || rows[1][2] != a.ID || rows[1][3] != "0.00" {
		t.Errorf("centre row %v: want a ward and asset %s at 0.00 m", rows[1], a.ID)
	}
	if rows[2][0] != "far" || rows[2][1] != "" || rows[2][2] != "" {
		t.Errorf("far row %v: want no ward and no asset", rows[2])
	}
	for _, want := range []string{"line 4:", "line 5:", "not a finite number", "line 6:", "swapped", "2 points, 1 in a ward, 1 outside, 3 bad rows skipped"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

// sampleAsset returns an asset of the bundled sample: assets stand inside
// wards, so a pin on one has a ward and that asset at 0 m.
func sampleAsset(t *testing.T) assets.Asset {
	t.Helper()
	list, _, err := assets.LoadCSV(bytes.NewReader(data.SampleAssetsCSV()), assets.DefaultCSVFormat())
	if err != nil || len(list) == 0 {
		t.Fatalf("sample assets: %d, %v", len(list), err)
	}
	return list[len(list)/2]
}

func TestGeocodeHelp(t *testing.T) {
	code, out, _ := run(t, "", "geocode", "--help")
	if code != 0 || !strings.Contains(out, "Usage: pinward geocode") || !strings.Contains(out, "-radius") {
		t.Fatalf("--help: exit %d\n%s", code, out)
	}
	if code, _, _ := run(t, "", "geocode", "--nope"); code != 2 {
		t.Fatalf("unknown flag: exit %d, want 2", code)
	}
}

func TestGeocodeBadBoundaryFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "wards.geojson")
	os.WriteFile(bad, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"1","name_en":"One","name_fr":"Un"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}]}`), 0o644)
	code, _, errOut := run(t, "id,lon,lat\n", "geocode", "--wards", bad)
	if code != 2 || !strings.Contains(errOut, "intersects itself") {
		t.Fatalf("exit %d, stderr %q; want 2 and the reason", code, errOut)
	}
	code, _, errOut = run(t, "id,lon,lat\n", "geocode", "--wards", filepath.Join(dir, "missing.geojson"))
	if code != 2 || !strings.Contains(errOut, "missing.geojson") {
		t.Fatalf("missing file: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = run(t, "name,lon,lat\n", "geocode")
	if code != 2 || !strings.Contains(errOut, `no "id" column`) {
		t.Fatalf("missing column: exit %d, stderr %q", code, errOut)
	}
}
