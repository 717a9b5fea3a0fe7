package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/internal/geocode"
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

func runGeocode(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "geocode", "geocode [--wards F] [--assets F] [--radius 50] [--at DATE] < points.csv > out.csv", geocodeHelp)
	var sf cli.SpatialFlags
	sf.Register(fs)
	radius := fs.Float64("radius", 50, "asset search radius in `metres`")
	layers := fs.String("layers", "", "comma-separated asset `layers` to consider (default: all)")
	atFlag := fs.String("at", "", "`date` (YYYY-MM-DD or RFC 3339) whose ward boundaries apply (default: now)")
	inCols := fs.String("columns", "id=id,lon=lon,lat=lat", "input column `names`, e.g. id=srnumber,lon=longitude,lat=latitude")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	opt := geocode.Options{At: time.Now(), Radius: *radius, Log: env.Stderr, Progress: cli.NewProgress(env.Stderr, "geocode").Tick}
	if !(opt.Radius >= 0) {
		return usageErrorf("--radius must be a non-negative number of metres")
	}
	if *atFlag != "" {
		var err error
		if opt.At, err = cli.ParseTime(*atFlag); err != nil {
			return usageErrorf("--at: %v", err)
		}
	}
	if *layers != "" {
		opt.Layers = strings.Split(*layers, ",")
	}
	set, ix, err := sf.Load(env)
	if err != nil {
		return err
	}
	if opt.Columns, err = geocode.ColumnNames(*inCols, "id", "lon", "lat"); err != nil {
		return usageErrorf("--columns: %v", err)
	}
	err = geocode.CSV(ctx, env.Stdin, env.Stdout, set, ix, opt)
	if errors.Is(err, geocode.ErrInput) {
		return usageError{err}
	}
	return err
}
