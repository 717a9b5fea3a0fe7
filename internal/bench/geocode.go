package bench

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/wards"
)

const benchGeocodeHelp = `
Loads one dataset into PostGIS and into pinward, runs the same random points
(half near assets, half anywhere in the wards' bounding box widened by 5%, so
some fall outside) through both, checks the answers, and prints points per
second for each.

pinward runs in one goroutine (set GOMAXPROCS=1 for one core), --runs times
over all the points; the best and median runs are shown, for single lookups
(Set.Locate, Index.Nearest per point) and for the batch calls a bulk geocode
makes (Set.LocateAll, Snapshot.NearestAll, which visits the points grouped by
the asset grid's tile), and the targets (ward lookup >= 50 M points/s, ward +
nearest >= 4 M points/s, exact, indexes <= 32 MB) are judged on the median. Its answers are
checked on every point against brute force: each ward's every edge (geo.Covers
on the wards whose box holds the point, in file order) and every asset within
the radius's band of latitude (no grid, no tree), with the same distance
formula and tie rule; the batches must answer as the single lookups do.
Index memory is the heap the indexes take (GC'd heap before and after
building them), the asset index's own copy of the Asset values included.

PostGIS answers in one backend, with one set-based LATERAL query per lookup,
two ways: as the bench always has (ST_Covers on geometry for wards, geography
ST_DWithin ordered by ST_Distance for assets), and at its best: geometry in
the city's UTM zone with GiST, ST_Covers for wards and ST_DWithin plus
ORDER BY <-> LIMIT 1 for assets.

Ward answers must agree exactly (ST_Covers, the first ward in file order on
shared borders). Nearest assets agree when the IDs match or the two distances
differ by under 1 cm (a tie between two assets); UTM distances differ from the
ellipsoid's by the projection's scale (up to 0.1% in a zone), so the UTM
query's answers near the radius are counted apart, not as errors.

Without --wards the synthetic city is generated: data.DefaultCityConfig with
6 x 4 wards (24 wards, about 42,000 vertices, 150,000 assets).

With --postgis=false no database is needed: pinward runs, is checked
against brute force and judged against the targets, and PostGIS is skipped.
`

