package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/dedup"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/tiles"
	"github.com/pinward/pinward/wards"
)

const benchTilesHelp = `
Renders the same vector tiles with pinward (package tiles, from memory) and
with PostGIS (ST_AsMVT / ST_AsMVTGeom over a GiST-indexed table in
EPSG:3857) over the synthetic city (data.DefaultCityConfig with --requests
requests, clustered with dedup at 50 m), and prints per layer and zoom the
median and p95 milliseconds per tile of each and the ratio, and the largest
tile size per zoom.

The tiles (--tiles, spread evenly over zooms 12 to 16) are centred on
randomly drawn requests, so they follow where requests are. Both sides
produce the same tile: individual features from zoom 15 (unless the tile
holds more than 1,000, then cells up to zoom 18, as package tiles decides),
16 x 16 cells with counts per category and status otherwise; feature counts
of individual tiles are checked equal. pinward's time is an uncached render
(no gzip); PostGIS's is the query with its bytes fetched. Loading is timed
separately and not counted.
`

// benchTiles is `pinward bench tiles`; Run dispatches to it.
func benchTiles(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "bench tiles", "bench tiles [--requests 1000000] [--tiles 200] [--db URL]", benchTilesHelp)
	n := fs.Int("requests", 1_000_000, "number of synthetic `requests`")
	count := fs.Int("tiles", 200, "number of `tiles` per layer, over zooms 12-16")
	db := fs.String("db", "", "PostgreSQL+PostGIS `URL` (default $PINWARD_DATABASE_URL or $PINWARD_TEST_DATABASE_URL)")
	seed := fs.Int64("seed", 1, "synthetic city `seed`")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *n < 1 || *count < 5 {
		return usageErrorf("--requests must be at least 1 and --tiles at least 5")
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
	reqs, err := benchTileRequests(city)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "dataset: synthetic city (seed %d): %d requests, %d wards, %d assets (generated and clustered in %.1f s)\n",
		cfg.Seed, len(reqs), len(city.Wards), len(city.Assets), time.Since(start).Seconds())

	tl := tiles.New(tiles.Options{CacheTiles: -1})
	start = time.Now()
	tl.SetRequests(reqs)
	fmt.Fprintf(env.Stdout, "pinward: indexed %d requests in %.1f s\n", tl.RequestCount(), time.Since(start).Seconds())

	rng := rand.New(rand.NewPCG(uint64(*seed), 0x74696c65))
	var ts []maptile.Tile
	for i := range *count {
		z := maptile.Zoom(12 + i%5)
		ts = append(ts, maptile.At(reqs[rng.IntN(len(reqs))].Point, z))
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connecting to PostGIS: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	fmt.Fprintln(env.Stderr, "bench tiles: loading PostGIS...")
	start = time.Now()
	codes, err := loadTileTables(ctx, conn, reqs)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "PostGIS: loaded and indexed in %.1f s (not counted)\n", time.Since(start).Seconds())

	fmt.Fprintf(env.Stdout, "%-9s %4s %6s  %10s %10s  %10s %10s  %7s  %9s\n",
		"layer", "zoom", "tiles", "pw median", "pw p95", "pg median", "pg p95", "ratio", "max KB")
	failed := false
	for _, layer := range []string{tiles.LayerRequests, tiles.LayerClusters} {
		var ours, theirs []time.Duration
		byZoom := map[maptile.Zoom][2][]time.Duration{}
		maxSize := map[maptile.Zoom]int{}
		for _, t := range ts {
			runtime.Gosched()
			s := time.Now()
			b, err := tl.Render(layer, t)
			d := time.Since(s)
			if err != nil {
				return err
			}
			maxSize[t.Z] = max(maxSize[t.Z], len(b))
			s = time.Now()
			agg := tl.Aggregated(layer, t)
			pb, err := stAsMVT(ctx, conn, layer, t, agg, codes)
			pd := time.Since(s)
			if err != nil {
				return err
			}
			if !agg {
				if a, b2, err := featureCounts(b, pb); err != nil {
					return err
				} else if a != b2 {
					return fmt.Errorf("%s tile %d/%d/%d: pinward has %d features, ST_AsMVT %d", layer, t.Z, t.X, t.Y, a, b2)
				}
			}
			ours, theirs = append(ours, d), append(theirs, pd)
			bz := byZoom[t.Z]
			bz[0], bz[1] = append(bz[0], d), append(bz[1], pd)
			byZoom[t.Z] = bz
		}
		for z := maptile.Zoom(12); z <= 16; z++ {
			bz := byZoom[z]
			printRow(env, layer, fmt.Sprint(z), bz[0], bz[1], maxSize[z])
		}
		printRow(env, layer, "all", ours, theirs, -1)
		med, pmed := pct(ours, 50), pct(theirs, 50)
		if med > 2*time.Millisecond || pmed < 10*med || maxSize[12] > 50_000 {
			failed = true
		}
	}
	fmt.Fprintln(env.Stdout, "targets: median < 2 ms, >= 10x ST_AsMVT, z12 tile < 50 KB:", map[bool]string{false: "met", true: "NOT met"}[failed])
	return nil
}

