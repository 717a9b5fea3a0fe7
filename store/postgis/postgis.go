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
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrateLock is the advisory lock key that serialises migrations, so two
// servers starting together on one database do not both apply them.
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

// Migrate applies the embedded migrations not yet recorded in
// schema_migrations, in name order, in one transaction under an advisory
// lock: a server that starts while another migrates waits and then finds
// nothing left to do, and a failed migration leaves the schema untouched.
func (s *Store) Migrate(ctx context.Context) error {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("postgis: list migrations: %w", err)
	}
	sort.Strings(names)
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLock); err != nil {
			return fmt.Errorf("postgis: lock migrations: %w", err)
		}
		// schema_migrations is bookkeeping for the whole database, not
		// tenant data, so it has no tenant_id.
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    text PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("postgis: create schema_migrations: %w", err)
		}
		rows, err := tx.Query(ctx, "SELECT version FROM schema_migrations")
		if err != nil {
			return fmt.Errorf("postgis: read schema_migrations: %w", err)
		}
		applied, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("postgis: read schema_migrations: %w", err)
		}
		done := make(map[string]bool, len(applied))
		for _, v := range applied {
			done[v] = true
		}
		for _, name := range names {
			version := strings.TrimSuffix(path.Base(name), ".sql")
			if done[version] {
				continue
			}
			sql, err := migrationFS.ReadFile(name)
			if err != nil {
				return fmt.Errorf("postgis: read migration %s: %w", version, err)
			}
			// No arguments: pgx sends the file with the simple protocol,
			// which allows several statements.
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return fmt.Errorf("postgis: apply migration %s: %w", version, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", version); err != nil {
				return fmt.Errorf("postgis: record migration %s: %w", version, err)
			}
		}
		return nil
	})
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
