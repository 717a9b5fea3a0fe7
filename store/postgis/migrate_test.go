package postgis_test

import (
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/store/postgis"
)

// A database the runner before goose migrated (its schema_migrations table
// of "0004_assets" rows) opens with goose: the versions it applied are
// adopted, not run again (0001_init would fail on its existing tables), and
// the files it had not applied yet are applied.
func TestMigrateAdoptsOldRunner(t *testing.T) {
	ctx := ctxT(t)
	url := pgtest.URL(t)
	files, err := fs.Glob(os.DirFS("migrations"), "*.sql")
	if err != nil || len(files) < 2 {
		t.Fatalf("migrations: %v, %v", files, err)
	}
	old := files[:len(files)-1] // the old runner stopped one file short

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	// The old runner's state, as it left it: each file applied in name
	// order, and recorded by name without ".sql".
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (
		version    text PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	for _, f := range old {
		sql, err := os.ReadFile("migrations/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, string(sql)); err != nil {
			t.Fatalf("apply %s as the old runner did: %v", f, err)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", strings.TrimSuffix(f, ".sql")); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close(ctx)

	for range 2 { // and opening again changes nothing
		s, err := postgis.Open(ctx, url)
		if err != nil {
			t.Fatalf("open a database the old runner migrated: %v", err)
		}
		var versions, rows int
		if err := s.Pool().QueryRow(ctx, `SELECT count(DISTINCT version_id), count(*)
			FROM goose_db_version WHERE version_id > 0 AND is_applied`).Scan(&versions, &rows); err != nil {
			t.Fatal(err)
		}
		if versions != len(files) || rows != versions {
			t.Errorf("goose_db_version: %d versions in %d rows, want each of %d once", versions, rows, len(files))
		}
		s.Close()
	}
}
