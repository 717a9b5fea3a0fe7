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
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// Env is everything a subcommand may touch of the process, so tests can run
// Main in-process with their own streams and environment.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

type command struct {
	name, summary string
	run           func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "serve the Open311 API, the staff and integrator API, tiles, pages, /healthz and /metrics", runServe},
		{"migrate", "apply the database migrations", runMigrate},
		{"purge", "delete reporters' personal information past its retention", runPurge},
		{"report", "write a council report (CSV): volumes, response times, SLA compliance by ward, department or category", runReport},
		{"keys", "create API keys (keys create --role ...)", runKeys},
		{"geocode", "locate points (CSV) in their ward and at their nearest asset", runGeocode},
		{"assets", "import asset layers into the store (assets import --layer L FILE)", runAssets},
		{"cluster", "group duplicate requests (CSV) into clusters", runCluster},
		{"bench", "measure pinward against PostGIS on the same data", runBench},
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

// usageError marks errors caused by how pinward was called or by an input
// file it refuses: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	default:
		return 1
	}
}

// newFlags returns a flag set for a subcommand whose --help prints synopsis,
// the description and the flags to stdout.
func newFlags(env Env, name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: pinward %s\n\n%s\n\nFlags:\n", synopsis, strings.TrimSpace(description))
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; --help prints usage on stdout and returns
// flag.ErrHelp, and a bad flag is a usage error.
func parseFlags(fs *flag.FlagSet, env Env, args []string) error {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(env.Stdout)
			fs.Usage()
			return flag.ErrHelp
		}
	}
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}
