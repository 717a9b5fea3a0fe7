package assets_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/internal/realdata"
)

// TestPostGISAgreement checks Nearest against PostGIS on the same assets:
// the nearest by spheroid distance (ST_Distance on geography) within 50 m,
// for 10,000 points per layer, half of them near an asset and half anywhere
// in the layer's bound (mostly "none within 50 m").
func TestPostGISAgreement(t *testing.T) {
	pool := pgtest.DB(t)
	ctx := t.Context()

	var all []assets.Asset
	type layerCase struct {
		layer string
		as    []assets.Asset
	}
	var cases []layerCase
	if path, err := realdata.Find(realLayers["gatineau hydrants"].file); err != nil {
		if realdata.Required() {
			t.Fatalf("%v (%s=1)", err, realdata.RequireEnv)
		}
		t.Logf("comparing synthetic layers only: %v", err)
	} else {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		format, _ := assets.ParseCSVFormat(realLayers["gatineau hydrants"].format)
		as, _, err := assets.LoadCSV(f, format)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		// Gatineau's layer is named apart from the synthetic hydrants.
		for i := range as {
			as[i].Layer = "gatineau_hydrant"
		}
		all = append(all, as...)
		cases = append(cases, layerCase{"gatineau_hydrant", as})
	}
	city, err := data.GenerateCity(data.DefaultCityConfig())
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string][]assets.Asset{}
	for _, a := range city.Assets {
		byType[a.Type] = append(byType[a.Type], assets.Asset{Layer: a.Type, ID: a.ID, Point: a.Point})
	}
	for _, typ := range slices.Sorted(maps.Keys(byType)) {
		all = append(all, byType[typ]...)
	}
	// The densest synthetic layer (streetlights every 35 m) and a sparse one.
	cases = append(cases, layerCase{data.AssetStreetlight, byType[data.AssetStreetlight]}, layerCase{data.AssetHydrant, byType[data.AssetHydrant]})

	ix, err := assets.NewIndex(all)
	if err != nil {
		t.Fatal(err)
	}
	if err := loadPostGIS(ctx, pool, all); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d assets in the index and in PostGIS (%v)", len(all), ix.Layers())

	const radius, n = 50.0, 10_000
	for ci, c := range cases {
		t.Run(c.layer, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(ci), 50))
			pts := randomPoints(rng, c.as, n)
			pg, pgTime, err := postgisNearest(ctx, pool, c.layer, pts, radius, "ORDER BY dist, a.id")
			if err != nil {
				t.Fatal(err)
			}

			start := time.Now()
			type answer struct {
				id   string
				dist float64
				ok   bool
			}
			ours := make([]answer, len(pts))
			for i, p := range pts {
				a, d, ok := ix.Nearest(p, radius, c.layer)
				ours[i] = answer{a.ID, d, ok}
			}
			ixTime := time.Since(start)

			var (
				sameID, nearTie, bothNone, edge int
				disagree                        []string
				maxDiff, sumDiff                float64
			)
			for i, o := range ours {
				g := pg[i]
				switch {
				case !o.ok && !g.ok:
					bothNone++
				case o.ok && g.ok && o.id == g.id:
					sameID++
					diff := math.Abs(o.dist - g.dist)
					sumDiff += diff
					maxDiff = max(maxDiff, diff)
				case o.ok && g.ok && math.Abs(o.dist-g.dist) <= 0.01:
					nearTie++ // two assets at the same distance, to within 1 cm
				case o.ok != g.ok && math.Abs(max(o.dist, g.dist)-radius) <= 0.01:
					edge++ // one lies on the radius, to within 1 cm
				default:
					disagree = append(disagree, fmt.Sprintf("%v: index %s %.4f m %v, PostGIS %s %.4f m %v",
						pts[i], o.id, o.dist, o.ok, g.id, g.dist, g.ok))
				}
			}
			t.Logf("%s: %d points within %g m: %d same asset (distance differs by at most %.5f m, mean %.6f m), %d near-ties, %d radius-edge cases, %d none within %g m by both, %d disagreements",
				c.layer, len(pts), radius, sameID, maxDiff, sumDiff/float64(max(sameID, 1)), nearTie, edge, bothNone, radius, len(disagree))
			t.Logf("%s: PostGIS %v for %d lookups (one set-based LATERAL query); index %v (%.0f× faster)",
				c.layer, pgTime.Round(time.Millisecond), len(pts), ixTime.Round(time.Microsecond), float64(pgTime)/float64(ixTime))
			for i, d := range disagree {
				if i == 20 {
					t.Errorf("… and %d more", len(disagree)-20)
					break
				}
				t.Errorf("disagreement: %s", d)
			}
			if maxDiff > 0.05 {
				t.Errorf("distances differ by up to %.4f m; want within 0.05 m", maxDiff)
			}
			if sameID+nearTie == 0 || bothNone == 0 {
				t.Errorf("the sample should have points with and without an asset within %g m", radius)
			}

			// The query as first written orders by geography <->, which
			// PostGIS computes on a sphere, not the spheroid; count how
			// often that picks a different asset.
			knn, _, err := postgisNearest(ctx, pool, c.layer, pts, radius, "ORDER BY a.geom::geography <-> q.pt")
			if err != nil {
				t.Fatal(err)
			}
			differ := 0
			for i := range knn {
				if knn[i].id != pg[i].id {
					differ++
				}
			}
			t.Logf("%s: ordering by <-> instead of ST_Distance picks another asset for %d of %d points", c.layer, differ, len(pts))
		})
	}
}

