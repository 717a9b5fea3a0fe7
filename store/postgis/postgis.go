// Package postgis is the PostgreSQL + PostGIS implementation of
// requests.Store, the system of record for real
// deployments. Points are stored as geometry(Point, 4326) with a GiST
// index, so a GIS team can open the tables in QGIS.
//
// Points cross the wire as two float8 values (ST_MakePoint on the way in,
// ST_X/ST_Y on the way out): lossless, and no geometry codec is needed for
// a single point type.
package postgis

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/migrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrateLock is the advisory lock key that serialises adopting the
// earlier runner's bookkeeping (goose takes its own lock to migrate).
const migrateLock int64 = 0x70696e776172646d // "pinwardm"

// Store is a requests.Store on a PostGIS database.
type Store struct {
	pool *pgxpool.Pool
	// commits gathers concurrent CreateRequest calls into one transaction.
	commits groupCommit
}

var _ requests.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or keyword/value
// string; pool settings such as pool_max_conns are honoured), checks it
// answers, and applies any pending migrations.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgis: parse database URL: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgx's default (4 on two cores) caps the commits in flight, and
		// PostgreSQL flushes the WAL once for all the commits waiting
		// together: more connections, fewer fsyncs per request.
		cfg.MaxConns = DefaultMaxConns()
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgis: open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgis: connect: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// DefaultMaxConns is the pool size when the URL sets no pool_max_conns.
func DefaultMaxConns() int32 { return int32(max(16, 8*runtime.GOMAXPROCS(0))) }

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() {
	s.commits.close()
	s.pool.Close()
}

// Pool returns the connection pool, for tests and benchmarks.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Migrate applies the embedded migrations not yet applied, with goose (see
// package migrate), each file in its own transaction, under a session
// advisory lock: a server that starts while another migrates waits and
// then finds nothing left to do. A database the earlier runner migrated
// (its schema_migrations table) is adopted first.
func (s *Store) Migrate(ctx context.Context) error {
	db := stdlib.OpenDBFromPool(s.pool) // closing it leaves the pool open
	defer db.Close()
	if err := adoptOldRunner(ctx, db); err != nil {
		return fmt.Errorf("postgis: %w", err)
	}
	locker, err := migrate.PostgresLocker()
	if err != nil {
		return fmt.Errorf("postgis: migration lock: %w", err)
	}
	files, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("postgis: migrations: %w", err)
	}
	return migrate.Up(ctx, db, migrate.Postgres, files, locker, "postgis")
}

// adoptOldRunner copies the versions in schema_migrations, the table of the
// runner pinward had before goose ("0004_assets" rows), into goose's table
// when that does not exist yet. schema_migrations stays, unused.
func adoptOldRunner(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("adopt schema_migrations: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLock); err != nil {
		return fmt.Errorf("adopt schema_migrations: lock: %w", err)
	}
	var old, goose bool
	if err := tx.QueryRowContext(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL, to_regclass($1) IS NOT NULL`,
		migrate.VersionTable).Scan(&old, &goose); err != nil {
		return fmt.Errorf("adopt schema_migrations: %w", err)
	}
	if !old || goose {
		return nil
	}
	rows, err := tx.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		return fmt.Errorf("adopt schema_migrations: %w", err)
	}
	var versions []int64
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return fmt.Errorf("adopt schema_migrations: %w", err)
		}
		v, err := migrate.Version(name)
		if err != nil {
			rows.Close()
			return fmt.Errorf("adopt schema_migrations: version %q: %w", name, err)
		}
		versions = append(versions, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("adopt schema_migrations: %w", err)
	}
	if err := migrate.Adopt(ctx, tx, migrate.Postgres, versions); err != nil {
		return fmt.Errorf("adopt schema_migrations: %w", err)
	}
	return tx.Commit()
}

// internal wraps an unexpected failure as an Internal *i18n.Error; the API
// shows a generic message and logs the cause.
func internal(op string, err error) error {
	var ie *i18n.Error
	if errors.As(err, &ie) {
		return err // already classified (NotFound, Conflict, ...)
	}
	return &i18n.Error{
		Kind:    i18n.Internal,
		Message: i18n.T("storage failure", "défaillance du stockage"),
		Err:     fmt.Errorf("postgis: %s: %w", op, err),
	}
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation
// on the named constraint ("" for any).
func isUniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && (constraint == "" || pe.ConstraintName == constraint)
}
