package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/dedup"
	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/internal/histimport"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
	"github.com/pinward/pinward/wards"
)

const benchImportHelp = `
Imports N synthetic requests (default 1,000,000; data.DefaultCityConfig)
into PostGIS twice in one run, and prints both times:

  pinward   pinward import's path: the CSV file read and parsed, every row
            located in its ward and at its nearest asset of its category's
            layers within the category's radius (the catalog of the bundled
            sample), clustered (30 m, per category, no time window), then
            COPY into a staging table and one INSERT into requests,
            committed.
  SQL       the same rows loaded by COPY, then assigned in SQL on geometry
            in the city's UTM zone with GiST: ST_Covers for the ward, ST_DWithin
            plus <-> LIMIT 1 for the asset, ST_ClusterDBSCAN(utm, 30, 1) OVER
            (PARTITION BY category) for the clusters, each in one statement,
            committed.

Both read the same wards and assets. It then prints how often the two agree
on the ward and the asset (the projections differ by rounding at borders
and radii), the load average (the machine is shared), and removes its
tenant's rows and its tables.
`

// benchImport is `pinward bench import`.
func benchImport(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "bench import", "bench import [--requests 1000000] [--db URL]", benchImportHelp)
	n := fs.Int("requests", 1_000_000, "number of synthetic `requests`")
	db := fs.String("db", "", "PostgreSQL+PostGIS `URL` (default $PINWARD_DATABASE_URL or $PINWARD_TEST_DATABASE_URL)")
	seed := fs.Int64("seed", 1, "synthetic city `seed`")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *n < 1 {
		return usageErrorf("--requests must be at least 1")
	}
	url, err := databaseURL(env, *db)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "load average at start: %s\n", loadAverage())

	cfg := data.DefaultCityConfig()
	cfg.Requests, cfg.Seed = *n, *seed
	city, err := data.GenerateCity(cfg)
	if err != nil {
		return fmt.Errorf("generating the synthetic city: %w", err)
	}
	var wb, ab bytes.Buffer
	if err := city.WriteWardsGeoJSON(&wb); err != nil {
		return err
	}
	if err := city.WriteAssetsCSV(&ab); err != nil {
		return err
	}
	ws, err := wards.LoadGeoJSON(&wb, wards.DefaultFields())
	if err != nil {
		return err
	}
	list, rowErrs, err := assets.LoadCSV(&ab, assets.DefaultCSVFormat())
	if err != nil || len(rowErrs) > 0 {
		return fmt.Errorf("synthetic assets: %v %v", err, rowErrs)
	}
	gen, err := wards.NewGeneration(ws, time.Time{}, time.Time{})
	if err != nil {
		return err
	}
	set, err := wards.NewSet(gen)
	if err != nil {
		return err
	}
	ix, err := assets.NewIndex(list)
	if err != nil {
		return err
	}
	catalog, err := cli.LoadCatalog("")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "pinward-bench-import")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file, mapping, size, err := writeImportFiles(dir, city)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "dataset: synthetic city (seed %d): %d requests (CSV %.0f MB), %d wards, %d assets\n",
		cfg.Seed, len(city.Requests), float64(size)/(1<<20), len(ws), len(list))

	// pinward.
	st, err := postgis.Open(ctx, url)
	if err != nil {
		return err
	}
	defer st.Close()
	const tenant = "bench-import"
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connecting to PostGIS: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	cleanup := func() error {
		for _, q := range []string{`DELETE FROM requests WHERE tenant_id = $1`, `DELETE FROM changes WHERE tenant_id = $1`} {
			if _, err := conn.Exec(context.WithoutCancel(ctx), q, tenant); err != nil {
				return fmt.Errorf("removing the bench tenant: %w", err)
			}
		}
		_, err := conn.Exec(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS bench_import_raw, bench_import_sql, bench_import_clusters, bench_import_cats`)
		if err != nil {
			return err
		}
		return dropBenchTables(context.WithoutCancel(ctx), conn)
	}
	if err := cleanup(); err != nil {
		return err
	}
	defer cleanup() //nolint:errcheck // best effort on the error path; checked below on success

	m, err := histimport.LoadMapping(mapping)
	if err != nil {
		return err
	}
	var backend string
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()::text`).Scan(&backend); err != nil {
		return err
	}
	server := serverCPU(backend)
	rules := dedup.Rules{Default: dedup.Rule{Distance: 30}}
	self0, _ := processCPU("self")
	srv0, srvOK := server()
	sum, err := histimport.Import(ctx, histimport.Config{Tenant: tenant, Mapping: m, Catalog: catalog, Wards: set,
		Assets: ix, Store: st, Log: io.Discard, Rules: &rules, Chunk: len(city.Requests)}, []string{file})
	if err != nil {
		return err
	}
	self1, selfOK := processCPU("self")
	srv1, _ := server()
	ourCPU := cpuText(self1-self0, selfOK, srv1-srv0, srvOK)
	if sum.Imported != len(city.Requests) {
		return fmt.Errorf("pinward imported %d of %d rows", sum.Imported, len(city.Requests))
	}
	fmt.Fprintf(env.Stdout, "pinward  import, committed       %7.1f s  %8.0f rows/s  %s\n         (read+parse %.1f s, ward+asset %.1f s, cluster %.1f s, COPY+INSERT+commit %.1f s; %d clusters, %d outside)\n",
		sum.Elapsed.Seconds(), float64(sum.Imported)/sum.Elapsed.Seconds(), ourCPU, sum.Read.Seconds(), sum.Geocode.Seconds(),
		sum.Cluster.Seconds(), sum.Store.Seconds(), sum.Clusters, sum.Outside)

	// SQL, in the same run.
	srid := utmSRID(city.Bound.Center())
	if err := loadBenchTables(ctx, conn, ws, list, nil, srid); err != nil {
		return err
	}
	if err := loadCategoryTable(ctx, conn, catalog.Categories()); err != nil {
		return err
	}
	self0, _ = processCPU("self")
	srv0, srvOK = server()
	sqlTime, sqlClusters, steps, err := sqlImport(ctx, conn, city, srid)
	if err != nil {
		return err
	}
	self1, selfOK = processCPU("self")
	srv1, _ = server()
	fmt.Fprintf(env.Stdout, "SQL      COPY + assign, committed %7.1f s  %8.0f rows/s  %s\n         (%s; %d clusters)\n",
		sqlTime.Seconds(), float64(len(city.Requests))/sqlTime.Seconds(), cpuText(self1-self0, selfOK, srv1-srv0, srvOK), steps, sqlClusters)
	fmt.Fprintf(env.Stdout, "ratio    SQL / pinward            %.1fx\n", sqlTime.Seconds()/sum.Elapsed.Seconds())

	var total, sameWard, sameAsset int
	err = conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE r.ward_id = COALESCE(s.ward, '')),
		count(*) FILTER (WHERE r.asset_layer || '/' || r.asset_id = COALESCE(s.asset, '/'))
		FROM requests r JOIN bench_import_sql s ON s.id = r.source_id WHERE r.tenant_id = $1 AND r.source = 'bench'`, tenant).
		Scan(&total, &sameWard, &sameAsset)
	if err != nil {
		return fmt.Errorf("comparing: %w", err)
	}
	fmt.Fprintf(env.Stdout, "agree    ward %d of %d (%.3f%%), asset %d (%.3f%%)\n", sameWard, total,
		100*float64(sameWard)/float64(total), sameAsset, 100*float64(sameAsset)/float64(total))
	// The stored cluster IDs must form the clusters pinward found: each
	// member points at its head's ID, drawn before the batches ran.
	var stored int
	if err := conn.QueryRow(ctx, `SELECT count(DISTINCT cluster_id) FROM requests WHERE tenant_id = $1`, tenant).Scan(&stored); err != nil {
		return fmt.Errorf("counting stored clusters: %w", err)
	}
	if stored != sum.Clusters {
		return fmt.Errorf("requests stored in %d clusters, pinward formed %d", stored, sum.Clusters)
	}
	fmt.Fprintf(env.Stdout, "stored   %d clusters, as formed\n", stored)
	fmt.Fprintf(env.Stdout, "load average at end: %s\n", loadAverage())
	return cleanup()
}

// writeImportFiles writes the city's requests as a CSV file and the
// mapping that reads it, as a city would hand them to pinward import.
func writeImportFiles(dir string, city *data.City) (file, mapping string, size int64, err error) {
	file, mapping = filepath.Join(dir, "requests.csv"), filepath.Join(dir, "mapping.json")
	f, err := os.Create(file)
	if err != nil {
		return "", "", 0, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	w.Write([]string{"id", "created", "category", "lon", "lat"}) //nolint:errcheck // checked by Flush
	cats := map[string]string{}
	for _, r := range city.Requests {
		cats[r.Category] = r.Category
		w.Write([]string{r.ID, r.CreatedAt.UTC().Format(time.RFC3339), r.Category, //nolint:errcheck // checked by Flush
			strconv.FormatFloat(r.Point[0], 'f', -1, 64), strconv.FormatFloat(r.Point[1], 'f', -1, 64)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return "", "", 0, err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return "", "", 0, err
	}
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	if err := f.Close(); err != nil {
		return "", "", 0, err
	}
	m := map[string]any{
		"source": "bench", "format": "csv", "time_zone": "UTC", "date_formats": []string{time.RFC3339},
		"columns": map[string][]string{"id": {"id"}, "requested": {"created"}, "category": {"category"},
			"lon": {"lon"}, "lat": {"lat"}},
		"categories": cats,
	}
	b, _ := json.Marshal(m)
	return file, mapping, size, os.WriteFile(mapping, b, 0o600)
}

// loadCategoryTable gives SQL the catalog's asset layers and radius per
// category, as pinward reads them.
func loadCategoryTable(ctx context.Context, conn *pgx.Conn, cats []requests.Category) error {
	if _, err := conn.Exec(ctx, `CREATE TABLE bench_import_cats (code text PRIMARY KEY, layers text[] NOT NULL, radius float8 NOT NULL)`); err != nil {
		return err
	}
	for _, c := range cats {
		if len(c.AssetLayers) == 0 {
			continue
		}
		if _, err := conn.Exec(ctx, `INSERT INTO bench_import_cats VALUES ($1, $2, $3)`, c.Code, c.AssetLayers, c.AssetRadiusM); err != nil {
			return err
		}
	}
	return nil
}

// sqlImport loads the rows by COPY and assigns wards, assets and clusters
// in SQL, each step one committed statement.
func sqlImport(ctx context.Context, conn *pgx.Conn, city *data.City, srid int) (time.Duration, int, string, error) {
	var steps []string
	start := time.Now()
	step := func(name string, t0 time.Time) {
		steps = append(steps, fmt.Sprintf("%s %.1f s", name, time.Since(t0).Seconds()))
	}
	t0 := time.Now()
	if _, err := conn.Exec(ctx, `CREATE TABLE bench_import_raw (id text, category text, created timestamptz, lon float8, lat float8)`); err != nil {
		return 0, 0, "", err
	}
	i := 0
	_, err := conn.CopyFrom(ctx, pgx.Identifier{"bench_import_raw"}, []string{"id", "category", "created", "lon", "lat"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(city.Requests) {
				return nil, nil
			}
			r := city.Requests[i]
			i++
			return []any{r.ID, r.Category, r.CreatedAt, r.Point[0], r.Point[1]}, nil
		}))
	if err != nil {
		return 0, 0, "", fmt.Errorf("COPY: %w", err)
	}
	step("COPY", t0)
	t0 = time.Now()
	_, err = conn.Exec(ctx, fmt.Sprintf(`CREATE TABLE bench_import_sql AS
		SELECT p.id, p.category, p.created, p.utm,
			(SELECT w.id FROM bench_wards w WHERE ST_Covers(w.utm, p.utm) ORDER BY w.ord LIMIT 1) AS ward,
			(SELECT a.layer || '/' || a.id FROM bench_assets a
				WHERE a.layer = ANY(c.layers) AND ST_DWithin(a.utm, p.utm, c.radius)
				ORDER BY a.utm <-> p.utm LIMIT 1) AS asset
		FROM (SELECT r.*, ST_Transform(ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4326), %d) AS utm FROM bench_import_raw r) p
		LEFT JOIN bench_import_cats c ON c.code = p.category`, srid))
	if err != nil {
		return 0, 0, "", fmt.Errorf("assigning wards and assets: %w", err)
	}
	step("ST_Covers + <->", t0)
	t0 = time.Now()
	if _, err := conn.Exec(ctx, `CREATE TABLE bench_import_clusters AS
		SELECT id, category, ST_ClusterDBSCAN(utm, 30, 1) OVER (PARTITION BY category) AS cid FROM bench_import_sql`); err != nil {
		return 0, 0, "", fmt.Errorf("clustering: %w", err)
	}
	step("ST_ClusterDBSCAN", t0)
	elapsed := time.Since(start)
	var clusters int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM (SELECT DISTINCT category, cid FROM bench_import_clusters) c`).Scan(&clusters); err != nil {
		return 0, 0, "", err
	}
	return elapsed, clusters, strings.Join(steps, ", "), nil
}

