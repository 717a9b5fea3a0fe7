package main

import (
	"context"
	"fmt"

	"github.com/pinward/pinward/internal/storeflags"
)

const migrateHelp = `
Applies the embedded database migrations that are not applied yet, to the
SQLite store in --data-dir (default ./var, created if missing) or to the
PostGIS database --db postgres://... (also PINWARD_DATA_DIR, PINWARD_DB).
It is safe to run again, and from several servers at once; serve also
migrates at start, so this is for deployments that migrate as a step.
`

func runMigrate(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "migrate", "migrate [--data-dir D | --db URL]", migrateHelp)
	var stf storeflags.Flags
	stf.Register(fs)
	if err := stf.Parse(fs, env, args); err != nil {
		return err
	}
	// Opening a store applies its pending migrations.
	_, closeStore, err := stf.Open(ctx)
	if err != nil {
		return err
	}
	closeStore()
	fmt.Fprintf(env.Stderr, "pinward migrate: %s is up to date\n", stf.Describe())
	return nil
}
