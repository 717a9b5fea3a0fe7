package data

import (
	"bytes"
	"testing"
)

// TestSampleUpToDate regenerates the sample town and compares it with the
// embedded files, so a generator change cannot silently leave a stale
// sample behind.
func TestSampleUpToDate(t *testing.T) {
	c := mustGenerate(t, SampleConfig())
	var wards, assets bytes.Buffer
	if err := c.WriteWardsGeoJSON(&wards); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteAssetsCSV(&assets); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wards.Bytes(), SampleWardsGeoJSON()) {
		t.Error("data/sample/wards.geojson is stale: run `go run ./data/gensample`")
	}
	var streets bytes.Buffer
	if err := c.WriteStreetsPMTiles(&streets); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(streets.Bytes(), SampleStreetsPMTiles()) {
		t.Error("data/sample/streets.pmtiles is stale: run `go run ./data/gensample`")
	}
	if !bytes.Equal(assets.Bytes(), SampleAssetsCSV()) {
		t.Error("data/sample/assets.csv is stale: run `go run ./data/gensample`")
	}
}

func TestSampleParses(t *testing.T) {
	set, err := SampleWards()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := SampleAssets()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(set.Generations()[0].Wards); n < 8 || ix.Len() < 2000 {
		t.Errorf("sample has %d wards and %d assets", n, ix.Len())
	}
	// The copies are the caller's own.
	b := SampleWardsGeoJSON()
	b[0] = 'x'
	if SampleWardsGeoJSON()[0] != '{' {
		t.Error("SampleWardsGeoJSON returns shared memory")
	}
}
