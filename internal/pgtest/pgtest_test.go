package pgtest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/internal/pgtest"
)

func TestDB(t *testing.T) {
	pool := pgtest.DB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var wkt string
	if err := pool.QueryRow(ctx, "SELECT ST_AsText(ST_MakePoint(1,2))").Scan(&wkt); err != nil {
		t.Fatal(err)
	}
	if wkt != "POINT(1 2)" {
		t.Errorf("ST_AsText = %q, want POINT(1 2)", wkt)
	}
}

// TestIsolation checks that parallel callers get distinct, empty databases.
func TestIsolation(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			pool := pgtest.DB(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := pool.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY, geom geometry(Point, 4326))"); err != nil {
				t.Fatal(err)
			}
			if _, err := pool.Exec(ctx, "INSERT INTO t VALUES ($1, ST_SetSRID(ST_MakePoint(1, 2), 4326))", i); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestURL checks that URL's database works from a separate connection and is
// dropped when the test ends.
func TestURL(t *testing.T) {
	var name string
	t.Run("use", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		var version string
		if err := conn.QueryRow(ctx, "SELECT postgis_lib_version()").Scan(&version); err != nil {
			t.Fatal(err)
		}
	})
	if name == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool := pgtest.DB(t)
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s still exists after its test ended", name)
	}
}
