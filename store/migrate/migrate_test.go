package migrate_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pinward/pinward/store/migrate"

	_ "modernc.org/sqlite"
)

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // as the store's write connection
	t.Cleanup(func() { db.Close() })
	return db
}

func up(t *testing.T, db *sql.DB, files fstest.MapFS) error {
	t.Helper()
	return migrate.Up(context.Background(), db, migrate.SQLite, files, migrate.SQLiteLocker(time.Minute), "test")
}

func count(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// A file with only "-- +goose Up" runs whole: a trigger whose body has
// semicolons (which goose would otherwise split) works. Files added later
// are applied, also a lower number than one already applied.
func TestUpWholeFilesAndOutOfOrder(t *testing.T) {
	files := fstest.MapFS{
		"0001_init.sql": {Data: []byte(`-- +goose Up
CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0);
CREATE TABLE log (id INTEGER);
CREATE TRIGGER t_log AFTER INSERT ON t BEGIN
  INSERT INTO log (id) VALUES (new.id);
  UPDATE t SET n = n + 1 WHERE id = new.id;
END;
`)},
		"0009_later.sql": {Data: []byte("-- +goose Up\nALTER TABLE t ADD COLUMN nine INTEGER;\n")},
		"README.md":      {Data: []byte("not a migration")},
	}
	db := openDB(t, filepath.Join(t.TempDir(), "m.db"))
	if err := up(t, db, files); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO t (id) VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM log WHERE id = 7`) + count(t, db, `SELECT n FROM t WHERE id = 7`); n != 2 {
		t.Errorf("trigger ran %d of its 2 statements", n)
	}
	// Another branch's 0008 arrives after 0009 was applied; with a Down
	// section, and split statements of its own.
	files["0008_branch.sql"] = &fstest.MapFile{Data: []byte(`-- +goose Up
-- +goose StatementBegin
CREATE TABLE eight (id INTEGER);
-- +goose StatementEnd
-- +goose Down
DROP TABLE eight;
`)}
	files["0010_down.sql"] = &fstest.MapFile{Data: []byte("-- +goose Up\nCREATE TABLE ten (id INTEGER);\n-- +goose Down\nDROP TABLE ten;\n")}
	for range 2 {
		if err := up(t, db, files); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM sqlite_schema WHERE name IN ('eight', 'ten')`); n != 2 {
		t.Errorf("%d of the tables of 0008 and 0010, want 2", n)
	}
	if n := count(t, db, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`); n != 4 {
		t.Errorf("%d versions recorded, want 4", n)
	}
}

// A file without the annotation is refused, naming it.
func TestUpNeedsAnnotation(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "m.db"))
	err := up(t, db, fstest.MapFS{"0001_init.sql": {Data: []byte("CREATE TABLE t (id INTEGER);\n")}})
	if err == nil {
		t.Fatal("a file without -- +goose Up was applied")
	}
	t.Log(err)
}

// Several processes (here: connections of their own) migrating one file at
// once apply each migration once.
func TestUpConcurrentSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	files := fstest.MapFS{}
	for i, name := range []string{"0001_a.sql", "0002_b.sql", "0003_c.sql"} {
		files[name] = &fstest.MapFile{Data: []byte("-- +goose Up\nCREATE TABLE t" + string(rune('a'+i)) + " (id INTEGER);\n")}
	}
	const n = 4
	dbs := make([]*sql.DB, n)
	for i := range dbs {
		dbs[i] = openDB(t, path)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = up(t, dbs[i], files) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("process %d: %v", i, err)
		}
	}
	if got := count(t, dbs[0], `SELECT count(*) FROM goose_db_version WHERE version_id > 0`); got != 3 {
		t.Errorf("%d versions recorded, want 3", got)
	}
	if got := count(t, dbs[0], `SELECT count(*) FROM `+migrate.LockTable); got != 0 {
		t.Errorf("the migration lock is still held (%d rows)", got)
	}
}

func TestVersion(t *testing.T) {
	for name, want := range map[string]int64{"0004_assets": 4, "0004_assets.sql": 4, "migrations/0010_x.sql": 10} {
		if v, err := migrate.Version(name); err != nil || v != want {
			t.Errorf("Version(%q) = %d, %v; want %d", name, v, err, want)
		}
	}
	if _, err := migrate.Version("init.sql"); err == nil {
		t.Error("Version(init.sql) succeeded")
	}
}
