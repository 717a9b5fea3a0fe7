// Command pinward serves a municipality's location-based 311 requests and
// runs the spatial jobs around them (geocoding, clustering, imports,
// benchmarks). Run `pinward help` for the list of subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/pinward/pinward/internal/bench"
	"github.com/pinward/pinward/internal/blockcli"
	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/internal/histimport"
	"github.com/pinward/pinward/internal/reportcli"
	"github.com/pinward/pinward/internal/storeflags"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// Env is everything a subcommand may touch of the process, so tests can run
// Main in-process with their own streams and environment.
type Env = cli.Env

type command struct {
	name, summary string
	run           func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "serve the Open311 API, the staff and integrator API, tiles, pages, /healthz and /metrics", runServe},
		{"migrate", "apply the database migrations", runMigrate},
		{"purge", "delete reporters' personal information past its retention", runPurge},
		{"report", "write a council report (CSV): volumes, response times, SLA compliance, satisfaction by ward, department, category, channel or two crossed", func(ctx context.Context, env Env, args []string) error {
			return reportcli.Run(ctx, env, args, &storeflags.Flags{})
		}},
		{"keys", "API keys: keys create --role ..., keys list, keys revoke ID, keys rotate --role reporter", runKeys},
		{"blocks", "the block list: blocks add --kind email|device --value V, blocks list, blocks remove ID", blockcli.Command(storeflags.OpenTenant)},
		{"incidents", "keep the confidentiality-incident register (incidents list|add|export)", runIncidents},
		{"geocode", "locate points (CSV) in their ward and at their nearest asset", runGeocode},
		{"import", "load historical requests (import --source ottawa|windsor|la|montreal [--mapping F] FILE…)", func(ctx context.Context, env Env, args []string) error {
			return histimport.Command(ctx, env, args, &storeflags.Flags{})
		}},
		{"assets", "import asset layers into the store (assets import --layer L FILE)", runAssets},
		{"cluster", "group duplicate requests (CSV) into clusters", runCluster},
		{"bench", "measure pinward against PostGIS on the same data", bench.Run},
		{"holidays", "print a statutory holiday calendar (QC, ON, federal) for a year, as CSV", runHolidays},
		{"sla", "print when a request is due by its category's SLA (sla due --service-code C --at T)", runSLA},
	}
}

// Main runs one subcommand and returns the process exit status: 0 on
// success, 2 for bad usage or bad input files, 1 for other failures.
func Main(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return Main(ctx, []string{args[1], "--help"}, env)
		}
		usage(env.Stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, env, args[1:])
			if err != nil && !errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(env.Stderr, "pinward %s: %v\n", c.name, err)
			}
			return exitCode(err)
		}
	}
	fmt.Fprintf(env.Stderr, "pinward: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "pinward: the spatial heart of a municipal 311 service")
	fmt.Fprintln(w, "\nUsage: pinward COMMAND [flags]   (pinward COMMAND --help for its flags)\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
}

// usageError marks an error as a usage error (exit status 2): it unwraps
// to the cli.UsageError that cli.ExitCode looks for.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return cli.UsageError{Err: e.err} }

// The rest of the command-line plumbing lives in internal/cli, shared with
// the bench.
var (
	usageErrorf = cli.UsageErrorf
	exitCode    = cli.ExitCode
	newFlags    = cli.NewFlags
	parseFlags  = cli.ParseFlags
	parseWindow = cli.ParseWindow
)
