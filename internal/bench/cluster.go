package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/dedup"
	"github.com/pinward/pinward/geo"
)

const benchClusterHelp = `
Clusters the same synthetic requests (data.DefaultCityConfig with --requests
requests) with pinward's batch clustering (dedup.ClusterIn, as pinward
cluster --window 0 --by category runs it) and with PostGIS
ST_ClusterDBSCAN(geom, eps, minpoints => 1) OVER (PARTITION BY category),
checks that the two partitions are identical request for request, and prints
the seconds of each and the ratio.

Both sides get the same metres: the points are projected once (the local
projection pinward uses) and PostGIS receives those x, y as plain
geometry(Point) with SRID 0. pinward runs on one core (GOMAXPROCS 1 while
timed); PostGIS runs one query in one backend. Besides wall-clock seconds,
both sides' CPU seconds are shown when the server runs on this machine
(Linux /proc): on a busy machine they are the fairer comparison. pinward's time covers
checking, projecting and clustering the in-memory requests; PostGIS's covers
the query with its rows fetched. Loading the table is timed separately and
not counted.
`

// benchCluster is `pinward bench cluster`; Run dispatches to it.
func benchCluster(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "bench cluster", "bench cluster [--requests 1000000] [--eps 50] [--db URL] [--runs 3]", benchClusterHelp)
	n := fs.Int("requests", 1_000_000, "number of synthetic `requests`")
	eps := fs.Float64("eps", 50, "link distance in `metres`")
	db := fs.String("db", "", "PostgreSQL+PostGIS `URL` (default $PINWARD_DATABASE_URL or $PINWARD_TEST_DATABASE_URL)")
	seed := fs.Int64("seed", 1, "synthetic city `seed`")
	runs := fs.Int("runs", 3, "run each side this many `times` and keep the fastest")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *n < 1 {
		return usageErrorf("--requests must be at least 1")
	}
	if *runs < 1 {
		return usageErrorf("--runs must be at least 1")
	}
	if !(*eps >= 1) {
		return usageErrorf("--eps must be at least 1 metre")
	}
	url, err := databaseURL(env, *db)
	if err != nil {
		return err
	}

	cfg := data.DefaultCityConfig()
	cfg.Requests, cfg.Seed = *n, *seed
	start := time.Now()
	city, err := data.GenerateCity(cfg)
	if err != nil {
		return fmt.Errorf("generating the synthetic city: %w", err)
	}
	reports := make([]dedup.Report, len(city.Requests))
	cats := map[string]bool{}
	for i, r := range city.Requests {
		reports[i] = dedup.Report{ID: r.ID, Category: r.Category, CreatedAt: r.CreatedAt, Point: r.Point}
		cats[r.Category] = true
	}
	fmt.Fprintf(env.Stdout, "dataset: synthetic city (seed %d): %d requests in %d categories, eps %g m, no time window (generated in %.1f s)\n",
		cfg.Seed, len(reports), len(cats), *eps, time.Since(start).Seconds())

	rules := dedup.Rules{Default: dedup.Rule{Distance: *eps}}
	pj := dedup.FitProjection(reports)
	var ours []dedup.Assignment
	ourTime := measure{wall: math.MaxInt64, cpu: math.MaxInt64}
	for range *runs {
		as, m, err := timedCluster(reports, rules, pj)
		if err != nil {
			return err
		}
		ours, ourTime = as, ourTime.best(m)
	}
	fmt.Fprintf(env.Stdout, "pinward  dedup.ClusterIn          %s  (1 core; best of %d)\n", ourTime, *runs)

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connecting to PostGIS: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	fmt.Fprintln(env.Stderr, "bench cluster: loading PostGIS...")
	byCategory := func(c string) string { return c }
	start = time.Now()
	if err := loadDBSCAN(ctx, conn, reports, byCategory, pj); err != nil {
		return err
	}
	load := time.Since(start)
	var backend string // the server process, to read its CPU time when local
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()::text`).Scan(&backend); err != nil {
		return fmt.Errorf("PostGIS backend pid: %w", err)
	}
	var theirs []dedup.Assignment
	theirTime := measure{wall: math.MaxInt64, cpu: math.MaxInt64}
	for range *runs {
		c0, cok := postgresCPU(backend)
		as, wall, err := queryDBSCAN(ctx, conn, reports, byCategory, *eps)
		if err != nil {
			return err
		}
		m := measure{wall: wall, cpu: -1}
		if c1, ok := postgresCPU(backend); cok && ok {
			m.cpu = c1 - c0
		}
		theirs, theirTime = as, theirTime.best(m)
	}
	fmt.Fprintf(env.Stdout, "PostGIS  ST_ClusterDBSCAN         %s  (one backend; best of %d; loading %.1f s not counted)\n", theirTime, *runs, load.Seconds())
	ratio := fmt.Sprintf("%.1fx wall", theirTime.wall.Seconds()/ourTime.wall.Seconds())
	if ourTime.cpu > 0 && theirTime.cpu > 0 {
		ratio += fmt.Sprintf(", %.1fx CPU", theirTime.cpu.Seconds()/ourTime.cpu.Seconds())
	}
	fmt.Fprintf(env.Stdout, "ratio    PostGIS / pinward        %s\n", ratio)

	diffs, clusters := comparePartitions(ours, theirs)
	verdict := "identical"
	if len(diffs) > 0 {
		verdict = "DIFFER"
	}
	fmt.Fprintf(env.Stdout, "clusters %d (duplicate share %.1f%%); partitions %s\n",
		clusters, 100*float64(len(reports)-clusters)/float64(len(reports)), verdict)
	if len(diffs) > 0 {
		for _, d := range diffs[:min(len(diffs), 5)] {
			fmt.Fprintf(env.Stdout, "    %s\n", d)
		}
		return fmt.Errorf("pinward and PostGIS put %d requests in different clusters", len(diffs))
	}
	return nil
}

// measure is one side's time: wall clock, and CPU time when known (-1
// when not). CPU time is what to compare on a busy machine, where other
// processes stretch the wall clock of both sides.
type measure struct{ wall, cpu time.Duration }

// best keeps the faster of two measures, each figure on its own.
func (m measure) best(o measure) measure {
	m.wall = min(m.wall, o.wall)
	if o.cpu < 0 || m.cpu < 0 {
		m.cpu = -1
	} else {
		m.cpu = min(m.cpu, o.cpu)
	}
	return m
}

func (m measure) String() string {
	if m.cpu < 0 {
		return fmt.Sprintf("%8.3f s", m.wall.Seconds())
	}
	return fmt.Sprintf("%8.3f s (CPU %.3f s)", m.wall.Seconds(), m.cpu.Seconds())
}

// timedCluster runs dedup.ClusterIn on one core.
func timedCluster(reports []dedup.Report, rules dedup.Rules, pj geo.Projection) ([]dedup.Assignment, measure, error) {
	runtime.GC() // start from a quiet heap
	prev := runtime.GOMAXPROCS(1)
	c0, cok := processCPU("self")
	start := time.Now()
	as, err := dedup.ClusterIn(reports, rules, pj)
	m := measure{wall: time.Since(start), cpu: -1}
	if c1, ok := processCPU("self"); cok && ok {
		m.cpu = c1 - c0
	}
	runtime.GOMAXPROCS(prev)
	if err != nil {
		return nil, m, fmt.Errorf("clustering: %w", err)
	}
	return as, m, nil
}

// processCPU returns the CPU time all threads of process pid have run, in
// nanoseconds, from Linux's /proc/PID/task/*/schedstat; false elsewhere.
func processCPU(pid string) (time.Duration, bool) {
	tasks, err := os.ReadDir(filepath.Join("/proc", pid, "task"))
	if err != nil {
		return 0, false
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join("/proc", pid, "task", t.Name(), "schedstat"))
		if err != nil {
			continue // the thread ended
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return 0, false
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, false
		}
		sum += time.Duration(ns)
	}
	return sum, true
}

// postgresCPU is processCPU for a PostgreSQL backend, when the server runs
// on this machine (in this PID namespace): the process must be postgres.
func postgresCPU(pid string) (time.Duration, bool) {
	comm, err := os.ReadFile(filepath.Join("/proc", pid, "comm"))
	if err != nil || !strings.HasPrefix(string(comm), "postgres") {
		return 0, false
	}
	return processCPU(pid)
}

// loadDBSCAN loads reports into the temporary table dbscan_pts(k, part,
// geom) of conn's session: k the index in reports, part the partition key
// (part maps a category to it).
//
// To compare like with like, PostGIS gets pinward's metres: each point is
// projected with pj and stored as a plain geometry(Point) with SRID 0, so
// both sides measure the same Euclidean distances on the same float64s.
func loadDBSCAN(ctx context.Context, conn *pgx.Conn, reports []dedup.Report, part func(string) string, pj geo.Projection) error {
	for _, q := range []string{
		`CREATE EXTENSION IF NOT EXISTS postgis`,
		`DROP TABLE IF EXISTS pg_temp.dbscan_in, pg_temp.dbscan_pts`,
		`CREATE TEMP TABLE dbscan_in (k int, part text, x float8, y float8)`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("preparing PostGIS tables: %w", err)
		}
	}
	_, err := conn.CopyFrom(ctx, pgx.Identifier{"dbscan_in"}, []string{"k", "part", "x", "y"},
		pgx.CopyFromSlice(len(reports), func(i int) ([]any, error) {
			m := pj.ToMetres(reports[i].Point)
			return []any{int32(i), part(reports[i].Category), m[0], m[1]}, nil
		}))
	if err != nil {
		return fmt.Errorf("copying requests to PostGIS: %w", err)
	}
	for _, q := range []string{
		`CREATE TEMP TABLE dbscan_pts AS SELECT k, part, ST_MakePoint(x, y) AS geom FROM dbscan_in`,
		`DROP TABLE dbscan_in`,
		`ANALYZE dbscan_pts`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("filling the PostGIS table: %w", err)
		}
	}
	return nil
}

// queryDBSCAN clusters the loaded reports with ST_ClusterDBSCAN(minpoints
// 1) per partition and returns the assignments named as pinward names them
// (smallest ID under dedup.CompareIDs), with the time the query took,
// rows fetched.
func queryDBSCAN(ctx context.Context, conn *pgx.Conn, reports []dedup.Report, part func(string) string, eps float64) ([]dedup.Assignment, time.Duration, error) {
	start := time.Now()
	rows, err := conn.Query(ctx, `
		SELECT k, ST_ClusterDBSCAN(geom, eps => $1, minpoints => 1) OVER (PARTITION BY part)
		FROM dbscan_pts`, eps)
	if err != nil {
		return nil, 0, fmt.Errorf("ST_ClusterDBSCAN query: %w", err)
	}
	cid := make([]int32, len(reports))
	seen := make([]bool, len(reports))
	for rows.Next() {
		var k, c int32
		if err := rows.Scan(&k, &c); err != nil {
			return nil, 0, fmt.Errorf("ST_ClusterDBSCAN result: %w", err)
		}
		if k < 0 || int(k) >= len(reports) || seen[k] {
			return nil, 0, fmt.Errorf("ST_ClusterDBSCAN result: unexpected row %d", k)
		}
		cid[k], seen[k] = c, true
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("ST_ClusterDBSCAN query: %w", err)
	}
	took := time.Since(start)
	for _, ok := range seen {
		if !ok {
			return nil, 0, errors.New("ST_ClusterDBSCAN result: a request is missing")
		}
	}

	// Cluster numbers restart in each partition: name (partition, number)
	// by its smallest ID.
	type key struct {
		part string
		cid  int32
	}
	name := map[key]string{}
	for k, r := range reports {
		kk := key{part(r.Category), cid[k]}
		if cur, ok := name[kk]; !ok || dedup.CompareIDs(r.ID, cur) < 0 {
			name[kk] = r.ID
		}
	}
	as := make([]dedup.Assignment, len(reports))
	for k, r := range reports {
		as[k] = dedup.Assignment{ID: r.ID, ClusterID: name[key{part(r.Category), cid[k]}]}
	}
	return as, took, nil
}

// comparePartitions compares two assignments of the same requests row by
// row, returning the differences and the number of clusters in ours.
func comparePartitions(ours, theirs []dedup.Assignment) (diffs []string, clusters int) {
	for i := range ours {
		if ours[i].ID == ours[i].ClusterID {
			clusters++
		}
		if i >= len(theirs) || ours[i] != theirs[i] {
			var t dedup.Assignment
			if i < len(theirs) {
				t = theirs[i]
			}
			diffs = append(diffs, fmt.Sprintf("request %s: pinward cluster %s, PostGIS cluster %s", ours[i].ID, ours[i].ClusterID, t.ClusterID))
		}
	}
	return diffs, clusters
}
