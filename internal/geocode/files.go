// Package geocode locates points in a municipality: the ward that covers
// each and its nearest asset. It loads the boundary and asset files the
// commands name (the bundled sample municipality by default) and geocodes
// CSV files of points in one pass.
package geocode

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/wards"
)

// Files name a municipality's boundaries and assets.
type Files struct {
	Wards      WardFiles // ward generations; none is the bundled sample
	WardFields string    // ID,NAME_EN[,NAME_FR]
	// Location is the time zone of the generations' first days (the
	// municipality's); nil is UTC.
	Location *time.Location
	// Assets is an asset layer file (.csv or .geojson); "" is the bundled
	// sample's assets when Wards is empty too, else no assets.
	Assets       string
	AssetColumns string // see LoadAssets
}

// Load reads the ward set and asset index the files name. Every error is
// about a file (or the field names); skipped asset rows are reported on
// warn.
func (f Files) Load(warn io.Writer) (*wards.Set, *assets.Index, error) {
	fields, err := wards.ParseFields(f.WardFields)
	if err != nil {
		return nil, nil, fmt.Errorf("--ward-fields: %w", err)
	}
	set, err := f.Wards.Load(fields, f.Location)
	if err != nil {
		return nil, nil, err
	}

	// The sample's assets only make sense with the sample's wards.
	if f.Assets == "" && len(f.Wards) > 0 {
		ix, err := assets.NewIndex(nil)
		return set, ix, err
	}
	assetData, assetName := data.SampleAssetsCSV(), "bundled sample assets"
	if f.Assets != "" {
		if assetData, err = os.ReadFile(f.Assets); err != nil {
			return nil, nil, fmt.Errorf("asset file: %w", err)
		}
		assetName = f.Assets
	}
	list, rowErrs, err := LoadAssets(assetData, f.Assets, f.AssetColumns)
	if err != nil {
		return nil, nil, fmt.Errorf("asset file %s: %w", assetName, err)
	}
	for _, re := range rowErrs {
		fmt.Fprintf(warn, "asset file %s: %v (skipped)\n", assetName, re)
	}
	ix, err := assets.NewIndex(list)
	if err != nil {
		return nil, nil, fmt.Errorf("asset file %s: %w", assetName, err)
	}
	return set, ix, nil
}

// LoadAssets reads an asset file, GeoJSON when name ends in .geojson or
// .json, else CSV. spec names the columns: for CSV as
// assets.ParseCSVFormat reads it (default id,type,lon,lat); for GeoJSON
// only id=PROPERTY and layer=NAME apply.
func LoadAssets(b []byte, name, spec string) ([]assets.Asset, []assets.RowError, error) {
	ext := strings.ToLower(filepath.Ext(name))
	if ext == ".geojson" || ext == ".json" {
		idProp, layerProp, layer := "id", "type", ""
		for _, kv := range strings.Split(spec, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
			switch k {
			case "id":
				idProp = v
			case "layer":
				layerProp, layer = "", v
			case "":
			default:
				return nil, nil, fmt.Errorf("--asset-columns: %q does not apply to GeoJSON (use id= and layer=)", k)
			}
		}
		return assets.LoadGeoJSON(bytes.NewReader(b), idProp, layerProp, layer)
	}
	format := assets.DefaultCSVFormat()
	if spec != "" {
		var err error
		if format, err = assets.ParseCSVFormat(spec); err != nil {
			return nil, nil, fmt.Errorf("--asset-columns: %w", err)
		}
	}
	return assets.LoadCSV(bytes.NewReader(b), format)
}

// LoadLayer reads an asset file as one layer for an import: every asset
// in layer, with its version (the CSV version= column or a GeoJSON
// "version" property) or defaultVersion. Any row error is returned, for
// the caller to refuse the file: an import is a sync, and a silently
// dropped asset would look retired.
func LoadLayer(b []byte, name, columns, layer string, defaultVersion int64) ([]assets.Asset, []assets.RowError, error) {
	spec := columns
	if !strings.Contains(strings.ToLower(spec), "layer=") {
		spec = strings.TrimPrefix(spec+",layer="+layer, ",")
	}
	list, rowErrs, err := LoadAssets(b, name, spec)
	if err != nil || len(rowErrs) > 0 {
		return nil, rowErrs, err
	}
	for i := range list {
		a := &list[i]
		a.Layer = layer
		if v, ok := a.Attrs["version"]; ok && a.Version == 0 { // GeoJSON carries it as a property
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n < 1 {
				return nil, nil, fmt.Errorf("asset %s: version %q is not a whole number of 1 or more", a.ID, v)
			}
			a.Version = n
			delete(a.Attrs, "version")
		}
		if a.Version == 0 {
			a.Version = defaultVersion
		}
		if len(a.Attrs) == 0 {
			a.Attrs = nil
		}
	}
	return list, nil, nil
}
