package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/dedup"
	"github.com/pinward/pinward/internal/pgtest"
)

// syntheticCity generates the synthetic city with n requests.
func syntheticCity(t testing.TB, n int) *data.City {
	t.Helper()
	cfg := data.DefaultCityConfig()
	cfg.Requests = n
	city, err := data.GenerateCity(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return city
}

func cityReports(city *data.City) []dedup.Report {
	rs := make([]dedup.Report, len(city.Requests))
	for i, r := range city.Requests {
		rs[i] = dedup.Report{ID: r.ID, Category: r.Category, CreatedAt: r.CreatedAt, Point: r.Point, AssetID: r.AssetID}
	}
	return rs
}

// TestClusterMatchesPostGIS checks, on 100,000 synthetic requests, that
// batch clustering without a window gives exactly the partition of
// ST_ClusterDBSCAN(geom_m, eps, minpoints => 1) OVER (PARTITION BY
// category), geom_m being pinward's projected metres (see loadDBSCAN).
func TestClusterMatchesPostGIS(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 requests through PostGIS: not in -short")
	}
	url := pgtest.URL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	reports := cityReports(syntheticCity(t, 100_000))
	pj := dedup.FitProjection(reports)
	byCategory := func(c string) string { return c }
	if err := loadDBSCAN(ctx, conn, reports, byCategory, pj); err != nil {
		t.Fatal(err)
	}
	for _, eps := range []float64{5, 30, 80} {
		ours, err := dedup.ClusterIn(reports, dedup.Rules{Default: dedup.Rule{Distance: eps}}, pj)
		if err != nil {
			t.Fatal(err)
		}
		theirs, query, err := queryDBSCAN(ctx, conn, reports, byCategory, eps)
		if err != nil {
			t.Fatal(err)
		}
		diffs, clusters := comparePartitions(ours, theirs)
		if len(diffs) > 0 {
			t.Fatalf("eps %g: %d requests differ, first: %s", eps, len(diffs), diffs[0])
		}
		t.Logf("eps %g m: %d requests, %d clusters, identical to ST_ClusterDBSCAN (%.2f s)", eps, len(reports), clusters, query.Seconds())
	}
}

// TestBenchCluster runs `pinward bench cluster` on a small city.
func TestBenchCluster(t *testing.T) {
	url := pgtest.URL(t)
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	if err := benchCluster(context.Background(), env, []string{"--requests", "20000", "--eps", "30", "--db", url, "--runs", "1"}); err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errb.String())
	}
	for _, want := range []string{"20000 requests", "pinward", "PostGIS", "ratio", "partitions identical"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	t.Log("\n" + out.String())
}