func printRow(env Env, layer, zoom string, ours, theirs []time.Duration, size int) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d.Microseconds())/1000) }
	kb := ""
	if size >= 0 {
		kb = fmt.Sprintf("%.1f", float64(size)/1000)
	}
	fmt.Fprintf(env.Stdout, "%-9s %4s %6d  %10s %10s  %10s %10s  %6.1fx  %9s\n", layer, zoom, len(ours),
		ms(pct(ours, 50)), ms(pct(ours, 95)), ms(pct(theirs, 50)), ms(pct(theirs, 95)),
		float64(pct(theirs, 50))/float64(max(1, pct(ours, 50))), kb)
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// benchTileRequests turns the city's requests into what tiles show:
// clustered with dedup (50 m, no window), located in their ward, and given
// a status (60% open, 25% acknowledged, 15% in progress, by position).
func benchTileRequests(city *data.City) ([]tiles.Request, error) {
	reports := make([]dedup.Report, len(city.Requests))
	for i, r := range city.Requests {
		reports[i] = dedup.Report{ID: r.ID, Category: r.Category, CreatedAt: r.CreatedAt, Point: r.Point}
	}
	// A 14-day window, as a municipality would set it: without one, a
	// year of requests this dense chains into a few huge clusters.
	rules := dedup.Rules{Default: dedup.Rule{Distance: 50, Window: 14 * 24 * time.Hour}}
	as, err := dedup.ClusterIn(reports, rules, dedup.FitProjection(reports))
	if err != nil {
		return nil, fmt.Errorf("clustering: %w", err)
	}
	ws := make([]wards.Ward, len(city.Wards))
	for i, w := range city.Wards {
		ws[i] = wards.Ward{ID: w.ID, Name: i18n.T(w.NameEn, w.NameFr), Geometry: w.Geometry}
	}
	gen, err := wards.NewGeneration(ws, time.Time{}, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("wards: %w", err)
	}
	out := make([]tiles.Request, len(city.Requests))
	for i, r := range city.Requests {
		status := "new"
		switch i % 20 {
		case 12, 13, 14, 15, 16:
			status = "acknowledged"
		case 17, 18, 19:
			status = "in_progress"
		}
		ward := ""
		if w, ok := gen.Locate(r.Point); ok {
			ward = w.ID
		}
		out[i] = tiles.Request{
			ID: r.ID, ServiceCode: r.Category, Status: status, ClusterID: as[i].ClusterID,
			WardID: ward, Point: r.Point, RequestedAt: r.CreatedAt,
		}
	}
	return out, nil
}

// loadTileTables loads the requests into bench_req and their clusters into
// bench_cl (summarised as package tiles does) in EPSG:3857 with GiST
// indexes, and returns the category codes.
func loadTileTables(ctx context.Context, conn *pgx.Conn, reqs []tiles.Request) ([]string, error) {
	for _, q := range []string{
		`CREATE EXTENSION IF NOT EXISTS postgis`,
		`DROP TABLE IF EXISTS pg_temp.bench_in, pg_temp.bench_req, pg_temp.bench_cl`,
		`CREATE TEMP TABLE bench_in (k bigint, id text, service_code text, status text, cluster_id text, ward_id text, requested_at bigint, lon float8, lat float8)`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("preparing PostGIS tables: %w", err)
		}
	}
	_, err := conn.CopyFrom(ctx, pgx.Identifier{"bench_in"},
		[]string{"k", "id", "service_code", "status", "cluster_id", "ward_id", "requested_at", "lon", "lat"},
		pgx.CopyFromSlice(len(reqs), func(i int) ([]any, error) {
			r := reqs[i]
			return []any{int64(i), r.ID, r.ServiceCode, r.Status, r.ClusterID, r.WardID, r.RequestedAt.Unix(), r.Point[0], r.Point[1]}, nil
		}))
	if err != nil {
		return nil, fmt.Errorf("copying requests to PostGIS: %w", err)
	}
	for _, q := range []string{
		`CREATE TEMP TABLE bench_req AS SELECT k, id, service_code, status, cluster_id, ward_id, requested_at,
			ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), 3857) AS geom FROM bench_in`,
		`DROP TABLE bench_in`,
		`CREATE INDEX ON bench_req USING gist (geom)`,
		`CREATE TEMP TABLE bench_cl AS SELECT cluster_id, count(*)::int AS count,
			(array_agg(service_code ORDER BY requested_at, id))[1] AS service_code,
			(array_agg(ward_id ORDER BY requested_at, id))[1] AS ward_id,
			(array_agg(status ORDER BY array_position(ARRAY['new','reopened','acknowledged','in_progress','waiting_on_resident','closed'], status)))[1] AS status,
			min(requested_at) AS requested_at,
			ST_MakePoint(avg(ST_X(geom)), avg(ST_Y(geom)))::geometry(Point) AS geom
			FROM bench_req GROUP BY cluster_id`,
		`UPDATE bench_cl SET geom = ST_SetSRID(geom, 3857)`,
		`CREATE INDEX ON bench_cl USING gist (geom)`,
		`ANALYZE bench_req`,
		`ANALYZE bench_cl`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("filling the PostGIS tables: %w", err)
		}
	}
	seen := map[string]bool{}
	var codes []string
	for _, r := range reqs {
		if !seen[r.ServiceCode] {
			seen[r.ServiceCode] = true
			codes = append(codes, r.ServiceCode)
		}
	}
	slices.Sort(codes)
	for _, c := range codes {
		// Codes become column names in stAsMVT's query.
		if strings.Trim(c, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			return nil, fmt.Errorf("category code %q is not a plain identifier", c)
		}
	}
	return codes, nil
}