// loadAverage is /proc/loadavg's first three figures ("" elsewhere).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ") + " (2 cores)"
}

// serverCPU returns a reader of the CPU time of the whole PostgreSQL
// server that runs backend (the postmaster and every child: backends,
// WAL writer, checkpointer), when it runs on this machine; false when not.
func serverCPU(backend string) func() (time.Duration, bool) {
	status, err := os.ReadFile(filepath.Join("/proc", backend, "status"))
	if err != nil {
		return func() (time.Duration, bool) { return 0, false }
	}
	var parent string
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "PPid:"); ok {
			parent = strings.TrimSpace(v)
		}
	}
	return func() (time.Duration, bool) {
		total, ok := postgresCPU(parent)
		if !ok {
			return 0, false
		}
		procs, _ := os.ReadDir("/proc")
		for _, p := range procs {
			st, err := os.ReadFile(filepath.Join("/proc", p.Name(), "stat"))
			if err != nil {
				continue
			}
			// Field 4 of stat is the parent; the command (field 2) may hold
			// spaces, so count from its closing parenthesis.
			f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
			if len(f) > 1 && f[1] == parent {
				if c, ok := postgresCPU(p.Name()); ok {
					total += c
				}
			}
		}
		return total, true
	}
}

func cpuText(self time.Duration, selfOK bool, server time.Duration, serverOK bool) string {
	if !selfOK || !serverOK {
		return "(CPU unknown: the server is not on this machine)"
	}
	return fmt.Sprintf("(CPU: pinward %.1f s + PostgreSQL %.1f s = %.1f s)", self.Seconds(), server.Seconds(), (self + server).Seconds())
}
