package data

import (
	"bytes"
	_ "embed"
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
)

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