func benchGeocode(ctx context.Context, env Env, args []string) (err error) {
	fs := newFlags(env, "bench geocode", "bench geocode [--db URL | --postgis=false] [--points 100000] [--runs 5] [--wards F --assets F]", benchGeocodeHelp)
	var sf cli.SpatialFlags
	sf.Register(fs)
	db := fs.String("db", "", "PostgreSQL+PostGIS `URL` (default $PINWARD_DATABASE_URL or $PINWARD_TEST_DATABASE_URL)")
	n := fs.Int("points", 100000, "number of random `points`")
	radius := fs.Float64("radius", 75, "asset search radius in `metres`")
	seed := fs.Uint64("seed", 1, "random `seed` for the points")
	runs := fs.Int("runs", 5, "timed `runs` of pinward over all the points")
	withPostGIS := fs.Bool("postgis", true, "run the same lookups in PostGIS (false: pinward and its checks only)")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *runs < 1 {
		return usageErrorf("--runs must be at least 1")
	}
	url := ""
	if *withPostGIS {
		if url, err = databaseURL(env, *db); err != nil {
			return err
		}
	}
	var ws []wards.Ward
	var list []assets.Asset
	var dataset string
	if len(sf.Wards) == 0 {
		if ws, list, err = syntheticSpatial(); err != nil {
			return err
		}
		dataset = "synthetic city"
	} else {
		set, ix, err := sf.Load(env)
		if err != nil {
			return err
		}
		ws = set.Current(time.Now()).Wards
		ix.Scan(func(a assets.Asset) bool { list = append(list, a); return true })
		dataset = sf.Wards.String()
		if sf.Assets != "" {
			dataset += " + " + sf.Assets
		}
	}
	wardBytes, set, err := measureHeap(func() (*wards.Set, error) {
		g, err := wards.NewGeneration(ws, time.Time{}, time.Time{})
		if err != nil {
			return nil, err
		}
		return wards.NewSet(g)
	})
	if err != nil {
		return err
	}
	assetBytes, ix, err := measureHeap(func() (*assets.Index, error) { return assets.NewIndex(list) })
	if err != nil {
		return err
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
	fmt.Fprintf(env.Stdout, "dataset: %s: %d wards (%d vertices), %d assets in %d layers; %d points, radius %.0f m; GOMAXPROCS %d\n",
		dataset, len(gen.Wards), vertices, ix.Len(), len(ix.Layers()), *n, *radius, runtime.GOMAXPROCS(0))
	cells, mixed, gridBytes := gen.GridStats()
	fmt.Fprintf(env.Stdout, "index memory: wards %.1f MB (grid of %d cells, %.1f%% crossed by a border, %.1f MB), assets %.1f MB (with the index's own copy of the assets), total %.1f MB\n",
		mb(wardBytes), cells, 100*float64(mixed)/float64(max(cells, 1)), mb(int64(gridBytes)), mb(assetBytes), mb(wardBytes+assetBytes))

	pts := benchPoints(gen.Bound(), pointsOf(list), *n, *seed)

	// pinward, timed; the last run's answers are kept for the checks. The
	// goroutine stays on one thread so its CPU time can be read.
	runtime.LockOSThread()
	at := time.Now()
	ourWards := make([]string, len(pts))
	found := make([]assets.Asset, len(pts))
	dists := make([]float64, len(pts))
	wardRuns := timeRuns(*runs, func() {
		for i, p := range pts {
			if w, ok := set.Locate(p, at); ok {
				ourWards[i] = w.ID
			}
		}
	})
	assetRuns := timeRuns(*runs, func() {
		for i, p := range pts {
			found[i], dists[i], _ = ix.Nearest(p, *radius)
		}
	})
	sink := 0
	bothRuns := timeRuns(*runs, func() {
		for _, p := range pts {
			if w, ok := set.Locate(p, at); ok {
				sink += len(w.ID)
			}
			if a, _, ok := ix.Nearest(p, *radius); ok {
				sink += len(a.ID)
			}
		}
	})
	// The batch calls a bulk geocode (an import) makes, on the same points.
	snap := ix.Snapshot()
	batchWards := make([]int32, len(pts))
	batchFound := make([]*assets.Asset, len(pts))
	batchDists := make([]float64, len(pts))
	wardBatchRuns := timeRuns(*runs, func() { set.LocateAll(pts, at, batchWards) })
	assetBatchRuns := timeRuns(*runs, func() { snap.NearestAll(pts, *radius, batchFound, batchDists) })
	bothBatchRuns := timeRuns(*runs, func() {
		set.LocateAll(pts, at, batchWards)
		snap.NearestAll(pts, *radius, batchFound, batchDists)
	})
	runtime.UnlockOSThread()
	_ = sink
	ourAssets := make([]nearAnswer, len(pts))
	for i, a := range found {
		if a.ID != "" {
			ourAssets[i] = nearAnswer{a.Layer + "/" + a.ID, dists[i]}
		}
	}
	// The batches must answer as the single lookups do on every point.
	batchDiffer := 0
	for i := range pts {
		w := ""
		if batchWards[i] >= 0 {
			w = gen.Wards[batchWards[i]].ID
		}
		var a nearAnswer
		if batchFound[i] != nil {
			a = nearAnswer{batchFound[i].Layer + "/" + batchFound[i].ID, batchDists[i]}
		}
		if w != ourWards[i] || a != ourAssets[i] {
			batchDiffer++
		}
	}

	// Brute force on every point.
	bruteWards := bruteWardAnswers(gen.Wards, pts)
	bruteAssets := bruteNearestAnswers(list, pts, *radius)
	wardExact, assetExact := 0, 0
	var bruteDiffs []string
	for i := range pts {
		if ourWards[i] == bruteWards[i] {
			wardExact++
		} else if len(bruteDiffs) < 5 {
			bruteDiffs = append(bruteDiffs, fmt.Sprintf("ward at %v: pinward %q, brute force %q", pts[i], ourWards[i], bruteWards[i]))
		}
		if ourAssets[i] == bruteAssets[i] {
			assetExact++
		} else if len(bruteDiffs) < 5 {
			bruteDiffs = append(bruteDiffs, fmt.Sprintf("asset at %v: pinward %v, brute force %v", pts[i], ourAssets[i], bruteAssets[i]))
		}
	}

	located, withAsset := 0, 0
	for i := range pts {
		if ourWards[i] != "" {
			located++
		}
		if ourAssets[i].id != "" {
			withAsset++
		}
	}
	perSec := func(d time.Duration) float64 { return float64(len(pts)) / d.Seconds() }
	fmt.Fprintf(env.Stdout, "\npinward, one goroutine on one thread, %d runs over %d points (best / median; CPU is the thread's CPU time, wall the clock's):\n", *runs, len(pts))
	line := func(name string, r runTimes) {
		nsPer := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(len(pts)) }
		if r.cpu != nil {
			fmt.Fprintf(env.Stdout, "  %-26s CPU %11.0f / %11.0f points/s (%6.1f / %6.1f ns/point)   wall %11.0f / %11.0f points/s\n",
				name, perSec(r.cpu[0]), perSec(r.cpu[len(r.cpu)/2]), nsPer(r.cpu[0]), nsPer(r.cpu[len(r.cpu)/2]),
				perSec(r.wall[0]), perSec(r.wall[len(r.wall)/2]))
			return
		}
		fmt.Fprintf(env.Stdout, "  %-26s wall %11.0f / %11.0f points/s (%6.1f / %6.1f ns/point)\n",
			name, perSec(r.wall[0]), perSec(r.wall[len(r.wall)/2]), nsPer(r.wall[0]), nsPer(r.wall[len(r.wall)/2]))
	}
	line("ward lookup", wardRuns)
	line(fmt.Sprintf("nearest asset within %.0f m", *radius), assetRuns)
	line("ward + nearest asset", bothRuns)
	line("ward lookup, batch", wardBatchRuns)
	line("nearest asset, batch", assetBatchRuns)
	line("ward + nearest, batches", bothBatchRuns)
	fmt.Fprintf(env.Stdout, "  equal to brute force: wards %d/%d (%d in a ward), assets %d/%d (%d with an asset within %.0f m); batches equal to single lookups on %d/%d\n",
		wardExact, len(pts), located, assetExact, len(pts), withAsset, *radius, len(pts)-batchDiffer, len(pts))
	// The targets of the spatial core, judged on the median run's CPU time
	// (wall time where the OS gives no thread CPU time).
	median := func(r runTimes) float64 {
		if r.cpu != nil {
			return perSec(r.cpu[len(r.cpu)/2])
		}
		return perSec(r.wall[len(r.wall)/2])
	}
	met := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	exact := wardExact == len(pts) && assetExact == len(pts) && batchDiffer == 0
	fmt.Fprintf(env.Stdout, "  targets (median run): ward lookup >= 50 M points/s: %s (single %.1f M, batch %.1f M); ward + nearest >= 4 M points/s: %s (single %.2f M, batches %.2f M); exact: %s; indexes <= 32 MB: %s (%.1f MB)\n",
		met(max(median(wardRuns), median(wardBatchRuns)) >= 50e6), median(wardRuns)/1e6, median(wardBatchRuns)/1e6,
		met(max(median(bothRuns), median(bothBatchRuns)) >= 4e6), median(bothRuns)/1e6, median(bothBatchRuns)/1e6,
		met(exact), met(mb(wardBytes+assetBytes) <= 32), mb(wardBytes+assetBytes))
	for _, d := range bruteDiffs {
		fmt.Fprintf(env.Stdout, "    differs: %s\n", d)
	}

	if !*withPostGIS {
		if wardExact != len(pts) || assetExact != len(pts) {
			return fmt.Errorf("pinward differs from brute force on %d ward and %d asset answers", len(pts)-wardExact, len(pts)-assetExact)
		}
		if batchDiffer > 0 {
			return fmt.Errorf("the batch lookups differ from the single ones on %d points", batchDiffer)
		}
		return nil
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connecting to PostGIS: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	fmt.Fprintln(env.Stderr, "bench geocode: loading PostGIS tables...")
	defer func() { err = errors.Join(err, dropBenchTables(context.WithoutCancel(ctx), conn)) }()
	srid := utmSRID(gen.Bound().Center())
	if err := loadBenchTables(ctx, conn, gen.Wards, list, pts, srid); err != nil {
		return err
	}
	var version string
	if err := conn.QueryRow(ctx, `SELECT postgis_lib_version()`).Scan(&version); err != nil {
		return fmt.Errorf("PostGIS version: %w", err)
	}
	pgWards, pgWardTime, err := postgisWards(ctx, conn, len(pts), "geom")
	if err != nil {
		return err
	}
	utmWards, utmWardTime, err := postgisWards(ctx, conn, len(pts), "utm")
	if err != nil {
		return err
	}
	pgAssets, pgAssetTime, err := postgisNearest(ctx, conn, len(pts), *radius, geographyNearest)
	if err != nil {
		return err
	}
	utmAssets, utmAssetTime, err := postgisNearest(ctx, conn, len(pts), *radius, utmNearest)
	if err != nil {
		return err
	}

	fmt.Fprintf(env.Stdout, "\nPostGIS %s, one backend, one LATERAL query each, wall time (ratio: pinward's best wall-clock run over PostGIS):\n", version)
	pgLine := func(name string, d time.Duration, ours runTimes, agree int, diffs []string, note string) {
		fmt.Fprintf(env.Stdout, "  %-46s %10.0f points/s (%6.3f s)   ratio %7.1fx   agree %d/%d%s\n",
			name, perSec(d), d.Seconds(), perSec(ours.wall[0])/perSec(d), agree, len(pts), note)
		for _, d := range diffs {
			fmt.Fprintf(env.Stdout, "    differs at %s\n", d)
		}
	}
	wa, wd := compareWards(pts, ourWards, pgWards)
	pgLine("ward, geometry ST_Covers (GiST)", pgWardTime, wardRuns, wa, wd, "")
	ua, ud := compareWards(pts, ourWards, utmWards)
	pgLine(fmt.Sprintf("ward, UTM EPSG:%d ST_Covers (GiST)", srid), utmWardTime, wardRuns, ua, ud, " (borders move by the reprojection's rounding)")
	aa, ad, _ := compareAssets(pts, ourAssets, pgAssets, *radius, 0.01)
	pgLine("nearest, geography ST_DWithin + ST_Distance", pgAssetTime, assetRuns, aa, ad, "")
	ta, td, edge := compareAssets(pts, ourAssets, utmAssets, *radius, 0.001**radius)
	pgLine(fmt.Sprintf("nearest, UTM EPSG:%d ST_DWithin + <-> LIMIT 1", srid), utmAssetTime, assetRuns, ta, td,
		fmt.Sprintf(" (%d more differ only by UTM's scale: a tie or the radius's edge within 0.1%%)", edge))

	if wardExact != len(pts) || assetExact != len(pts) {
		return fmt.Errorf("pinward differs from brute force on %d ward and %d asset answers", len(pts)-wardExact, len(pts)-assetExact)
	}
	if batchDiffer > 0 {
		return fmt.Errorf("the batch lookups differ from the single ones on %d points", batchDiffer)
	}
	if wa != len(pts) || aa != len(pts) {
		return fmt.Errorf("pinward and PostGIS disagree on %d ward and %d asset answers", len(pts)-wa, len(pts)-aa)
	}
	return nil
}

// measureHeap returns build's result and the heap it kept, measured
// between two garbage collections.
func measureHeap[T any](build func() (T, error)) (int64, T, error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v, err := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc), v, err
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// runTimes are a lookup's runs, fastest first: wall-clock durations and,
// where the OS tells, the thread's CPU time (nil otherwise).
type runTimes struct{ wall, cpu []time.Duration }

// timeRuns times fn runs times; the caller has locked its thread.
func timeRuns(runs int, fn func()) runTimes {
	var r runTimes
	for range runs {
		c0, okCPU := threadCPU()
		start := time.Now()
		fn()
		r.wall = append(r.wall, time.Since(start))
		if c1, ok := threadCPU(); ok && okCPU {
			r.cpu = append(r.cpu, c1-c0)
		}
	}
	slices.Sort(r.wall)
	slices.Sort(r.cpu)
	return r
}

func pointsOf(list []assets.Asset) []orb.Point {
	pts := make([]orb.Point, len(list))
	for i, a := range list {
		pts[i] = a.Point
	}
	return pts
}

// bruteWardAnswers is the definition of Locate: the first ward in file
// order that covers the point, testing every edge of the wards whose
// bounding box holds it (a point outside a ward's box is outside it).
func bruteWardAnswers(ws []wards.Ward, pts []orb.Point) []string {
	bounds := make([]orb.Bound, len(ws))
	for i, w := range ws {
		bounds[i] = w.Geometry.Bound()
	}
	out := make([]string, len(pts))
	for i, p := range pts {
		for k, w := range ws {
			if bounds[k].Contains(p) && geo.Covers(w.Geometry, p) {
				out[i] = w.ID
				break
			}
		}
	}
	return out
}

// bruteNearestAnswers is the definition of Nearest: every asset whose
// latitude is within the radius of the point's, by Ruler distance, ties to
// the smaller (layer, ID). Sorting by latitude only skips assets that are
// surely too far north or south.
func bruteNearestAnswers(list []assets.Asset, pts []orb.Point, radius float64) []nearAnswer {
	sorted := slices.Clone(list)
	slices.SortFunc(sorted, func(a, b assets.Asset) int { return cmp.Compare(a.Point[1], b.Point[1]) })
	out := make([]nearAnswer, len(pts))
	for i, p := range pts {
		r := geo.NewRuler(p[1])
		_, ky := r.MetresPerDegree()
		band := radius/ky*1.01 + 1e-9
		lo, _ := slices.BinarySearchFunc(sorted, p[1]-band, func(a assets.Asset, y float64) int { return cmp.Compare(a.Point[1], y) })
		var best *assets.Asset
		bestD := 0.0
		for k := lo; k < len(sorted) && sorted[k].Point[1] <= p[1]+band; k++ {
			a := &sorted[k]
			d := r.Distance(p, a.Point)
			if d > radius {
				continue
			}
			if best == nil || d < bestD || (d == bestD && cmp.Or(cmp.Compare(a.Layer, best.Layer), cmp.Compare(a.ID, best.ID)) < 0) {
				best, bestD = a, d
			}
		}
		if best != nil {
			out[i] = nearAnswer{best.Layer + "/" + best.ID, bestD}
		}
	}
	return out
}

func compareWards(pts []orb.Point, ours, theirs []string) (int, []string) {
	agree := 0
	var diffs []string
	for i := range pts {
		if ours[i] == theirs[i] {
			agree++
		} else if len(diffs) < 5 {
			diffs = append(diffs, fmt.Sprintf("%v: pinward %q, PostGIS %q", pts[i], ours[i], theirs[i]))
		}
	}
	return agree, diffs
}

// compareAssets counts the answers that agree to 1 cm, and apart those
// that agree only to tol metres (a tie or the radius's edge moved by a
// projection's scale).
func compareAssets(pts []orb.Point, ours, theirs []nearAnswer, radius, tol float64) (agree int, diffs []string, within int) {
	for i := range pts {
		a, b := ours[i], theirs[i]
		switch {
		case a.agrees(b, radius, 0.01):
			agree++
		case a.agrees(b, radius, tol):
			within++
		case len(diffs) < 5:
			diffs = append(diffs, fmt.Sprintf("%v: pinward %s %.3f m, PostGIS %s %.3f m", pts[i], a.id, a.d, b.id, b.d))
		}
	}
	return agree, diffs, within
}

// utmSRID is the EPSG code of the UTM zone (WGS84) holding p.
func utmSRID(p orb.Point) int {
	zone := int(math.Floor((p[0]+180)/6)) + 1
	zone = min(max(zone, 1), 60)
	if p[1] < 0 {
		return 32700 + zone
	}
	return 32600 + zone
}

type nearAnswer struct {
	id string
	d  float64
}

// agrees treats a difference under tol metres as a tie, including at the
// radius's edge, where one engine may find an asset at 74.999 m that the
// other puts at 75.001.
func (a nearAnswer) agrees(b nearAnswer, radius, tol float64) bool {
	switch {
	case a.id == b.id && (a.id == "" || math.Abs(a.d-b.d) < tol):
		return true
	case a.id != "" && b.id != "":
		return math.Abs(a.d-b.d) < tol
	case a.id != "":
		return math.Abs(a.d-radius) < tol
	default:
		return math.Abs(b.d-radius) < tol
	}
}

func syntheticSpatial() ([]wards.Ward, []assets.Asset, error) {
	cfg := data.DefaultCityConfig()
	cfg.WardsX, cfg.WardsY = 6, 4
	cfg.Requests = 0
	city, err := data.GenerateCity(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("generating the synthetic city: %w", err)
	}
	// Round-trip through the file formats, as a real deployment loads them.
	var wb, ab bytes.Buffer
	if err := city.WriteWardsGeoJSON(&wb); err != nil {
		return nil, nil, err
	}
	if err := city.WriteAssetsCSV(&ab); err != nil {
		return nil, nil, err
	}
	ws, err := wards.LoadGeoJSON(&wb, wards.DefaultFields())
	if err != nil {
		return nil, nil, err
	}
	list, rowErrs, err := assets.LoadCSV(&ab, assets.DefaultCSVFormat())
	if err != nil || len(rowErrs) > 0 {
		return nil, nil, fmt.Errorf("synthetic assets: %v %v", err, rowErrs)
	}
	return ws, list, nil
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

func loadBenchTables(ctx context.Context, conn *pgx.Conn, ws []wards.Ward, list []assets.Asset, pts []orb.Point, srid int) error {
	setup := []string{
		`CREATE EXTENSION IF NOT EXISTS postgis`,
		`DROP TABLE IF EXISTS bench_wards, bench_assets, bench_points`,
		`CREATE TABLE bench_wards (ord int PRIMARY KEY, id text NOT NULL, geom geometry(MultiPolygon, 4326) NOT NULL, utm geometry(MultiPolygon) NOT NULL)`,
		`CREATE TABLE bench_assets (layer text NOT NULL, id text NOT NULL, geog geography(Point, 4326) NOT NULL, utm geometry(Point) NOT NULL, PRIMARY KEY (layer, id))`,
		`CREATE TABLE bench_points (i int PRIMARY KEY, geom geometry(Point, 4326) NOT NULL, geog geography(Point, 4326) NOT NULL, utm geometry(Point) NOT NULL)`,
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
	assetRows := make([][]any, len(list))
	for i, a := range list {
		b, _ := wkb.Marshal(a.Point)
		assetRows[i] = []any{a.Layer, a.ID, b}
	}
	pointRows := make([][]any, len(pts))
	for i, p := range pts {
		b, _ := wkb.Marshal(p)
		pointRows[i] = []any{i, b}
	}
	loads := []struct {
		staging, cols, insert string
		rows                  [][]any
	}{
		{"s_wards", "ord int, id text, g bytea", fmt.Sprintf(`INSERT INTO bench_wards SELECT ord, id, ST_Multi(ST_GeomFromWKB(g, 4326)), ST_Multi(ST_Transform(ST_GeomFromWKB(g, 4326), %d)) FROM s_wards`, srid), wardRows},
		{"s_assets", "layer text, id text, g bytea", fmt.Sprintf(`INSERT INTO bench_assets SELECT layer, id, ST_GeomFromWKB(g, 4326)::geography, ST_Transform(ST_GeomFromWKB(g, 4326), %d) FROM s_assets`, srid), assetRows},
		{"s_points", "i int, g bytea", fmt.Sprintf(`INSERT INTO bench_points SELECT i, ST_GeomFromWKB(g, 4326), ST_GeomFromWKB(g, 4326)::geography, ST_Transform(ST_GeomFromWKB(g, 4326), %d) FROM s_points`, srid), pointRows},
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
		`CREATE INDEX ON bench_wards USING gist (utm)`,
		`CREATE INDEX ON bench_assets USING gist (geog)`,
		`CREATE INDEX ON bench_assets USING gist (utm)`,
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

// postgisWards runs the ward query on column col of both tables: geom
// (WGS84) or utm.
func postgisWards(ctx context.Context, conn *pgx.Conn, n int, col string) ([]string, time.Duration, error) {
	start := time.Now()
	rows, err := conn.Query(ctx, fmt.Sprintf(`
		SELECT p.i, w.id
		FROM bench_points p
		LEFT JOIN LATERAL (
			SELECT id FROM bench_wards w WHERE ST_Covers(w.%[1]s, p.%[1]s) ORDER BY w.ord LIMIT 1
		) w ON true`, col))
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

// The nearest-asset queries: on geography, as the bench always ran it, and
// PostGIS at its best, on geometry in UTM with the KNN operator.
const (
	geographyNearest = `
		SELECT p.i, a.id, a.d
		FROM bench_points p
		LEFT JOIN LATERAL (
			SELECT a.layer || '/' || a.id AS id, ST_Distance(a.geog, p.geog) AS d
			FROM bench_assets a
			WHERE ST_DWithin(a.geog, p.geog, $1)
			ORDER BY d, a.layer, a.id
			LIMIT 1
		) a ON true`
	utmNearest = `
		SELECT p.i, a.id, a.d
		FROM bench_points p
		LEFT JOIN LATERAL (
			SELECT a.layer || '/' || a.id AS id, ST_Distance(a.utm, p.utm) AS d
			FROM bench_assets a
			WHERE ST_DWithin(a.utm, p.utm, $1)
			ORDER BY a.utm <-> p.utm
			LIMIT 1
		) a ON true`
)

func postgisNearest(ctx context.Context, conn *pgx.Conn, n int, radius float64, query string) ([]nearAnswer, time.Duration, error) {
	start := time.Now()
	rows, err := conn.Query(ctx, query, radius)
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
