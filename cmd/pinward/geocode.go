package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/wards"
)

const geocodeHelp = `
Reads a CSV of points on stdin (a header with id, lon and lat; other columns
are ignored) and writes id,ward_id,asset_id,asset_distance_m on stdout, one
line per good input row in input order. ward_id is empty outside every ward;
the asset columns are empty when no asset lies within the radius. Without
--wards and --assets the bundled sample municipality is used.

A bad row is reported on stderr with its line number and skipped. A boundary
or asset file that cannot be used is refused with exit status 2.
`

// spatialFlags are the flags that choose the boundaries and assets, shared by
// geocode and bench geocode.
type spatialFlags struct {
	wardsFile, wardFields   string
	assetsFile, assetFormat string
}

func (sf *spatialFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&sf.wardsFile, "wards", "", "ward boundaries `GeoJSON` (default: the bundled sample)")
	fs.StringVar(&sf.wardFields, "ward-fields", "id,name_en,name_fr", "ward property names: `ID,NAME_EN[,NAME_FR]` (e.g. WARD,NAME,NAME_FR for Ottawa)")
	fs.StringVar(&sf.assetsFile, "assets", "", "asset layer `file`, .csv or .geojson (default: the bundled sample's assets when --wards is not given, else none)")
	fs.StringVar(&sf.assetFormat, "asset-columns", "", "asset CSV columns, e.g. `id=ENTITEID,wkt=GEOM,layer=hydrant` (default id,type,lon,lat); for GeoJSON only id= and layer= apply")
}

// load reads the ward set and asset index the flags name. Problems with the
// files are usage errors (exit 2); skipped asset rows are reported on stderr.
func (sf *spatialFlags) load(env Env) (*wards.Set, *assets.Index, error) {
	fields, err := wards.ParseFields(sf.wardFields)
	if err != nil {
		return nil, nil, usageErrorf("--ward-fields: %v", err)
	}
	wardData, wardName := data.SampleWardsGeoJSON(), "bundled sample wards"
	if sf.wardsFile != "" {
		if wardData, err = os.ReadFile(sf.wardsFile); err != nil {
			return nil, nil, usageErrorf("boundary file: %v", err)
		}
		wardName = sf.wardsFile
	}
	ws, err := wards.LoadGeoJSON(bytes.NewReader(wardData), fields)
	if err != nil {
		return nil, nil, usageErrorf("boundary file %s: %v", wardName, err)
	}
	gen, err := wards.NewGeneration(ws, time.Time{}, time.Time{})
	if err != nil {
		return nil, nil, usageErrorf("boundary file %s: %v", wardName, err)
	}
	set, err := wards.NewSet(gen)
	if err != nil {
		return nil, nil, usageErrorf("boundary file %s: %v", wardName, err)
	}

	// The sample's assets only make sense with the sample's wards.
	if sf.assetsFile == "" && sf.wardsFile != "" {
		ix, err := assets.NewIndex(nil)
		return set, ix, err
	}
	assetData, assetName := data.SampleAssetsCSV(), "bundled sample assets"
	if sf.assetsFile != "" {
		if assetData, err = os.ReadFile(sf.assetsFile); err != nil {
			return nil, nil, usageErrorf("asset file: %v", err)
		}
		assetName = sf.assetsFile
	}
	list, rowErrs, err := loadAssets(assetData, sf.assetsFile, sf.assetFormat)
	if err != nil {
		return nil, nil, usageErrorf("asset file %s: %v", assetName, err)
	}
	for _, re := range rowErrs {
		fmt.Fprintf(env.Stderr, "asset file %s: %v (skipped)\n", assetName, re)
	}
	ix, err := assets.NewIndex(list)
	if err != nil {
		return nil, nil, usageErrorf("asset file %s: %v", assetName, err)
	}
	return set, ix, nil
}

func loadAssets(b []byte, name, spec string) ([]assets.Asset, []assets.RowError, error) {
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

func runGeocode(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "geocode", "geocode [--wards F] [--assets F] [--radius 50] [--at DATE] < points.csv > out.csv", geocodeHelp)
	var sf spatialFlags
	sf.register(fs)
	radius := fs.Float64("radius", 50, "asset search radius in `metres`")
	layers := fs.String("layers", "", "comma-separated asset `layers` to consider (default: all)")
	atFlag := fs.String("at", "", "`date` (YYYY-MM-DD or RFC 3339) whose ward boundaries apply (default: now)")
	inCols := fs.String("columns", "id=id,lon=lon,lat=lat", "input column `names`, e.g. id=srnumber,lon=longitude,lat=latitude")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if !(*radius >= 0) {
		return usageErrorf("--radius must be a non-negative number of metres")
	}
	at := time.Now()
	if *atFlag != "" {
		var err error
		if at, err = parseTime(*atFlag); err != nil {
			return usageErrorf("--at: %v", err)
		}
	}
	var layerList []string
	if *layers != "" {
		layerList = strings.Split(*layers, ",")
	}
	set, ix, err := sf.load(env)
	if err != nil {
		return err
	}
	names, err := columnNames(*inCols, "id", "lon", "lat")
	if err != nil {
		return usageErrorf("--columns: %v", err)
	}
	return geocodeCSV(ctx, env, set, ix, at, *radius, layerList, names)
}

