package main

import (
	"context"
	"fmt"
	"time"

	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/internal/storeflags"

	"github.com/pinward/pinward/requests"
)

const keysHelp = `
Makes an API key for an integrator, a staff tool or an administrator. The
key is printed alone on stdout, once: only its hash is stored, so a lost key
cannot be shown again (make a new one). The store is the one serve uses:
--data-dir (default ./var) or --db postgres://..., also from PINWARD_DATA_DIR
and PINWARD_DB.

Roles: reporter (submit requests only: the key a public page or kiosk
publishes), integrator (submit requests, push assets, report work-order
status: any Open311 client, the phone agents' app, the asset-management
system), staff (also manage clusters, read reporters, logged, and work
orders), admin (everything, including keys).

A staff key may be limited with --departments (department codes of the
catalog, comma-separated) and --wards (ward IDs): it then reads, changes
and reports only the requests, clusters and work orders of those
departments and wards; anything else answers 404 as if it did not exist.
`

func runKeys(ctx context.Context, env Env, args []string) error {
	subs := map[string]func([]string) error{}
	for name, run := range keySubcommands {
		subs[name] = func(args []string) error { return run(ctx, env, args) }
	}
	return cli.Subcommands(env, args, "keys create --role reporter|integrator|staff|admin [--label L] [--departments D,D] [--wards W,W] [--tenant T] [--data-dir D | --db URL]", keysHelp, func(string) error {
		return usageErrorf("usage: pinward keys create --role reporter|integrator|staff|admin [flags] (pinward keys create --help)")
	}, subs)
}

func runKeysCreate(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "keys create", "keys create --role reporter|integrator|staff|admin [--label L] [--departments D,D] [--wards W,W] [--tenant T] [--data-dir D | --db URL]", keysHelp)
	role := fs.String("role", "", "what the key may do: reporter, `integrator`, staff or admin (required)")
	label := fs.String("label", "", "who holds the key, for operators (e.g. \"phone agents' app\")")
	tenant := fs.String("tenant", "sample", "the municipality's tenant `id`")
	depts := fs.String("departments", "", "staff only: limit the key to these department `codes` (comma-separated)")
	wards := fs.String("wards", "", "staff only: limit the key to these ward `IDs` (comma-separated)")
	expires := fs.String("expires", "", "the key stops working on this `date` (2027-01-01, midnight UTC) or time (RFC 3339); default: never")
	var stf storeflags.Flags
	stf.Register(fs)
	if err := stf.Parse(fs, env, args); err != nil {
		return err
	}
	want, err := requests.NewKeyRequest(*role, *tenant, *label, *depts, *wards)
	if err != nil {
		return usageError{err}
	}
	expiry, err := cli.ParseExpiry(*expires)
	if err != nil {
		return usageErrorf("--expires: %v", err)
	}
	st, closeStore, err := stf.Open(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	key, k, err := requests.IssueAPIKey(ctx, st, want, expiry, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, key)
	limited := ""
	if !want.Scope.IsZero() {
		limited = " limited to " + want.Scope.String()
	}
	fmt.Fprintf(env.Stderr, "pinward keys: created %s key %d%s for tenant %q in %s; it is shown only this once\n", want.Role, k.ID, limited, *tenant, stf.Describe())
	return nil
}
