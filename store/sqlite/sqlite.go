// Package sqlite is the embedded implementation of requests.Store on modernc.org/sqlite (pure Go, no cgo), the default
// store for `make run` and small towns.
//
// The database runs in WAL mode with synchronous=FULL, so a write is on disk
// when its transaction commits: nothing acknowledged lives only in memory.
// Writes go through one connection and begin with BEGIN IMMEDIATE, which
// serialises them (cluster assignment and idempotency rely on it), also
// against another process using the same file; reads use a separate pool
// and never wait for a writer. Concurrent request creations share a
// transaction, so one fsync acknowledges many (group commit).
//
// Times are stored as unix microseconds in UTC (NULL for the zero time), so
// a request read back equals the one stored once its times are UTC and
// truncated to the microsecond, as requests.Service produces them.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/store/migrate"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is a pinward database in one SQLite file. It is safe for
// concurrent use.
type Store struct {
	write *sql.DB // exactly one connection: SQLite has one writer anyway
	read  *sql.DB // query_only connections for reads
	// commits batches concurrent CreateRequest calls into one transaction.
	commits groupCommit
	// watchers are woken after each write transaction commits.
	watchers watchers
}

// busyTimeout is how long a connection waits for another process's write
// lock before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Open opens (creating it and its folder if missing) the database file at
// path, applies any pending migrations and returns the Store. Close it when
// done.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: invalid database path %q", path)
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	common := url.Values{}
	common.Add("_pragma", "busy_timeout("+strconv.FormatInt(busyTimeout.Milliseconds(), 10)+")")
	common.Add("_pragma", "foreign_keys(1)")
	// FULL syncs the WAL on every commit: an acknowledged write survives
	// power loss, not only a crash of the process.
	common.Add("_pragma", "synchronous(FULL)")

	wq := cloneValues(common)
	wq.Add("_pragma", "journal_mode(WAL)")
	wq.Set("_txlock", "immediate") // take the write lock at BEGIN, not at the first write
	w, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s := &Store{write: w}
	if err := s.Migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}

	rq := cloneValues(common)
	rq.Add("_pragma", "query_only(1)") // a bug cannot write around the writer
	r, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.read = r
	return s, nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// Close closes the database. Every acknowledged write is already on disk.
func (s *Store) Close() error {
	s.commits.close()
	var errs []error
	if s.read != nil {
		errs = append(errs, s.read.Close())
	}
	if s.write != nil {
		// Closing the last connection checkpoints the WAL into the main file.
		errs = append(errs, s.write.Close())
	}
	return errors.Join(errs...)
}

// Migrate applies the embedded migrations not applied yet, with goose (see
// package migrate), each file in its own write transaction, under a lease
// lock so that several processes opening one file at once apply each file
// once. A database the earlier runner migrated (its schema_migrations
// table) is adopted first. Open calls it.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.adoptOldRunner(ctx); err != nil {
		return err
	}
	files, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return wrap(ctx, "migrations", err)
	}
	return migrate.Up(ctx, s.write, migrate.SQLite, files, migrate.SQLiteLocker(migrationLease), "sqlite")
}

// migrationLease is how long a process that died while migrating keeps
// others from migrating the same file.
const migrationLease = 2 * time.Minute

// adoptOldRunner copies the versions in schema_migrations, the table of the
// runner pinward had before goose, into goose's table when that does not
// exist yet. schema_migrations stays, unused.
func (s *Store) adoptOldRunner(ctx context.Context) error {
	return s.inTx(ctx, "adopt schema_migrations", func(tx *sql.Tx) error {
		var old, goose int
		if err := tx.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'),
			(SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?)`, migrate.VersionTable).Scan(&old, &goose); err != nil {
			return err
		}
		if old == 0 || goose > 0 {
			return nil
		}
		rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
		if err != nil {
			return err
		}
		var versions []int64
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return err
			}
			versions = append(versions, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		return migrate.Adopt(ctx, tx, migrate.SQLite, versions)
	})
}

// inTx runs fn in a write transaction (BEGIN IMMEDIATE) and commits it,
// or rolls it back when fn fails. Errors that are not already *i18n.Error
// are wrapped as Internal, naming op.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap(ctx, op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return wrap(ctx, op, err)
	}
	if err := tx.Commit(); err != nil {
		return wrap(ctx, op, err)
	}
	s.watchers.committed()
	return nil
}

// wrap returns err unchanged when it is already an *i18n.Error (NotFound,
// Conflict...), else as an Internal error naming op. When ctx is done its
// error is kept in the chain, so errors.Is(err, context.Canceled) holds for
// a client that hung up whatever the driver reported.
func wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	var ie *i18n.Error
	if errors.As(err, &ie) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	return &i18n.Error{
		Kind:    i18n.Internal,
		Message: i18n.T("the database failed", "la base de données a échoué"),
		Err:     fmt.Errorf("sqlite: %s: %w", op, err),
	}
}

// micros is t as stored: unix microseconds, NULL for the zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// fromMicros is the time stored as v, in UTC.
func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// norm is t as it reads back from the database.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}

// ceilMicros is t in unix microseconds, rounded up.
func ceilMicros(t time.Time) int64 {
	us := t.UnixMicro()
	if time.UnixMicro(us).Before(t) {
		us++
	}
	return us
}

// createPrivate creates the database's folder (0700) and file (0600) when
// missing, whatever the umask: the file holds residents' names, e-mail
// addresses and phone numbers. SQLite gives the -wal and -shm files the
// database file's mode. An existing folder or file keeps its mode.
func createPrivate(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("sqlite: create folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	// The umask may have taken bits from 0600, never added any; Chmod
	// makes the mode exact.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	return f.Close()
}
