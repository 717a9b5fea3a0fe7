package wards_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/wards"
)

// syntheticWards is the default synthetic city of package data (12 jagged
// wards with an enclave, a lake and an island), without its assets and
// requests, which these tests do not need.
func syntheticWards(tb testing.TB) []wards.Ward {
	tb.Helper()
	return cityWards(tb, data.DefaultCityConfig())
}

// cityWards generates the city of cfg and returns its wards.
func cityWards(tb testing.TB, cfg data.CityConfig) []wards.Ward {
	tb.Helper()
	cfg.Requests = 0
	city, err := data.GenerateCity(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ws := make([]wards.Ward, len(city.Wards))
	for i, w := range city.Wards {
		ws[i] = wards.Ward{ID: w.ID, Name: i18n.T(w.NameEn, w.NameFr), Geometry: w.Geometry}
	}
	return ws
}

// TestPostGISAgreement checks Generation.Locate against PostGIS's answer to
// the same question under the same boundary rule:
//
//	SELECT id FROM wards WHERE ST_Covers(geom, pt) ORDER BY ord LIMIT 1
//
// on random points (which must agree exactly). On every ward vertex and
// edge midpoint (points on a border two wards may share, where the first
// ward wins) pinward's ward must be one of the wards ST_Covers says cover
// the point, and pinward must find a ward whenever PostGIS finds one; which
// of several covering wards is first is reported, not asserted. Points a
// hair off the vertices are reported only: there the two implementations'
// floating-point predicates may legitimately differ.
func TestPostGISAgreement(t *testing.T) {
	pool := pgtest.DB(t)
	cities := []struct {
		name  string
		wards func(testing.TB) []wards.Ward
	}{
		{"synthetic", syntheticWards},
		{"Ottawa", func(tb testing.TB) []wards.Ward {
			return loadFile(tb, dataFile(tb, "ottawa/boundaries/Wards_2022-2026.geojson"), "WARD,NAME,NAME_FR")
		}},
		{"Montréal", func(tb testing.TB) []wards.Ward {
			return loadFile(tb, dataFile(tb, "montreal/boundaries/limites-administratives-agglomeration.geojson"), "CODEID,NOM")
		}},
		{"Gatineau", func(tb testing.TB) []wards.Ward {
			return loadFile(tb, dataFile(tb, "gatineau/boundaries/decoupage_administratif.geojson"), "CODEID,NOM")
		}},
		{"Los Angeles", func(tb testing.TB) []wards.Ward {
			return loadFile(tb, dataFile(tb, "los_angeles/boundaries/la-city-council-districts-2012.json"), "name")
		}},
	}
	for ci, c := range cities {
		t.Run(c.name, func(t *testing.T) {
			ws := c.wards(t)
			g := generation(t, ws)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			schema := fmt.Sprintf("city%d", ci)
			loadPostGIS(ctx, t, pool, schema, ws)

			rng := rand.New(rand.NewPCG(42, uint64(ci)))
			random := spread(rng, 20000, g.Bound())
			var vertices, nearVertices, midpoints []orb.Point
			for _, w := range ws {
				for _, poly := range w.Geometry {
					for _, r := range poly {
						for k, p := range r[:len(r)-1] {
							vertices = append(vertices, p)
							q := r[k+1]
							midpoints = append(midpoints, orb.Point{(p[0] + q[0]) / 2, (p[1] + q[1]) / 2})
							// 1e-9° is about 0.1 mm: well inside the gap where
							// float64 predicates can disagree with GEOS.
							nearVertices = append(nearVertices, orb.Point{p[0] + 1e-9*(rng.Float64()-0.5), p[1] + 1e-9*(rng.Float64()-0.5)})
						}
					}
				}
			}
			for _, set := range []struct {
				kind   string
				pts    []orb.Point
				strict bool // pinward's answer is PostGIS's
				covers bool // pinward's ward is among those that cover the point
			}{
				{"random", random, true, false},
				{"vertex", vertices, false, true},
				{"near-vertex", nearVertices, false, false},
				{"edge-midpoint", midpoints, false, true},
			} {
				if set.covers {
					checkCovers(ctx, t, pool, schema, g, c.name+" "+set.kind, set.pts)
				}
				start := time.Now()
				pg := postGISLocate(ctx, t, pool, schema, set.pts)
				pgTime := time.Since(start)
				agree, inside := 0, 0
				var diffs []string
				for i, p := range set.pts {
					var got string
					if w, ok := g.Locate(p); ok {
						got = w.ID
						inside++
					}
					if got == pg[i] {
						agree++
					} else if len(diffs) < 5 {
						diffs = append(diffs, fmt.Sprintf("%.10f,%.10f: pinward %q, PostGIS %q", p[0], p[1], got, pg[i]))
					}
				}
				t.Logf("%s %s points: %d/%d agree with PostGIS (%d in a ward; PostGIS took %v)",
					c.name, set.kind, agree, len(set.pts), inside, pgTime.Round(time.Millisecond))
				for _, d := range diffs {
					if set.strict {
						t.Errorf("%s disagreement: %s", set.kind, d)
					} else {
						t.Logf("%s disagreement: %s", set.kind, d)
					}
				}
				if set.strict && agree != len(set.pts) {
					t.Errorf("%s: %d of %d random points disagree with PostGIS", c.name, len(set.pts)-agree, len(set.pts))
				}
			}
		})
	}
}

// checkCovers asserts that for every point pinward's ward is among the
// wards ST_Covers says cover it, and that pinward finds a ward whenever one
// covers the point.
func checkCovers(ctx context.Context, t *testing.T, pool *pgxpool.Pool, schema string, g *wards.Generation, what string, pts []orb.Point) {
	t.Helper()
	covering := postGISCovers(ctx, t, pool, schema, pts)
	bad, checked := 0, 0
	for i, p := range pts {
		w, ok := g.Locate(p)
		switch {
		case ok && !slices.Contains(covering[i], w.ID):
			bad++
			if bad <= 5 {
				t.Errorf("%s %.10f,%.10f: pinward says ward %q, ST_Covers says %q", what, p[0], p[1], w.ID, covering[i])
			}
		case !ok && len(covering[i]) > 0:
			bad++
			if bad <= 5 {
				t.Errorf("%s %.10f,%.10f: pinward finds no ward, ST_Covers says %q", what, p[0], p[1], covering[i])
			}
		default:
			checked++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d points outside the wards ST_Covers returns", what, bad, len(pts))
	}
	if checked == 0 {
		t.Errorf("%s: no points checked", what)
	}
}

// postGISCovers returns, for every point, the IDs of all wards that
// ST_Covers it.
func postGISCovers(ctx context.Context, t *testing.T, pool *pgxpool.Pool, schema string, pts []orb.Point) [][]string {
	t.Helper()
	insertPoints(ctx, t, pool, schema, pts)
	rows, err := pool.Query(ctx, fmt.Sprintf(`
		SELECT p.i, coalesce(array_agg(w.id) FILTER (WHERE w.id IS NOT NULL), '{}')
		FROM %[1]s.pts p
		LEFT JOIN %[1]s.wards w ON ST_Covers(w.geom, p.geom)
		GROUP BY p.i`, schema))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := make([][]string, len(pts))
	n := 0
	for rows.Next() {
		var i int32
		var ids []string
		if err := rows.Scan(&i, &ids); err != nil {
			t.Fatal(err)
		}
		out[i] = ids
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(pts) {
		t.Fatalf("PostGIS answered for %d of %d points", n, len(pts))
	}
	return out
}

// spread draws n points over b widened by 5% on each side, so a share of
// them fall outside the municipality.
func spread(rng *rand.Rand, n int, b orb.Bound) []orb.Point {
	dx, dy := (b.Max[0]-b.Min[0])*0.05, (b.Max[1]-b.Min[1])*0.05
	pts := make([]orb.Point, n)
	for i := range pts {
		pts[i] = orb.Point{
			b.Min[0] - dx + rng.Float64()*(b.Max[0]-b.Min[0]+2*dx),
			b.Min[1] - dy + rng.Float64()*(b.Max[1]-b.Min[1]+2*dy),
		}
	}
	return pts
}

// loadPostGIS creates schema.wards(ord, id, geom) with a GiST index, from
// WKB so PostGIS sees bit-identical coordinates.
func loadPostGIS(ctx context.Context, t *testing.T, pool *pgxpool.Pool, schema string, ws []wards.Ward) {
	t.Helper()
	ddl := fmt.Sprintf(`
		CREATE SCHEMA %[1]s;
		CREATE TABLE %[1]s.wards (ord int PRIMARY KEY, id text NOT NULL, geom geometry(MultiPolygon, 4326) NOT NULL);
		CREATE TABLE %[1]s.pts (i int PRIMARY KEY, geom geometry(Point, 4326) NOT NULL);`, schema)
	if _, err := pool.Exec(ctx, ddl); err != nil {
		t.Fatal(err)
	}
	for i, w := range ws {
		b, err := wkb.Marshal(w.Geometry)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx,
			fmt.Sprintf(`INSERT INTO %s.wards VALUES ($1, $2, ST_SetSRID(ST_GeomFromWKB($3), 4326))`, schema),
			i, w.ID, b); err != nil {
			t.Fatalf("insert ward %s: %v", w.ID, err)
		}
	}
	if _, err := pool.Exec(ctx, fmt.Sprintf(`CREATE INDEX ON %[1]s.wards USING gist (geom); ANALYZE %[1]s.wards`, schema)); err != nil {
		t.Fatal(err)
	}
	var invalid int
	if err := pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s.wards WHERE NOT ST_IsValid(geom)`, schema)).Scan(&invalid); err != nil {
		t.Fatal(err)
	}
	if invalid > 0 {
		t.Errorf("PostGIS finds %d wards invalid that geo.ValidateMultiPolygon accepted", invalid)
	}
}

// postGISLocate answers the boundary rule for every point in one set-based
// query; "" for a point in no ward.
func postGISLocate(ctx context.Context, t *testing.T, pool *pgxpool.Pool, schema string, pts []orb.Point) []string {
	t.Helper()
	insertPoints(ctx, t, pool, schema, pts)
	rows, err := pool.Query(ctx, fmt.Sprintf(`
		SELECT p.i, coalesce(w.id, '')
		FROM %[1]s.pts p
		LEFT JOIN LATERAL (
			SELECT id FROM %[1]s.wards WHERE ST_Covers(geom, p.geom) ORDER BY ord LIMIT 1
		) w ON true`, schema))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := make([]string, len(pts))
	n := 0
	for rows.Next() {
		var i int32
		var id string
		if err := rows.Scan(&i, &id); err != nil {
			t.Fatal(err)
		}
		out[i] = id
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(pts) {
		t.Fatalf("PostGIS answered for %d of %d points", n, len(pts))
	}
	return out
}

// insertPoints replaces schema.pts with pts.
func insertPoints(ctx context.Context, t *testing.T, pool *pgxpool.Pool, schema string, pts []orb.Point) {
	t.Helper()
	xs, ys, is := make([]float64, len(pts)), make([]float64, len(pts)), make([]int32, len(pts))
	for i, p := range pts {
		xs[i], ys[i], is[i] = p[0], p[1], int32(i)
	}
	// float8[] travels in binary, so the points arrive bit-exact.
	if _, err := pool.Exec(ctx, fmt.Sprintf(`TRUNCATE %s.pts`, schema)); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, fmt.Sprintf(`INSERT INTO %[1]s.pts SELECT i, ST_SetSRID(ST_MakePoint(x, y), 4326) FROM unnest($1::int[], $2::float8[], $3::float8[]) AS u(i, x, y)`, schema),
		is, xs, ys); err != nil {
		t.Fatal(err)
	}
}
