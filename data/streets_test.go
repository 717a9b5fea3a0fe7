package data

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/pinward/pinward/basemap"
)

// TestSampleStreets: the bundled streets archive opens, covers the town
// at its zooms, and a street-level tile by a sample streetlight (assets
// stand along the streets) holds roads of both kinds or of one.
func TestSampleStreets(t *testing.T) {
	a, err := basemap.New(bytes.NewReader(SampleStreetsPMTiles()))
	if err != nil {
		t.Fatal(err)
	}
	info := a.Info()
	if info.MinZoom != StreetsMinZoom || info.MaxZoom != StreetsMaxZoom {
		t.Errorf("zooms %d-%d", info.MinZoom, info.MaxZoom)
	}
	c := mustGenerate(t, SampleConfig())
	var light orb.Point
	for _, as := range c.Assets {
		if as.Type == "streetlight" {
			light = as.Point
			break
		}
	}
	tile := maptile.At(light, StreetsMaxZoom)
	data, gz, err := a.Tile(uint8(tile.Z), tile.X, tile.Y)
	if err != nil || data == nil || !gz {
		t.Fatalf("tile %v: %d bytes, gzipped %v, %v", tile, len(data), gz, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	layers, err := mvt.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	roads := 0
	for _, l := range layers {
		if l.Name == "roads" {
			for _, f := range l.Features {
				if k := f.Properties["kind"]; k != "major_road" && k != "minor_road" {
					t.Errorf("road kind %v", k)
				}
				roads++
			}
		}
	}
	if roads == 0 {
		t.Errorf("tile %v by streetlight %v has no road", tile, light)
	}
}
