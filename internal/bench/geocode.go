package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/wards"
)

const benchGeocodeHelp = `
Loads one dataset into PostGIS and into pinward, runs the same random points
(half near assets, half anywhere in the wards' bounding box widened by 5%, so
some fall outside) through both, checks the
answers agree, and prints points per second for each and the ratio.

Both sides run on one core: pinward in one goroutine, PostGIS in one backend
answering one set-based query (a LATERAL join, as a GIS analyst would write it)
with GiST indexes on the geometry and geography columns.

Ward lookups are compared exactly (ST_Covers, the first ward in file order on
shared borders). Nearest assets agree when the IDs match or the two distances
differ by under 1 cm (a tie between two assets).

Without --wards the synthetic city is generated (data.DefaultCityConfig).
`

func benchGeocode(ctx context.Context, env Env, args []string) (err error) {
	fs := newFlags(env, "bench geocode", "bench geocode [--db URL] [--points 100000] [--wards F --assets F]", benchGeocodeHelp)
	var sf cli.SpatialFlags
	sf.Register(fs)
	db := fs.String("db", "", "PostgreSQL+PostGIS `URL` (default $PINWARD_DATABASE_URL or $PINWARD_TEST_DATABASE_URL)")
	n := fs.Int("points", 100000, "number of random `points`")
	radius := fs.Float64("radius", 50, "asset search radius in `metres`")
	seed := fs.Uint64("seed", 1, "random `seed` for the points")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	url, err := databaseURL(env, *db)
	if err != nil {
		return err
	}
	var set *wards.Set
	var ix *assets.Index
	var dataset string
	if sf.Wards == "" {
		var err error
		if set, ix, dataset, err = syntheticSpatial(); err != nil {
			return err
		}
	} else {
		if set, ix, err = sf.Load(env); err != nil {
			return err
		}
		dataset = sf.Wards
		if sf.Assets != "" {
			dataset += " + " + sf.Assets
		}
	}
	gen := set.Current(time.Now())
	vertices := 0
	for _, w := range gen.Wards {
		for _, p := range w.Geometry {
			for _, r := range p {
				vertices += len(r)
			}
		}
	}
	fmt.Fprintf(env.Stdout, "dataset: %s: %d wards (%d vertices), %d assets in %d layers; %d points, radius %.0f m\n",
		dataset, len(gen.Wards), vertices, ix.Len(), len(ix.Layers()), *n, *radius)

	var near []orb.Point
	ix.Snapshot().Scan(func(a assets.Asset) bool { near = append(near, a.Point); return true })
	pts := benchPoints(gen.Bound(), near, *n, *seed)

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connecting to PostGIS: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	fmt.Fprintln(env.Stderr, "bench geocode: loading PostGIS tables...")
	defer func() { err = errors.Join(err, dropBenchTables(context.WithoutCancel(ctx), conn)) }()
	if err := loadBenchTables(ctx, conn, gen.Wards, ix, pts); err != nil {
		return err
	}

	// Ward lookup.
	start := time.Now()
	ourWards := make([]string, len(pts))
	at := time.Now()
	for i, p := range pts {
		if w, ok := set.Locate(p, at); ok {
			ourWards[i] = w.ID
		}
	}
	ourWardTime := time.Since(start)
	pgWards, pgWardTime, err := postgisWards(ctx, conn, len(pts))
	if err != nil {
		return err
	}
	wardAgree := 0
	var wardDiffs []string
	for i := range pts {
		if ourWards[i] == pgWards[i] {
			wardAgree++
		} else if len(wardDiffs) < 5 {
			wardDiffs = append(wardDiffs, fmt.Sprintf("%v: pinward %q, PostGIS %q", pts[i], ourWards[i], pgWards[i]))
		}
	}

	// Nearest asset.
	start = time.Now()
	ourAssets := make([]nearAnswer, len(pts))
	for i, p := range pts {
		if a, d, ok := ix.Nearest(p, *radius); ok {
			ourAssets[i] = nearAnswer{a.Layer + "/" + a.ID, d}
		}
	}
	ourAssetTime := time.Since(start)
	pgAssets, pgAssetTime, err := postgisNearest(ctx, conn, len(pts), *radius)
	if err != nil {
		return err
	}
	assetAgree, found := 0, 0
	var assetDiffs []string
	for i := range pts {
		a, b := ourAssets[i], pgAssets[i]
		if a.id != "" {
			found++
		}
		if a.agrees(b, *radius) {
			assetAgree++
		} else if len(assetDiffs) < 5 {
			assetDiffs = append(assetDiffs, fmt.Sprintf("%v: pinward %s %.3f m, PostGIS %s %.3f m", pts[i], a.id, a.d, b.id, b.d))
		}
	}

	located := 0
	for _, w := range ourWards {
		if w != "" {
			located++
		}
	}
	report := func(name string, ours, theirs time.Duration, agree int, diffs []string, extra string) {
		o := float64(len(pts)) / ours.Seconds()
		t := float64(len(pts)) / theirs.Seconds()
		fmt.Fprintf(env.Stdout, "%-14s pinward %10.0f points/s (%6.3f s)   PostGIS %8.0f points/s (%6.3f s)   ratio %6.1fx   agree %d/%d %s\n",
			name, o, ours.Seconds(), t, theirs.Seconds(), o/t, agree, len(pts), extra)
		for _, d := range diffs {
			fmt.Fprintf(env.Stdout, "    differs at %s\n", d)
		}
	}
	report("ward lookup", ourWardTime, pgWardTime, wardAgree, wardDiffs, fmt.Sprintf("(%d in a ward)", located))
	report("nearest asset", ourAssetTime, pgAssetTime, assetAgree, assetDiffs, fmt.Sprintf("(%d with an asset within %.0f m)", found, *radius))
	if wardAgree != len(pts) || assetAgree != len(pts) {
		return fmt.Errorf("pinward and PostGIS disagree on %d ward and %d asset answers", len(pts)-wardAgree, len(pts)-assetAgree)
	}
	return nil
}