// columnNames parses "key=column,..." for the given keys; keys not named keep
// their own name as column name.
func columnNames(spec string, keys ...string) (map[string]string, error) {
	names := map[string]string{}
	for _, k := range keys {
		names[k] = k
	}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if _, known := names[k]; !ok || !known || v == "" {
			return nil, fmt.Errorf("%q is not KEY=COLUMN with KEY one of %s", kv, strings.Join(keys, ", "))
		}
		names[k] = v
	}
	return names, nil
}

func geocodeCSV(ctx context.Context, env Env, set *wards.Set, ix *assets.Index, at time.Time, radius float64, layers []string, names map[string]string) error {
	in := csv.NewReader(env.Stdin)
	in.FieldsPerRecord = -1
	in.ReuseRecord = true
	header, err := in.Read()
	if err != nil {
		return usageErrorf("reading the CSV header: %v", err)
	}
	cols, err := columnsAs(header, names, "id", "lon", "lat")
	if err != nil {
		return usageError{err}
	}
	out := csv.NewWriter(env.Stdout)
	if err := out.Write([]string{"id", "ward_id", "asset_id", "asset_distance_m"}); err != nil {
		return err
	}
	var area orb.Bound
	if g := set.Current(at); g != nil {
		area = g.Bound()
	}
	prog := newProgress(env.Stderr, "geocode")
	var good, bad, located int
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := in.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := in.FieldPos(0)
		if err != nil {
			fmt.Fprintf(env.Stderr, "line %d: %v (skipped)\n", line, err)
			bad++
			continue
		}
		id, p, err := pointRow(rec, cols)
		if err != nil {
			fmt.Fprintf(env.Stderr, "line %d: %v (skipped)\n", line, err)
			bad++
			continue
		}
		if geo.LooksSwapped(p, area) {
			fmt.Fprintf(env.Stderr, "line %d: id %s: lon %g, lat %g lies outside the municipality, but inside it with longitude and latitude swapped (skipped)\n", line, id, p[0], p[1])
			bad++
			continue
		}
		row := []string{id, "", "", ""}
		if w, ok := set.Locate(p, at); ok {
			row[1] = w.ID
			located++
		}
		if a, d, ok := ix.Nearest(p, radius, layers...); ok {
			row[2], row[3] = a.ID, strconv.FormatFloat(d, 'f', 2, 64)
		}
		if err := out.Write(row); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
		good++
		prog.tick(good)
	}
	out.Flush()
	if err := out.Error(); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	fmt.Fprintf(env.Stderr, "geocode: %d points, %d in a ward, %d outside, %d bad rows skipped\n", good, located, good-located, bad)
	return nil
}

// columnsAs finds the columns for keys in a CSV header, under the names
// given (a key missing from names is its own column name).
func columnsAs(header []string, names map[string]string, keys ...string) (map[string]int, error) {
	idx := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := idx[h]; !dup {
			idx[h] = i
		}
	}
	cols := map[string]int{}
	for _, k := range keys {
		n := k
		if v, ok := names[k]; ok {
			n = v
		}
		i, ok := idx[strings.ToLower(n)]
		if !ok {
			return nil, fmt.Errorf("the CSV header has no %q column (it has: %s)", n, strings.Join(header, ","))
		}
		cols[k] = i
	}
	return cols, nil
}

func field(rec []string, cols map[string]int, name string) (string, error) {
	i := cols[name]
	if i >= len(rec) {
		return "", fmt.Errorf("row has %d fields, no %s", len(rec), name)
	}
	return strings.TrimSpace(rec[i]), nil
}

func pointRow(rec []string, cols map[string]int) (string, orb.Point, error) {
	id, err := field(rec, cols, "id")
	if err != nil {
		return "", orb.Point{}, err
	}
	if id == "" {
		return "", orb.Point{}, errors.New("empty id")
	}
	var p orb.Point
	for i, name := range []string{"lon", "lat"} {
		s, err := field(rec, cols, name)
		if err != nil {
			return id, p, err
		}
		if p[i], err = strconv.ParseFloat(s, 64); err != nil {
			return id, p, fmt.Errorf("id %s: %s %q is not a number", id, name, s)
		}
	}
	if err := geo.ValidatePoint(p); err != nil {
		return id, p, fmt.Errorf("id %s: %w", id, err)
	}
	return id, p, nil
}

// parseTime accepts a date (YYYY-MM-DD, midnight UTC), RFC 3339, or
// "YYYY-MM-DD HH:MM:SS" (UTC).
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD), RFC 3339 time or YYYY-MM-DD HH:MM:SS", s)
}
