package tiles_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/maptile"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/tiles"
)

// The same data through ST_AsMVT / ST_AsMVTGeom (extent 4096, buffer 64,
// clipped) gives the same number of features per tile.
func TestFeatureCountsMatchSTAsMVT(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	c := sampleCity(t)
	reqs := cityRequests(c)
	tl := newTiler(t, c, reqs)

	for _, q := range []string{
		`CREATE TABLE req (id text, cluster_id text, wkb bytea)`,
		`CREATE TABLE asset (id text, layer text, wkb bytea)`,
		`CREATE TABLE ward (id text, wkb bytea)`,
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	copyRows := func(table string, cols []string, n int, row func(i int) []any) {
		t.Helper()
		if _, err := db.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil })); err != nil {
			t.Fatal(err)
		}
	}
	copyRows("req", []string{"id", "cluster_id", "wkb"}, len(reqs), func(i int) []any {
		return []any{reqs[i].ID, reqs[i].ClusterID, wkbOf(t, reqs[i].Point)}
	})
	copyRows("asset", []string{"id", "layer", "wkb"}, len(c.Assets), func(i int) []any {
		return []any{c.Assets[i].ID, c.Assets[i].Type, wkbOf(t, c.Assets[i].Point)}
	})
	copyRows("ward", []string{"id", "wkb"}, len(c.Wards), func(i int) []any {
		return []any{c.Wards[i].ID, wkbOf(t, c.Wards[i].Geometry)}
	})
	for _, q := range []string{
		`ALTER TABLE req ADD COLUMN geom geometry(Point, 4326)`, `UPDATE req SET geom = ST_GeomFromWKB(wkb, 4326)`,
		`ALTER TABLE asset ADD COLUMN geom geometry(Point, 4326)`, `UPDATE asset SET geom = ST_GeomFromWKB(wkb, 4326)`,
		`ALTER TABLE ward ADD COLUMN geom geometry(MultiPolygon, 4326)`, `UPDATE ward SET geom = ST_GeomFromWKB(wkb, 4326)`,
		// A cluster's point is the mean of its requests in Web Mercator,
		// as package tiles places it.
		`CREATE TABLE cl AS SELECT cluster_id AS id, ST_Transform(ST_SetSRID(ST_MakePoint(
			avg(ST_X(ST_Transform(geom, 3857))), avg(ST_Y(ST_Transform(geom, 3857)))), 3857), 4326) AS geom
			FROM req GROUP BY cluster_id`,
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}

	// pg_tileserv's query shape (layer_table.go), one layer per tile.
	stAsMVT := func(table, cols, layer string, tile maptile.Tile) int {
		t.Helper()
		var b []byte
		err := db.QueryRow(ctx, `SELECT ST_AsMVT(f, $4, 4096, 'geom') FROM (
			SELECT `+cols+`, ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom
			FROM `+table+` WHERE geom && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096), 4326)) f
			WHERE geom IS NOT NULL`, int(tile.Z), int(tile.X), int(tile.Y), layer).Scan(&b)
		if err != nil {
			t.Fatal(err)
		}
		return countFeatures(t, b)
	}
	check := func(layer, table, cols string, tile maptile.Tile) {
		t.Helper()
		b, err := tl.Render(layer, tile)
		if err != nil {
			t.Fatal(err)
		}
		got, want := countFeatures(t, b), stAsMVT(table, cols, layer, tile)
		if got != want {
			t.Errorf("%s tile %d/%d/%d: pinward %d features, ST_AsMVT %d", layer, tile.Z, tile.X, tile.Y, got, want)
		}
	}
	n := 0
	for _, z := range []maptile.Zoom{15, 16, 17} {
		for _, tile := range someTiles(reqs, z, 149) {
			if tl.Aggregated(tiles.LayerRequests, tile) || tl.Aggregated(tiles.LayerClusters, tile) {
				t.Fatalf("tile %v of the sample town is aggregated", tile)
			}
			check(tiles.LayerRequests, "req", "id", tile)
			check(tiles.LayerClusters, "cl", "id", tile)
			check(tiles.LayerAssets, "asset", "id, layer", tile)
			n++
		}
	}
	// Below DetailZoom: one feature per non-empty cell of a 16 × 16 grid
	// over the tile, at the mean of its points.
	cells := func(table string, tile maptile.Tile) int {
		t.Helper()
		var b []byte
		err := db.QueryRow(ctx, `WITH e AS (SELECT ST_TileEnvelope($1, $2, $3) AS env),
			p AS (SELECT ST_Transform(r.geom, 3857) AS g FROM `+table+` r, e
				WHERE r.geom && ST_Transform(e.env, 4326) AND ST_Intersects(ST_Transform(r.geom, 3857), e.env)),
			c AS (SELECT count(*) AS count, ST_SetSRID(ST_MakePoint(avg(ST_X(g)), avg(ST_Y(g))), 3857) AS g
				FROM p, e GROUP BY floor((ST_X(g) - ST_XMin(e.env)) / (ST_XMax(e.env) - ST_XMin(e.env)) * 16),
					floor((ST_YMax(e.env) - ST_Y(g)) / (ST_YMax(e.env) - ST_YMin(e.env)) * 16))
			SELECT ST_AsMVT(f, 'cells', 4096, 'geom') FROM (
				SELECT count, ST_AsMVTGeom(c.g, e.env, 4096, 64, true) AS geom FROM c, e) f
			WHERE geom IS NOT NULL`, int(tile.Z), int(tile.X), int(tile.Y)).Scan(&b)
		if err != nil {
			t.Fatal(err)
		}
		return countFeatures(t, b)
	}
	for _, z := range []maptile.Zoom{11, 12, 13, 14} {
		for _, tile := range someTiles(reqs, z, 173) {
			for layer, table := range map[string]string{tiles.LayerRequests: "req", tiles.LayerClusters: "cl"} {
				b, err := tl.Render(layer, tile)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := countFeatures(t, b), cells(table, tile); got != want {
					t.Errorf("%s tile %d/%d/%d: pinward %d cells, ST_AsMVT %d", layer, tile.Z, tile.X, tile.Y, got, want)
				}
			}
			n++
		}
	}
	for _, z := range []maptile.Zoom{10, 12, 14, 16} {
		for _, tile := range someTiles(reqs, z, 211) {
			check(tiles.LayerWards, "ward", "id", tile)
			n++
		}
	}
	t.Logf("%d tiles compared", n)
}

func wkbOf(t *testing.T, g orb.Geometry) []byte {
	t.Helper()
	b, err := wkb.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func countFeatures(t *testing.T, b []byte) int {
	t.Helper()
	if len(b) == 0 {
		return 0
	}
	ls, err := mvt.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range ls {
		n += len(l.Features)
	}
	return n
}
