// Package pgtest gives tests a fresh PostGIS database of their own.
//
// The server comes from PINWARD_TEST_DATABASE_URL, which `make test`
// (scripts/with-postgis.sh) sets to a throwaway PostgreSQL. Without it the
// tests that need PostGIS are skipped, unless PINWARD_REQUIRE_DB=1, in which
// case they fail.
//
// Every call to DB or URL creates a database named pinward_t_<random hex>
// with the postgis extension and drops it when the test ends, so tests and
// test packages can run in parallel without seeing each other's rows. New
// databases are copied from a template database (pinward_t_template) that is
// built once per server, which is several times faster than running
// CREATE EXTENSION postgis each time.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Environment variables read by this package.
const (
	EnvURL     = "PINWARD_TEST_DATABASE_URL"
	EnvRequire = "PINWARD_REQUIRE_DB"
)

const (
	templateName = "pinward_t_template"
	// templateLock is the advisory lock key that serialises building the
	// template across concurrently running test processes.
	templateLock = 0x70696e77617264 // "pinward"

	setupTimeout   = 2 * time.Minute
	cleanupTimeout = 30 * time.Second

	// maxConns caps pools from DB unless the URL sets pool_max_conns, so that
	// parallel test packages stay well under the server's max_connections.
	maxConns = 8
)

// DB returns a pool connected to a fresh, empty PostGIS database. The pool
// is closed and the database dropped when the test ends.
func DB(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	connString := URL(tb)
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		tb.Fatalf("pgtest: parse %s: %v", EnvURL, err)
	}
	if !strings.Contains(connString, "pool_max_conns") && cfg.MaxConns > maxConns {
		cfg.MaxConns = maxConns
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatalf("pgtest: open pool: %v", err)
	}
	tb.Cleanup(pool.Close) // runs before the DROP DATABASE registered by URL
	if err := pool.Ping(ctx); err != nil {
		tb.Fatalf("pgtest: ping: %v", err)
	}
	return pool
}

// URL returns the connection string of a fresh, empty PostGIS database, for
// tests that need to open their own connections or start a subprocess. The
// database is dropped when the test ends.
func URL(tb testing.TB) string {
	tb.Helper()
	base := baseURL(tb)

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("pgtest: connect to %s: %v", EnvURL, err)
	}
	defer admin.Close(context.Background())

	name, err := createDatabase(ctx, admin, base)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		if err := dropDatabase(base, name); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
	})
	u, err := withDatabase(base, name)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return u
}

// baseURL returns $PINWARD_TEST_DATABASE_URL, or skips (fails under
// PINWARD_REQUIRE_DB=1) when it is not set.
func baseURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvURL)
	if u != "" {
		return u
	}
	if os.Getenv(EnvRequire) == "1" {
		tb.Fatalf("pgtest: %s=1 but %s is not set; run the tests with make test (scripts/with-postgis.sh)", EnvRequire, EnvURL)
	}
	tb.Skip("PostGIS tests need PINWARD_TEST_DATABASE_URL; run make test")
	return ""
}

// createDatabase creates pinward_t_<hex> from the PostGIS template and
// returns its name.
func createDatabase(ctx context.Context, admin *pgx.Conn, base string) (string, error) {
	if err := ensureTemplate(ctx, admin, base); err != nil {
		return "", err
	}
	name := "pinward_t_" + randomHex()
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() +
		" TEMPLATE " + pgx.Identifier{templateName}.Sanitize()
	if _, err := admin.Exec(ctx, sql); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return name, nil
}

// ensureTemplate builds the template database with the postgis extension
// unless it exists. It is built under a temporary name and renamed at the
// end, so a half-built template is never used.
func ensureTemplate(ctx context.Context, admin *pgx.Conn, base string) (err error) {
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(templateLock)); err != nil {
		return fmt.Errorf("lock template: %w", err)
	}
	defer func() {
		if _, uerr := admin.Exec(ctx, "SELECT pg_advisory_unlock($1)", int64(templateLock)); uerr != nil && err == nil {
			err = fmt.Errorf("unlock template: %w", uerr)
		}
	}()

	var exists bool
	if err := admin.QueryRow(ctx,
		"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", templateName,
	).Scan(&exists); err != nil {
		return fmt.Errorf("look up template: %w", err)
	}
	if exists {
		return nil
	}

	building := "pinward_t_build_" + randomHex()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{building}.Sanitize()); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	if err := installPostGIS(ctx, base, building); err != nil {
		_ = dropDatabase(base, building)
		return err
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{building}.Sanitize()+
		" RENAME TO "+pgx.Identifier{templateName}.Sanitize()); err != nil {
		_ = dropDatabase(base, building)
		return fmt.Errorf("rename template: %w", err)
	}
	return nil
}

func installPostGIS(ctx context.Context, base, name string) error {
	u, err := withDatabase(base, name)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", name, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE EXTENSION postgis"); err != nil {
		return fmt.Errorf("create extension postgis in %s (is PostGIS installed on the server?): %w", name, err)
	}
	return nil
}

func dropDatabase(base, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return fmt.Errorf("drop database %s: connect: %w", name, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// withDatabase returns connString with its database replaced by name. It
// accepts both URLs (postgres://...) and keyword/value strings.
func withDatabase(connString, name string) (string, error) {
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		u, err := url.Parse(connString)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", EnvURL, err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	if connString == "" {
		return "", errors.New("empty connection string")
	}
	return connString + " dbname=" + name, nil // the last dbname wins
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error
	return hex.EncodeToString(b)
}