type nearAnswer struct {
	id string
	d  float64
}

// agrees treats a 1 cm difference as a tie, including at the radius's edge,
// where one engine may find an asset at 49.999 m that the other puts at 50.001.
func (a nearAnswer) agrees(b nearAnswer, radius float64) bool {
	switch {
	case a.id == b.id && (a.id == "" || math.Abs(a.d-b.d) < 0.01):
		return true
	case a.id != "" && b.id != "":
		return math.Abs(a.d-b.d) < 0.01
	case a.id != "":
		return math.Abs(a.d-radius) < 0.01
	default:
		return math.Abs(b.d-radius) < 0.01
	}
}

func syntheticSpatial() (*wards.Set, *assets.Index, string, error) {
	cfg := data.DefaultCityConfig()
	cfg.Requests = 0
	city, err := data.GenerateCity(cfg)
	if err != nil {
		return nil, nil, "", fmt.Errorf("generating the synthetic city: %w", err)
	}
	// Round-trip through the file formats, as a real deployment loads them.
	var wb, ab bytes.Buffer
	if err := city.WriteWardsGeoJSON(&wb); err != nil {
		return nil, nil, "", err
	}
	if err := city.WriteAssetsCSV(&ab); err != nil {
		return nil, nil, "", err
	}
	ws, err := wards.LoadGeoJSON(&wb, wards.DefaultFields())
	if err != nil {
		return nil, nil, "", err
	}
	gen, err := wards.NewGeneration(ws, time.Time{}, time.Time{})
	if err != nil {
		return nil, nil, "", err
	}
	set, err := wards.NewSet(gen)
	if err != nil {
		return nil, nil, "", err
	}
	list, rowErrs, err := assets.LoadCSV(&ab, assets.DefaultCSVFormat())
	if err != nil || len(rowErrs) > 0 {
		return nil, nil, "", fmt.Errorf("synthetic assets: %v %v", err, rowErrs)
	}
	ix, err := assets.NewIndex(list)
	if err != nil {
		return nil, nil, "", err
	}
	return set, ix, "synthetic city", nil
}

// benchPoints mixes what a city sees: half the pins within about 60 m of an
// asset (residents report things), half anywhere in the wards' bounding box
// widened by 5% on each side (so some fall outside the municipality).
func benchPoints(b orb.Bound, near []orb.Point, n int, seed uint64) []orb.Point {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	pts := make([]orb.Point, n)
	for i := range pts {
		if i%2 == 0 && len(near) > 0 {
			c := near[rng.IntN(len(near))]
			pts[i] = orb.Point{c[0] + (rng.Float64()-0.5)*0.0015, c[1] + (rng.Float64()-0.5)*0.001}
			continue
		}
		pts[i] = orb.Point{b.Min[0] - 0.05*w + rng.Float64()*1.1*w, b.Min[1] - 0.05*h + rng.Float64()*1.1*h}
	}
	return pts
}

