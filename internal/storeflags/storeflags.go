// Package storeflags opens the store a command works on: PostGIS when
// --db is set, else the embedded SQLite file in --data-dir.
package storeflags

import (
	"context"
	"flag"
	"log/slog"
	"path/filepath"

	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/mediabucket"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
	"github.com/pinward/pinward/store/sqlite"
)

// Flags choose the store: PostGIS when --db is set, else SQLite in
// --data-dir. Shared by serve, migrate and keys.
type Flags struct {
	DataDir, DB string
	// MediaBucket keeps photos in a bucket instead of the database
	// (package mediabucket); "" keeps them in the database.
	MediaBucket string
}

// Register adds --data-dir and --db to fs.
func (sf *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&sf.DataDir, "data-dir", "./var", "`folder` of the embedded SQLite store, created if missing")
	fs.StringVar(&sf.DB, "db", "", "PostGIS database `URL` (postgres://...) instead of the embedded store")
	fs.StringVar(&sf.MediaBucket, "media-bucket", "", "keep photos in this bucket `URL` instead of the database: "+
		"s3://NAME?region=R[&endpoint=URL&use_path_style=true] (credentials from the AWS_* environment), file:///DIR or mem://")
}

// Check refuses --data-dir and --db together on the command line (the
// caller would not know which store got the write), and lets a --data-dir
// on the command line win over PINWARD_DB in the environment.
func (sf *Flags) Check(given map[string]bool) error {
	switch {
	case given["data-dir"] && given["db"]:
		return cli.UsageErrorf("give --data-dir or --db, not both")
	case given["data-dir"]:
		sf.DB = ""
	}
	return nil
}

// SQLitePath is the embedded store's file.
func (sf *Flags) SQLitePath() string { return filepath.Join(sf.DataDir, "pinward.db") }

// Describe names the chosen store for logs.
func (sf *Flags) Describe() string {
	if sf.DB != "" {
		return "postgis"
	}
	return "sqlite:" + sf.SQLitePath()
}

// Open opens (and migrates) the chosen store, keeping its photos in
// --media-bucket when set.
func (sf *Flags) Open(ctx context.Context) (requests.Store, func(), error) {
	st, closeStore, err := sf.open(ctx)
	if err != nil || sf.MediaBucket == "" {
		return st, closeStore, err
	}
	mb, err := mediabucket.Open(ctx, sf.MediaBucket, st, slog.Default())
	if err != nil {
		closeStore()
		return nil, nil, cli.UsageError{Err: err}
	}
	return mb, func() { mb.Close(); closeStore() }, nil
}

func (sf *Flags) open(ctx context.Context) (requests.Store, func(), error) {
	if sf.DB != "" {
		s, err := postgis.Open(ctx, sf.DB)
		if err != nil {
			return nil, nil, err
		}
		return s, s.Close, nil
	}
	if sf.DataDir == "" {
		return nil, nil, cli.UsageErrorf("--data-dir is empty")
	}
	s, err := sqlite.Open(ctx, sf.SQLitePath())
	if err != nil {
		return nil, nil, err
	}
	return s, func() { s.Close() }, nil
}

// Parse parses args into fs (flags also from the environment, see
// cli.ParseEnvFlags) and checks the store flags it registered.
func (sf *Flags) Parse(fs *flag.FlagSet, env cli.Env, args []string) error {
	given, err := cli.ParseEnvFlags(fs, env, args)
	if err != nil {
		return err
	}
	return sf.Check(given)
}

// OpenTenant starts a command on one tenant's data in the store: it adds
// --tenant and the store flags to fs, parses args and opens the store.
// closeStore is the caller's to defer.
func OpenTenant(ctx context.Context, fs *flag.FlagSet, env cli.Env, args []string) (st requests.Store, tenant string, closeStore func(), err error) {
	t := fs.String("tenant", "sample", "the municipality's tenant `id`")
	var sf Flags
	sf.Register(fs)
	if err := sf.Parse(fs, env, args); err != nil {
		return nil, "", nil, err
	}
	if st, closeStore, err = sf.Open(ctx); err != nil {
		return nil, "", nil, err
	}
	return st, *t, closeStore, nil
}
