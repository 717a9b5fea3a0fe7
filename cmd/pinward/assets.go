package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/internal/storeflags"

	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/internal/assetimport"
	"github.com/pinward/pinward/live"
	"github.com/pinward/pinward/requests"
)

const assetsHelp = `
Manages the asset layers in the store (the ones every server sharing the
database answers from and follows within a second).

  pinward assets import --layer L FILE

imports FILE (.csv, or .geojson/.json: a FeatureCollection of points) into
layer L, as PUT /api/v1/assets/L does: by external ID, with versions (the CSV
version= column or a GeoJSON "version" property; else the import time in
microseconds, so a later import of newer data wins). A file with any bad row
is refused whole (exit 2). Assets are written in batches of --batch, each all
or nothing; a stale version (older than the stored one) stops the import at
its batch, and running it again is safe (equal versions are no-ops).
Progress goes to stderr. A new layer name is created by importing it.
`

func runAssets(ctx context.Context, env Env, args []string) error {
	return cli.Subcommands(env, args, "assets import --layer L [flags] FILE", assetsHelp, func(sub string) error {
		if sub == "" {
			fmt.Fprintf(env.Stdout, "Usage: pinward assets import --layer L [flags] FILE\n%s", assetsHelp)
			return usageErrorf("assets needs a subcommand: import")
		}
		return usageErrorf("unknown assets subcommand %q (want import)", sub)
	}, map[string]func([]string) error{"import": func(args []string) error { return runAssetsImport(ctx, env, args) }})
}

func runAssetsImport(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "assets import", "assets import --layer L [--asset-columns SPEC] [--data-dir ./var | --db postgres://...] FILE", assetsHelp)
	layer := fs.String("layer", "", "the asset `layer` to import into (required), e.g. hydrant")
	columns := fs.String("asset-columns", "", "asset CSV columns, e.g. `id=ENTITEID,wkt=GEOM` (default id,lon,lat); for GeoJSON only id= applies")
	tenant := fs.String("tenant", "sample", "the municipality's tenant `id`")
	batch := fs.Int("batch", 5000, "assets per transaction")
	var stf storeflags.Flags
	stf.Register(fs)
	// FILE may come before, between or after the flags (every flag here
	// takes a value), so it is picked out before parsing.
	flagArgs, files := cli.SplitArgs(args)
	if len(files) > 1 {
		return usageErrorf("assets import takes one FILE, not %d", len(files))
	}
	file := ""
	if len(files) == 1 {
		file = files[0]
	}
	if err := stf.Parse(fs, env, flagArgs); err != nil {
		return err
	}
	switch {
	case file == "":
		return usageErrorf("assets import needs a FILE")
	case *layer == "":
		return usageErrorf("--layer is required")
	case *batch < 1:
		return usageErrorf("--batch must be at least 1")
	}
	if err := requests.ValidateLayerName(*layer); err != nil {
		return usageErrorf("--layer: %v", err)
	}
	list, err := assetimport.Read(env.Stderr, file, *columns, *layer, time.Now().UnixMicro())
	if err != nil {
		return err
	}
	st, closeStore, err := stf.Open(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	res, err := assetimport.Import(ctx, st, env.Stderr, *tenant, *layer, list, *batch)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "imported %d assets into layer %s: %d applied, %d unchanged (%.1fs)\n",
		len(list), *layer, res.Applied, res.Unchanged, res.Elapsed.Seconds())
	return nil
}

// assetFlags are serve's asset sync flags.
type assetFlags struct {
	layers  string
	poll    time.Duration
	maxBody int64
}

func (af *assetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&af.layers, "asset-layers", "", "comma-separated asset `layers` PUT /api/v1/assets accepts besides the categories' and the stored ones")
	fs.DurationVar(&af.poll, "change-poll", 0, "how often to read the store's change stream without a wake-up (default 250ms on SQLite, for other processes; 5s on PostGIS, which wakes on NOTIFY)")
	fs.DurationVar(&af.poll, "asset-poll", 0, "the former name of --change-poll")
	fs.Int64Var(&af.maxBody, "asset-max-body", api.DefaultMaxAssetBody, "asset upsert body limit in `bytes`")
}

// pollEvery is the change stream's polling interval.
func (af *assetFlags) pollEvery(postgis bool) time.Duration {
	switch {
	case af.poll > 0:
		return af.poll
	case postgis:
		return 5 * time.Second
	}
	return 250 * time.Millisecond
}

// start loads the store's assets into the index the server answers from
// (seeding the store from fileIx, the bundled sample or --assets, when it
// holds none) and returns the view that keeps it current (register it
// with stream) and the asset API's configuration, which waits for stream
// to apply each of its writes before answering.
func (af *assetFlags) start(ctx context.Context, st requests.Store, fileIx *assets.Index, tenant string, stream *live.Stream, log *slog.Logger) (*live.Assets, api.AssetAPI, error) {
	layers, err := requests.ParseLayerNames(af.layers)
	if err != nil {
		return nil, api.AssetAPI{}, usageErrorf("--asset-layers: %v", err)
	}
	v, err := live.StartAssetsFrom(ctx, st, tenant, fileIx, log)
	if err != nil {
		return nil, api.AssetAPI{}, err
	}
	return v, api.AssetAPI{
		Store:   st,
		Synced:  stream.Sync,
		Layers:  layers,
		MaxBody: af.maxBody,
	}, nil
}
