package bench

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/store/postgis"
)

// TestBenchesLeaveNothing runs every bench at a tiny size against a fresh
// PostGIS database and checks that afterwards the database holds the same
// tables as a freshly migrated one and no tenant rows at all: the benches
// remove the tables and tenants they create in the database they are given.
func TestBenchesLeaveNothing(t *testing.T) {
	url := pgtest.URL(t)
	ctx := t.Context()
	st, err := postgis.Open(ctx, url) // migrated, as a deployment's database is
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pool := st.Pool()
	before := tableNames(t, pool)
	if len(before) == 0 || len(tenantTables(t, pool)) < 5 {
		t.Fatalf("the migrated database has tables %v: the check below would prove nothing", before)
	}

	for _, args := range [][]string{
		{"geocode", "--points", "200"},
		{"cluster", "--requests", "300", "--runs", "1"},
		{"intake", "--stores", "postgis", "--duration", "1s", "--requests", "20", "--warmup", "10", "--rate", "20", "--concurrency", "2"},
		{"assets", "--stores", "postgis", "--features", "50", "--batch", "20"},
		{"workorders", "--stores", "postgis", "--n", "20", "--workers", "2"},
		{"tiles", "--requests", "300", "--tiles", "5"},
		{"report", "--requests", "100", "--runs", "1"},
	} {
		env, out, errb := testEnv(nil)
		if err := Run(ctx, env, append(append(args, "--db"), url)); err != nil {
			t.Fatalf("bench %v: %v\n%s\n%s", args, err, out, errb)
		}
		if after := tableNames(t, pool); !slices.Equal(after, before) {
			t.Errorf("bench %s left tables: before %v, after %v", args[0], before, after)
		}
		for _, table := range tenantTables(t, pool) {
			var n int
			if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("bench %s left %d rows in %s", args[0], n, table)
			}
		}
	}
}

// tableNames lists every table of the database outside the system schemas,
// temporary ones of other sessions included.
func tableNames(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT table_schema || '.' || table_name FROM information_schema.tables
		WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// tenantTables lists the tables with a tenant_id column.
func tenantTables(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables USING (table_schema, table_name)
		WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}
