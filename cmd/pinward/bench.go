package main

import (
	"context"
	"fmt"
	"os"
	"strings"
)

const benchHelp = `
Measures pinward against PostGIS on the same data in the same run, and checks
that both give the same answers. Modes:

  geocode   ward lookup and nearest asset for N points (default 100,000)
  cluster   batch duplicate clustering against ST_ClusterDBSCAN
  intake    Open311 POST throughput and latency on loopback, for each store
  assets    asset upsert throughput (features/s) through PUT /api/v1/assets, for each store
  workorders  work-order delivery to a local webhook (work orders/s), for each store
  tiles     vector tiles (requests, clusters) against ST_AsMVT, zooms 12-16
  report    the council report by ward against one SQL GROUP BY

Each mode has its own flags: pinward bench MODE --help.
`

func runBench(ctx context.Context, env Env, args []string) error {
	modes := map[string]func(context.Context, Env, []string) error{
		"geocode":    benchGeocode,
		"intake":     benchIntake,
		"cluster":    benchCluster,
		"assets":     benchAssets,
		"workorders": benchWorkOrders,
		"tiles":      benchTiles,
		"report":     benchReport,
	}
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprintf(env.Stdout, "Usage: pinward bench MODE [flags]\n%s", benchHelp)
		if len(args) == 0 {
			return usageErrorf("bench needs a mode")
		}
		return nil
	}
	run, ok := modes[args[0]]
	if !ok {
		return usageErrorf("unknown bench mode %q (see pinward bench --help)", args[0])
	}
	return run(ctx, env, args[1:])
}

// databaseURL is the PostGIS to measure against: --db, else the environment
// that make test / make bench set up.
func databaseURL(env Env, flagValue string) (string, error) {
	for _, v := range []string{flagValue, env.Getenv("PINWARD_DATABASE_URL"), env.Getenv("PINWARD_TEST_DATABASE_URL")} {
		if v != "" {
			return v, nil
		}
	}
	return "", usageErrorf("no PostGIS to compare with: pass --db postgres://... or set PINWARD_DATABASE_URL (make bench starts a throwaway one)")
}

// forEachBenchStore opens each store named in the comma-separated list
// (sqlite: a fresh temporary folder; postgis: --db or the environment's
// URL, skipped with a line on stdout when there is none), runs fn on it
// and closes it.
func forEachBenchStore(ctx context.Context, env Env, list, db string, fn func(name string, st appStore) error) error {
	for _, name := range strings.Split(list, ",") {
		var stf storeFlags
		name = strings.TrimSpace(name)
		switch name {
		case "sqlite":
			dir, err := os.MkdirTemp("", "pinward-bench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			stf.dataDir = dir
		case "postgis":
			u, err := databaseURL(env, db)
			if err != nil {
				fmt.Fprintf(env.Stdout, "postgis: skipped (no --db, PINWARD_DATABASE_URL or PINWARD_TEST_DATABASE_URL)\n")
				continue
			}
			stf.db = u
		default:
			return usageErrorf("--stores: unknown store %q (sqlite, postgis)", name)
		}
		st, closeStore, err := stf.open(ctx)
		if err != nil {
			return err
		}
		err = fn(name, st)
		closeStore()
		if err != nil {
			return err
		}
	}
	return nil
}
