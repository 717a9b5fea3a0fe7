package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/pinward/pinward/dedup"
	"github.com/pinward/pinward/internal/cli"
)

const clusterHelp = `
Groups duplicate requests. Reads a CSV of requests on stdin whose header
has the columns id, category, created_at, lon and lat (any order, names
case-insensitive, other columns ignored; asset_id too with --same-asset) and
writes id,cluster_id on stdout, one line per good input row, in input order.
cluster_id is the smallest id in the cluster: integer ids compare
numerically and before all others, other ids as strings. Two runs, or
pinward and PostGIS, can be compared line by line.

Two requests are linked when they have the same category (unless --by none),
lie at most --eps metres apart and, with a --window, were created at most
that long apart; or, with --same-asset, name the same asset_id within the
window. Clusters are the connected groups of linked requests (single
linkage): with --window 0 this is exactly PostGIS
ST_ClusterDBSCAN(geom_in_metres, eps, minpoints => 1) OVER (PARTITION BY
category). Metres are measured in a local projection centred on the data.

created_at is RFC 3339, or "YYYY-MM-DD HH:MM:SS" or YYYY-MM-DD without a
zone (read as UTC); it may be left out with --window 0, and category with
--by none.

A bad row (unparseable date, coordinates that are not numbers, NaN, out of
range or swapped, empty or repeated id) is reported on stderr with its line
number and skipped; the summary counts them. A missing column is refused
with exit status 2.
`

func runCluster(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "cluster", "cluster [--eps 50] [--window 0|30d|72h] [--by category|none] [--same-asset] < requests.csv > assignments.csv", clusterHelp)
	eps := fs.Float64("eps", 50, "link distance in `metres`")
	window := fs.String("window", "0", "time window: 0 for none, or a `duration` in days (30d) or Go units (72h, 90m)")
	by := fs.String("by", "category", "partition requests by `category`, or none to cluster all together")
	sameAsset := fs.Bool("same-asset", false, "also link requests naming the same asset_id (column required)")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	rule := dedup.Rule{Distance: *eps, SameAsset: *sameAsset}
	if math.IsNaN(rule.Distance) || math.IsInf(rule.Distance, 0) || rule.Distance < 0 {
		return usageErrorf("--eps must be a finite number of metres ≥ 0")
	}
	var err error
	if rule.Window, err = parseWindow(*window); err != nil {
		return usageErrorf("--window: %v", err)
	}
	if *by != "category" && *by != "none" {
		return usageErrorf("--by must be category or none, not %q", *by)
	}
	return clusterCSV(ctx, env, rule, *by == "none")
}

func clusterCSV(ctx context.Context, env Env, rule dedup.Rule, byNone bool) error {
	start := time.Now()
	// Up to 100 skipped-row messages; the summary counts every bad row.
	bad := cli.BadRows{W: env.Stderr, Max: 100}
	sum, err := dedup.ClusterCSV(ctx, env.Stdin, env.Stdout, rule, dedup.CSVOptions{
		NoCategory: byNone, Window: rule.Window > 0, SameAsset: rule.SameAsset,
		Progress: cli.NewProgress(env.Stderr, "cluster: reading").Tick, Bad: bad.Skip,
	})
	if errors.Is(err, dedup.ErrCSVInput) {
		return usageError{err}
	} else if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "cluster: %d requests, %d clusters, duplicate share %.1f%% (%d requests joined an earlier cluster), %d bad rows skipped, %.2f s (clustering %.2f s)\n",
		sum.Requests, sum.Clusters, sum.DuplicateShare(), sum.Requests-sum.Clusters, bad.N, time.Since(start).Seconds(), sum.Clustering.Seconds())
	return nil
}
