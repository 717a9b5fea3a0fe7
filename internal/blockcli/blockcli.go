// Package blockcli is the pinward blocks command: the block list from the
// command line (the API has it at /api/v1/blocks).
package blockcli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/requests"
)

const help = `
The block list: a submission from a listed e-mail address (any case) or
device ID is answered as accepted but never becomes a request (not shown,
not dispatched, not mailed); staff see it at /api/v1/blocked. Every server
applies a change within a second.

  pinward blocks add --kind email|device --value V [--reason T]
  pinward blocks list
  pinward blocks remove ID

Each takes --tenant and the store flags (--data-dir D | --db URL).
`

// OpenTenant adds --tenant and the store flags to fs, parses args and
// opens the store (storeflags.OpenTenant, given by cmd/pinward, which
// alone opens stores).
type OpenTenant func(ctx context.Context, fs *flag.FlagSet, env cli.Env, args []string) (requests.Store, string, func(), error)

// Command is pinward blocks, opening stores with open.
func Command(open OpenTenant) func(ctx context.Context, env cli.Env, args []string) error {
	return func(ctx context.Context, env cli.Env, args []string) error { return Run(ctx, env, args, open) }
}

// Run runs pinward blocks.
func Run(ctx context.Context, env cli.Env, args []string, open OpenTenant) error {
	subs := map[string]func([]string) error{
		"add":    func(args []string) error { return add(ctx, env, args, open) },
		"list":   func(args []string) error { return list(ctx, env, args, open) },
		"remove": func(args []string) error { return remove(ctx, env, args, open) },
	}
	return cli.Subcommands(env, args, "blocks add|list|remove [flags]", help, func(string) error {
		return cli.UsageErrorf("usage: pinward blocks add|list|remove [flags] (pinward blocks --help)")
	}, subs)
}

func add(ctx context.Context, env cli.Env, args []string, open OpenTenant) error {
	fs := cli.NewFlags(env, "blocks add", "blocks add --kind email|device --value V [--reason T] [--tenant T] [--data-dir D | --db URL]", help)
	kind := fs.String("kind", "", "what to block: `email` or device")
	value := fs.String("value", "", "the e-mail address or device ID")
	reason := fs.String("reason", "", "why, for staff")
	st, tenant, closeStore, err := open(ctx, fs, env, args)
	if err != nil {
		return err
	}
	defer closeStore()
	v, err := requests.NormalizeBlockValue(requests.BlockKind(*kind), *value)
	if err != nil {
		return cli.UsageError{Err: err}
	}
	e, err := st.AddBlock(ctx, requests.BlockEntry{TenantID: tenant, Kind: requests.BlockKind(*kind), Value: v,
		Reason: strings.TrimSpace(*reason), Actor: "cli", CreatedAt: time.Now().UTC().Truncate(time.Microsecond)})
	if err != nil {
		return fmt.Errorf("adding %s %q: %w", *kind, v, err)
	}
	_, err = fmt.Fprintf(env.Stdout, "%d\n", e.ID)
	return err
}

func list(ctx context.Context, env cli.Env, args []string, open OpenTenant) error {
	fs := cli.NewFlags(env, "blocks list", "blocks list [--tenant T] [--data-dir D | --db URL]", help)
	st, tenant, closeStore, err := open(ctx, fs, env, args)
	if err != nil {
		return err
	}
	defer closeStore()
	es, err := st.ListBlocks(ctx, tenant)
	if err != nil {
		return fmt.Errorf("listing the block list: %w", err)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tVALUE\tADDED\tBY\tREASON")
	for _, e := range es {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Kind, e.Value, e.CreatedAt.Format(time.RFC3339), e.Actor, e.Reason)
	}
	return tw.Flush()
}

func remove(ctx context.Context, env cli.Env, args []string, open OpenTenant) error {
	var rest []string // the ID, before the flags
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		rest, args = args[:1], args[1:]
	}
	fs := cli.NewFlags(env, "blocks remove", "blocks remove ID [--tenant T] [--data-dir D | --db URL]", help)
	st, tenant, closeStore, err := open(ctx, fs, env, args)
	if err != nil {
		return err
	}
	defer closeStore()
	var id int64
	if len(rest) == 1 {
		id, _ = strconv.ParseInt(rest[0], 10, 64)
	}
	if id <= 0 {
		return cli.UsageErrorf("blocks remove takes the ID of an entry (pinward blocks list)")
	}
	if err := st.RemoveBlock(ctx, tenant, id); err != nil {
		return fmt.Errorf("removing entry %d: %w", id, err)
	}
	return nil
}
