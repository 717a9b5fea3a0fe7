package api_test

import (
	"bytes"
	"testing"

	"github.com/paulmach/orb"

	"github.com/pinward/pinward/assets"
)

// One GeoJSON rule for the asset file importer and PUT /api/v1/assets: a
// MultiPoint of exactly one point is that point in both; one of two points
// is refused by both.
func TestAssetsMultiPointRuleShared(t *testing.T) {
	one := `{"type":"FeatureCollection","features":[
{"type":"Feature","id":"M1","properties":{"kind":"plug","n":2.0},"geometry":{"type":"MultiPoint","coordinates":[[-73.06,46.03]]}}]}`
	two := `{"type":"FeatureCollection","features":[
{"type":"Feature","id":"M2","properties":{},"geometry":{"type":"MultiPoint","coordinates":[[-73.06,46.03],[-73.07,46.04]]}}]}`

	file, rowErrs, err := assets.LoadGeoJSON(bytes.NewReader([]byte(one)), "", "", "hydrant")
	if err != nil || len(rowErrs) != 0 || len(file) != 1 {
		t.Fatalf("file importer, one point: %v, %v, %v", file, rowErrs, err)
	}
	if _, rowErrs, _ := assets.LoadGeoJSON(bytes.NewReader([]byte(two)), "", "", "hydrant"); len(rowErrs) != 1 {
		t.Errorf("file importer took a MultiPoint of two points: %v", rowErrs)
	}

	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			w := newAssetWorld(t, b.open(t), false, false)
			var up upserted
			w.decode(w.put("hydrant", "application/geo+json", []byte(one), w.key), 200, &up)
			got, ok := w.follower.Index().Get("hydrant", "M1")
			if !ok || got.Point != (orb.Point{-73.06, 46.03}) || got.Point != file[0].Point {
				t.Fatalf("PUT of a one-point MultiPoint: index has %+v, %v", got, ok)
			}
			// The same attribute rule as the file importer.
			if got.Attrs["kind"] != file[0].Attrs["kind"] || got.Attrs["n"] != "2" || file[0].Attrs["n"] != "2" {
				t.Errorf("attributes: API %v, file %v; want kind=plug n=2 in both", got.Attrs, file[0].Attrs)
			}
			if res := w.put("hydrant", "application/geo+json", []byte(two), w.key); res.status != 400 {
				t.Errorf("PUT of a two-point MultiPoint: status %d, want 400: %s", res.status, res.body)
			}
		})
	}
}
