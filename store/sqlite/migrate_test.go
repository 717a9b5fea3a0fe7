package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pinward/pinward/store/sqlite"
)

// A database the runner before goose migrated (its schema_migrations
// table) opens with goose: the versions it applied are adopted, not run
// again (0001_init would fail on its existing tables), and the files it had
// not applied yet are applied.
func TestMigrateAdoptsOldRunner(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) < 2 {
		t.Fatalf("migrations: %v, %v", files, err)
	}
	old := files[:len(files)-1] // the old runner stopped one file short

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i, f := range old {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("apply %s as the old runner did: %v", f, err)
		}
		var v int
		if _, err := fmt.Sscanf(filepath.Base(f), "%d_", &v); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?, ?)`, v, filepath.Base(f), i); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	for range 2 { // and opening again changes nothing
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatalf("open a database the old runner migrated: %v", err)
		}
		s.Close()
	}
	db, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var versions, rows int
	if err := db.QueryRowContext(ctx, `SELECT count(DISTINCT version_id), count(*)
		FROM goose_db_version WHERE version_id > 0 AND is_applied`).Scan(&versions, &rows); err != nil {
		t.Fatal(err)
	}
	if versions != len(files) || rows != versions {
		t.Errorf("goose_db_version: %d versions in %d rows, want each of %d once", versions, rows, len(files))
	}
}
