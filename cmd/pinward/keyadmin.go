package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pinward/pinward/internal/storeflags"

	"github.com/pinward/pinward/requests"
)

// keySubcommands are the keys subcommands.
var keySubcommands = map[string]func(context.Context, Env, []string) error{
	"create": runKeysCreate,
	"list":   runKeysList,
	"revoke": runKeysRevoke,
	"rotate": runKeysRotate,
}

const keysAdminHelp = `
keys list prints the tenant's keys (never the keys themselves: only their
hashes are stored). keys revoke ID refuses key ID from then on, on every
server within a second. keys rotate --role reporter makes a new key for the
resident page, which every server publishes from its next start; the old
one keeps working until you revoke it (the command prints its ID).
`

func runKeysList(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "keys list", "keys list [--tenant T] [--data-dir D | --db URL]", keysAdminHelp)
	st, tenant, closeStore, err := storeflags.OpenTenant(ctx, fs, env, args)
	if err != nil {
		return err
	}
	defer closeStore()
	keys, err := st.ListAPIKeys(ctx, tenant)
	if err != nil {
		return fmt.Errorf("listing keys: %w", err)
	}
	_, pageID, err := st.PageKey(ctx, tenant)
	if err != nil {
		return fmt.Errorf("reading the page key: %w", err)
	}
	return requests.WriteKeyTable(env.Stdout, keys, pageID, time.Now())
}

func runKeysRevoke(ctx context.Context, env Env, args []string) error {
	var rest []string // the ID, before the flags
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		rest, args = args[:1], args[1:]
	}
	fs := newFlags(env, "keys revoke", "keys revoke ID [--tenant T] [--data-dir D | --db URL]", keysAdminHelp)
	st, tenant, closeStore, err := storeflags.OpenTenant(ctx, fs, env, args)
	if err != nil {
		return err
	}
	defer closeStore()
	id, err := requests.ParseKeyID(rest)
	if err != nil {
		return usageError{err}
	}
	k, err := st.RevokeAPIKey(ctx, tenant, id, time.Now().UTC().Truncate(time.Microsecond))
	if err != nil {
		return fmt.Errorf("revoking key %d: %w", id, err)
	}
	fmt.Fprintf(env.Stderr, "pinward keys: %s key %d (%s) revoked at %s; every server refuses it within a second\n",
		k.Role, k.ID, k.Label, k.RevokedAt.Format(time.RFC3339))
	return nil
}

func runKeysRotate(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "keys rotate", "keys rotate --role reporter [--tenant T] [--data-dir D | --db URL]", keysAdminHelp)
	role := fs.String("role", "", "the key to rotate: `reporter` (the resident page's)")
	st, tenant, closeStore, err := storeflags.OpenTenant(ctx, fs, env, args)
	if err != nil {
		return err
	}
	defer closeStore()
	if *role != string(requests.RoleReporter) {
		return usageErrorf("keys rotate: only --role reporter (the resident page's key) is rotated; make other keys with keys create and revoke the old ones")
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	key, prev, err := requests.RotatePageKey(ctx, st, tenant, "web page (rotated "+now.Format(time.RFC3339)+")", now)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, key)
	if prev != 0 {
		fmt.Fprintf(env.Stderr, "pinward keys: new web page key stored; servers publish it from their next start. Then revoke the old one: pinward keys revoke %d\n", prev)
	} else {
		fmt.Fprintln(env.Stderr, "pinward keys: new web page key stored; servers publish it from their next start")
	}
	return nil
}