// stAsMVT renders one tile with PostGIS: the same features and properties
// as package tiles.
func stAsMVT(ctx context.Context, conn *pgx.Conn, layer string, t maptile.Tile, aggregated bool, codes []string) ([]byte, error) {
	table := "bench_req"
	if layer == tiles.LayerClusters {
		table = "bench_cl"
	}
	var q string
	if !aggregated {
		cols := "id, service_code, status, cluster_id, ward_id, requested_at"
		if layer == tiles.LayerClusters {
			cols = "cluster_id, count, service_code, status, ward_id, requested_at"
		}
		q = `SELECT ST_AsMVT(f, '` + layer + `', 4096, 'geom') FROM (
			SELECT ` + cols + `, ST_AsMVTGeom(geom, ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom
			FROM ` + table + ` WHERE geom && ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096)) f`
	} else {
		reqsCol := ""
		if layer == tiles.LayerClusters {
			reqsCol = "sum(count)::int AS requests, "
		}
		var counts []string
		for _, c := range codes {
			counts = append(counts, fmt.Sprintf("count(*) FILTER (WHERE service_code = '%s') AS \"service_%s\"", c, c))
		}
		for _, s := range []string{"new", "acknowledged", "in_progress"} {
			counts = append(counts, fmt.Sprintf("count(*) FILTER (WHERE status = '%s') AS status_%s", s, s))
		}
		q = `WITH e AS (SELECT ST_TileEnvelope($1, $2, $3) AS env),
			p AS (SELECT r.*, floor((ST_X(r.geom) - ST_XMin(e.env)) / (ST_XMax(e.env) - ST_XMin(e.env)) * 16) AS cx,
				floor((ST_YMax(e.env) - ST_Y(r.geom)) / (ST_YMax(e.env) - ST_YMin(e.env)) * 16) AS cy
				FROM ` + table + ` r, e WHERE r.geom && e.env),
			c AS (SELECT true AS aggregate, count(*)::int AS count, ` + reqsCol + `
				mode() WITHIN GROUP (ORDER BY service_code) AS service_code,
				mode() WITHIN GROUP (ORDER BY status) AS status,
				mode() WITHIN GROUP (ORDER BY ward_id) AS ward_id, ` + strings.Join(counts, ", ") + `,
				ST_SetSRID(ST_MakePoint(avg(ST_X(geom)), avg(ST_Y(geom))), 3857) AS g
				FROM p GROUP BY cx, cy)
			SELECT ST_AsMVT(f, '` + layer + `', 4096, 'geom') FROM (
				SELECT c.*, ST_AsMVTGeom(c.g, e.env, 4096, 64, true) AS geom FROM c, e) f`
		q = strings.Replace(q, "SELECT c.*,", "SELECT "+cellCols(layer, codes)+",", 1)
	}
	var b []byte
	if err := conn.QueryRow(ctx, q, int(t.Z), int(t.X), int(t.Y)).Scan(&b); err != nil {
		return nil, fmt.Errorf("ST_AsMVT %s %d/%d/%d: %w", layer, t.Z, t.X, t.Y, err)
	}
	return b, nil
}

// cellCols lists the cell columns without the helper geometry g.
func cellCols(layer string, codes []string) string {
	cols := []string{"aggregate", "count", "service_code", "status", "ward_id"}
	if layer == tiles.LayerClusters {
		cols = append(cols, "requests")
	}
	for _, c := range codes {
		cols = append(cols, `"service_`+c+`"`)
	}
	cols = append(cols, "status_new", "status_acknowledged", "status_in_progress")
	return "c." + strings.Join(cols, ", c.")
}

// featureCounts decodes two tiles and returns their feature counts.
func featureCounts(a, b []byte) (int, int, error) {
	count := func(p []byte) (int, error) {
		ls, err := mvt.Unmarshal(p)
		if err != nil {
			return 0, fmt.Errorf("decoding a tile: %w", err)
		}
		n := 0
		for _, l := range ls {
			n += len(l.Features)
		}
		return n, nil
	}
	na, err := count(a)
	if err != nil {
		return 0, 0, err
	}
	nb, err := count(b)
	return na, nb, err
}
