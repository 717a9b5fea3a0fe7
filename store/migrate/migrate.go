// Package migrate applies the stores' schema migrations with goose
// (github.com/pressly/goose/v3), one runner for PostgreSQL and SQLite.
//
// A store keeps its migrations as NNNN_name.sql files in an embed.FS; each
// file starts with "-- +goose Up". A file without "-- +goose StatementBegin"
// runs as one statement (the whole Up section in one Exec, as pinward's
// earlier runner ran it), so a trigger or a $$ function body needs no
// further annotation; a file with StatementBegin/End is split as goose
// always splits. Each file runs in its own transaction, under a lock that
// keeps two servers starting together from applying it twice, and files
// added out of order (two branches adding 0008 and 0009) are still applied.
//
// Adopt carries over the bookkeeping of the earlier runner, so a database
// it migrated upgrades without running any file twice.
package migrate

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// Dialects pinward runs on.
const (
	Postgres = goose.DialectPostgres
	SQLite   = goose.DialectSQLite3
)

// Up applies the migrations in files (a folder of NNNN_name.sql files) not
// yet recorded in goose's version table, holding locker for the duration,
// and logs each file it applies. what names the store in errors and logs.
func Up(ctx context.Context, db *sql.DB, dialect goose.Dialect, files fs.FS, locker lock.SessionLocker, what string) error {
	p, err := goose.NewProvider(dialect, db, WholeFiles(files),
		goose.WithSessionLocker(locker),
		goose.WithAllowOutofOrder(true),
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("%s: migrations: %w", what, err)
	}
	results, err := p.Up(ctx)
	var applied []string
	var took time.Duration
	for _, r := range results {
		if r.Error == nil {
			applied = append(applied, path.Base(r.Source.Path))
			took += r.Duration
		}
	}
	if len(applied) > 0 {
		slog.InfoContext(ctx, "migrations applied", "store", what, "files", applied, "duration", took.Round(time.Millisecond))
	}
	if err != nil {
		return fmt.Errorf("%s: migrate: %w", what, err)
	}
	return nil
}

// VersionTable is goose's table of applied versions.
const VersionTable = goose.DefaultTablename

// Adopt records versions (those the earlier runner applied) as applied in
// goose's version table, creating it, inside tx. The caller holds the lock
// that serialises migrations and calls it only when goose's table does not
// exist yet.
func Adopt(ctx context.Context, tx *sql.Tx, dialect goose.Dialect, versions []int64) error {
	st, err := database.NewStore(dialect, VersionTable)
	if err != nil {
		return err
	}
	if err := st.CreateVersionTable(ctx, tx); err != nil {
		return fmt.Errorf("create %s: %w", VersionTable, err)
	}
	for _, v := range append([]int64{0}, versions...) { // goose's own row 0 first
		if err := st.Insert(ctx, tx, database.InsertRequest{Version: v}); err != nil {
			return fmt.Errorf("record version %d in %s: %w", v, VersionTable, err)
		}
	}
	return nil
}

// Version is the number a migration file name starts with ("0004_assets"
// or "0004_assets.sql" is 4), as goose numbers it.
func Version(name string) (int64, error) {
	name = path.Base(name)
	if path.Ext(name) != ".sql" {
		name += ".sql"
	}
	return goose.NumericComponent(name)
}

// WholeFiles wraps a migration folder so that a file with no
// "-- +goose StatementBegin" has its Up section wrapped in one, and so
// reaches the database in one Exec.
func WholeFiles(files fs.FS) fs.FS { return wholeFS{files} }

type wholeFS struct{ fs.FS }

func (w wholeFS) Open(name string) (fs.File, error) {
	f, err := w.FS.Open(name)
	if err != nil || !strings.HasSuffix(name, ".sql") {
		return f, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	out, err := wrapUp(b)
	if err != nil {
		return nil, fmt.Errorf("migration %s: %w", name, err)
	}
	return &memFile{Reader: bytes.NewReader(out), info: fi}, nil
}

// ReadDir and Glob go to the wrapped folder (fs.Glob and fs.ReadDir use
// the folder's own methods when it has them).
func (w wholeFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(w.FS, name) }

const (
	upMark    = "-- +goose Up"
	downMark  = "-- +goose Down"
	beginMark = "-- +goose StatementBegin"
	endMark   = "-- +goose StatementEnd"
)

func wrapUp(b []byte) ([]byte, error) {
	if bytes.Contains(b, []byte("+goose StatementBegin")) {
		return b, nil
	}
	lines := strings.SplitAfter(string(b), "\n")
	up, down := -1, len(lines)
	for i, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case up < 0 && strings.HasPrefix(t, upMark):
			up = i
		case up >= 0 && strings.HasPrefix(t, downMark):
			down = i
		}
		if down < len(lines) {
			break
		}
	}
	if up < 0 {
		return nil, errors.New(`no "-- +goose Up" line: every migration file starts with one`)
	}
	var out strings.Builder
	for i, l := range lines {
		if i == down {
			out.WriteString(endMark + "\n")
		}
		out.WriteString(l)
		if i == up {
			if !strings.HasSuffix(l, "\n") {
				out.WriteString("\n")
			}
			out.WriteString(beginMark + "\n")
		}
	}
	if down == len(lines) {
		if s := out.String(); !strings.HasSuffix(s, "\n") {
			out.WriteString("\n")
		}
		out.WriteString(endMark + "\n")
	}
	return []byte(out.String()), nil
}

type memFile struct {
	*bytes.Reader
	info fs.FileInfo
}

func (m *memFile) Stat() (fs.FileInfo, error) { return sizedInfo{m.info, m.Size()}, nil }
func (m *memFile) Close() error               { return nil }

type sizedInfo struct {
	fs.FileInfo
	size int64
}

func (s sizedInfo) Size() int64 { return s.size }