// randomPoints returns n points: half within 60 m of a random asset, half
// uniform over the layer's bound.
func randomPoints(rng *rand.Rand, as []assets.Asset, n int) []orb.Point {
	var b orb.Bound
	for i, a := range as {
		if i == 0 {
			b = a.Point.Bound()
		}
		b = b.Extend(a.Point)
	}
	pts := make([]orb.Point, n)
	for i := range pts {
		if i%2 == 0 {
			a := as[rng.IntN(len(as))]
			pts[i] = geo.NewProjection(a.Point).ToLonLat(orb.Point{rng.Float64()*120 - 60, rng.Float64()*120 - 60})
		} else {
			pts[i] = orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
		}
	}
	return pts
}

// loadPostGIS creates assets(layer, id, geom) with GiST indexes and fills it
// through COPY into a staging table (pgx has no codec for geometry).
func loadPostGIS(ctx context.Context, pool *pgxpool.Pool, as []assets.Asset) error {
	for _, q := range []string{
		`CREATE TABLE assets (layer text NOT NULL, id text NOT NULL, geom geometry(Point, 4326) NOT NULL, PRIMARY KEY (layer, id))`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE staging (layer text, id text, lon float8, lat float8)`); err != nil {
		return fmt.Errorf("create staging: %w", err)
	}
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"staging"}, []string{"layer", "id", "lon", "lat"},
		pgx.CopyFromSlice(len(as), func(i int) ([]any, error) {
			return []any{as[i].Layer, as[i].ID, as[i].Point[0], as[i].Point[1]}, nil
		}))
	if err != nil {
		return fmt.Errorf("copy assets: %w", err)
	}
	for _, q := range []string{
		`INSERT INTO assets SELECT layer, id, ST_SetSRID(ST_MakePoint(lon, lat), 4326) FROM staging`,
		// The geometry index is the one a GIS team expects; the geography
		// expression index is the one ST_DWithin on geography can use.
		`CREATE INDEX assets_geom ON assets USING gist (geom)`,
		`CREATE INDEX assets_geog ON assets USING gist ((geom::geography))`,
		`ANALYZE assets`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

type pgAnswer struct {
	id   string
	dist float64
	ok   bool
}

// postgisNearest answers every point in one LATERAL query over a table of
// the points.
func postgisNearest(ctx context.Context, pool *pgxpool.Pool, layer string, pts []orb.Point, radius float64, orderBy string) ([]pgAnswer, time.Duration, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS pts (qid int PRIMARY KEY, lon float8, lat float8, pt geography(Point, 4326))`); err != nil {
		return nil, 0, fmt.Errorf("create pts: %w", err)
	}
	if _, err := conn.Exec(ctx, `TRUNCATE pts`); err != nil {
		return nil, 0, err
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"pts"}, []string{"qid", "lon", "lat"},
		pgx.CopyFromSlice(len(pts), func(i int) ([]any, error) { return []any{i, pts[i][0], pts[i][1]}, nil })); err != nil {
		return nil, 0, fmt.Errorf("copy points: %w", err)
	}
	if _, err := conn.Exec(ctx, `UPDATE pts SET pt = ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography`); err != nil {
		return nil, 0, err
	}
	if _, err := conn.Exec(ctx, `ANALYZE pts`); err != nil {
		return nil, 0, err
	}
	q := `SELECT q.qid, n.id, n.dist
		FROM pts q
		LEFT JOIN LATERAL (
			SELECT a.id, ST_Distance(a.geom::geography, q.pt) AS dist
			FROM assets a
			WHERE a.layer = $1 AND ST_DWithin(a.geom::geography, q.pt, $2)
			` + orderBy + `
			LIMIT 1
		) n ON true
		ORDER BY q.qid`
	start := time.Now()
	rows, err := conn.Query(ctx, q, layer, radius)
	if err != nil {
		return nil, 0, fmt.Errorf("nearest query: %w", err)
	}
	out := make([]pgAnswer, len(pts))
	for rows.Next() {
		var qid int
		var id *string
		var dist *float64
		if err := rows.Scan(&qid, &id, &dist); err != nil {
			return nil, 0, err
		}
		if id != nil {
			out[qid] = pgAnswer{*id, *dist, true}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("nearest query: %w", err)
	}
	return out, time.Since(start), nil
}
