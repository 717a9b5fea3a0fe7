package data

import (
	"bytes"
	_ "embed"
	"fmt"
	"time"

	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/wards"
)

// The bundled sample town, generated from SampleConfig by
// `go run ./data/gensample`; TestSampleUpToDate keeps it from drifting.
var (
	//go:embed sample/wards.geojson
	sampleWards []byte
	//go:embed sample/assets.csv
	sampleAssets []byte
	//go:embed sample/categories.json
	sampleCategories []byte
	//go:embed sample/streets.pmtiles
	sampleStreets []byte
)

// SampleStreetsPMTiles returns the sample town's streets as a PMTiles
// archive (see City.WriteStreetsPMTiles): serve draws them under the maps
// when it runs the sample without --basemap. Each call returns a fresh copy.
func SampleStreetsPMTiles() []byte { return bytes.Clone(sampleStreets) }

// SampleWardsGeoJSON returns the sample town's wards as GeoJSON. Each call
// returns a fresh copy, so callers may modify it.
func SampleWardsGeoJSON() []byte { return bytes.Clone(sampleWards) }

// SampleAssetsCSV returns the sample town's assets as CSV
// (id,type,lon,lat). Each call returns a fresh copy.
func SampleAssetsCSV() []byte { return bytes.Clone(sampleAssets) }

// SampleCategoriesJSON returns the sample town's service catalog (the
// requests package's JSON format: categories, departments, SLAs). It is
// written by hand, not generated. Each call returns a fresh copy.
func SampleCategoriesJSON() []byte { return bytes.Clone(sampleCategories) }

// SampleWards returns the sample town's wards as a set of one generation,
// in force at all times: the fixture the store contract suite and the api
// and command tests share (serve builds the same set from
// SampleWardsGeoJSON through internal/geocode, which takes --ward-fields).
func SampleWards() (*wards.Set, error) {
	ws, err := wards.LoadGeoJSON(bytes.NewReader(sampleWards), wards.DefaultFields())
	if err != nil {
		return nil, fmt.Errorf("sample wards: %w", err)
	}
	gen, err := wards.NewGeneration(ws, time.Time{}, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("sample wards: %w", err)
	}
	return wards.NewSet(gen)
}

// SampleAssets returns the sample town's assets, indexed: the fixture the
// tests share beside SampleWards.
func SampleAssets() (*assets.Index, error) {
	list, rowErrs, err := assets.LoadCSV(bytes.NewReader(sampleAssets), assets.DefaultCSVFormat())
	if err == nil && len(rowErrs) > 0 {
		err = rowErrs[0]
	}
	if err != nil {
		return nil, fmt.Errorf("sample assets: %w", err)
	}
	return assets.NewIndex(list)
}