func loadBenchTables(ctx context.Context, conn *pgx.Conn, ws []wards.Ward, ix *assets.Index, pts []orb.Point) error {
	setup := []string{
		`CREATE EXTENSION IF NOT EXISTS postgis`,
		`DROP TABLE IF EXISTS bench_wards, bench_assets, bench_points`,
		`CREATE TABLE bench_wards (ord int PRIMARY KEY, id text NOT NULL, geom geometry(MultiPolygon, 4326) NOT NULL)`,
		`CREATE TABLE bench_assets (layer text NOT NULL, id text NOT NULL, geog geography(Point, 4326) NOT NULL, PRIMARY KEY (layer, id))`,
		`CREATE TABLE bench_points (i int PRIMARY KEY, geom geometry(Point, 4326) NOT NULL, geog geography(Point, 4326) NOT NULL)`,
	}
	for _, q := range setup {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("preparing PostGIS tables (%s): %w", strings.Fields(q)[0], err)
		}
	}
	wardRows := make([][]any, len(ws))
	for i, w := range ws {
		b, err := wkb.Marshal(w.Geometry)
		if err != nil {
			return fmt.Errorf("encoding ward %s: %w", w.ID, err)
		}
		wardRows[i] = []any{i, w.ID, b}
	}
	var assetRows [][]any
	ix.Snapshot().Scan(func(a assets.Asset) bool {
		b, _ := wkb.Marshal(a.Point)
		assetRows = append(assetRows, []any{a.Layer, a.ID, b})
		return true
	})
	pointRows := make([][]any, len(pts))
	for i, p := range pts {
		b, _ := wkb.Marshal(p)
		pointRows[i] = []any{i, b}
	}
	loads := []struct {
		staging, cols, insert string
		rows                  [][]any
	}{
		{"s_wards", "ord int, id text, g bytea", `INSERT INTO bench_wards SELECT ord, id, ST_Multi(ST_GeomFromWKB(g, 4326)) FROM s_wards`, wardRows},
		{"s_assets", "layer text, id text, g bytea", `INSERT INTO bench_assets SELECT layer, id, ST_GeomFromWKB(g, 4326)::geography FROM s_assets`, assetRows},
		{"s_points", "i int, g bytea", `INSERT INTO bench_points SELECT i, ST_GeomFromWKB(g, 4326), ST_GeomFromWKB(g, 4326)::geography FROM s_points`, pointRows},
	}
	for _, l := range loads {
		if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE %s (%s)", l.staging, l.cols)); err != nil {
			return fmt.Errorf("staging %s: %w", l.staging, err)
		}
		var names []string
		for _, c := range strings.Split(l.cols, ", ") {
			names = append(names, strings.Fields(c)[0])
		}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{l.staging}, names, pgx.CopyFromRows(l.rows)); err != nil {
			return fmt.Errorf("copying %s: %w", l.staging, err)
		}
		if _, err := conn.Exec(ctx, l.insert); err != nil {
			return fmt.Errorf("filling from %s: %w", l.staging, err)
		}
	}
	for _, q := range []string{
		`CREATE INDEX ON bench_wards USING gist (geom)`,
		`CREATE INDEX ON bench_assets USING gist (geog)`,
		`ANALYZE bench_wards`, `ANALYZE bench_assets`, `ANALYZE bench_points`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("indexing: %w", err)
		}
	}
	return nil
}

// dropBenchTables removes the tables loadBenchTables made, so the bench
// leaves the database as it found it.
func dropBenchTables(ctx context.Context, conn *pgx.Conn) error {
	_, err := conn.Exec(ctx, `DROP TABLE IF EXISTS bench_wards, bench_assets, bench_points, pg_temp.s_wards, pg_temp.s_assets, pg_temp.s_points`)
	if err != nil {
		return fmt.Errorf("dropping the bench tables: %w", err)
	}
	return nil
}

func postgisWards(ctx context.Context, conn *pgx.Conn, n int) ([]string, time.Duration, error) {
	start := time.Now()
	rows, err := conn.Query(ctx, `
		SELECT p.i, w.id
		FROM bench_points p
		LEFT JOIN LATERAL (
			SELECT id FROM bench_wards w WHERE ST_Covers(w.geom, p.geom) ORDER BY w.ord LIMIT 1
		) w ON true`)
	if err != nil {
		return nil, 0, fmt.Errorf("PostGIS ward query: %w", err)
	}
	out := make([]string, n)
	for rows.Next() {
		var i int
		var id *string
		if err := rows.Scan(&i, &id); err != nil {
			return nil, 0, err
		}
		if id != nil {
			out[i] = *id
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("PostGIS ward query: %w", err)
	}
	return out, time.Since(start), nil
}

func postgisNearest(ctx context.Context, conn *pgx.Conn, n int, radius float64) ([]nearAnswer, time.Duration, error) {
	start := time.Now()
	rows, err := conn.Query(ctx, `
		SELECT p.i, a.id, a.d
		FROM bench_points p
		LEFT JOIN LATERAL (
			SELECT a.layer || '/' || a.id AS id, ST_Distance(a.geog, p.geog) AS d
			FROM bench_assets a
			WHERE ST_DWithin(a.geog, p.geog, $1)
			ORDER BY d, a.layer, a.id
			LIMIT 1
		) a ON true`, radius)
	if err != nil {
		return nil, 0, fmt.Errorf("PostGIS nearest query: %w", err)
	}
	out := make([]nearAnswer, n)
	for rows.Next() {
		var i int
		var id *string
		var d *float64
		if err := rows.Scan(&i, &id, &d); err != nil {
			return nil, 0, err
		}
		if id != nil {
			out[i] = nearAnswer{*id, *d}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("PostGIS nearest query: %w", err)
	}
	return out, time.Since(start), nil
}
