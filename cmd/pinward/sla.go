package main

import (
	"context"
	"fmt"
	"time"

	"github.com/pinward/pinward/internal/cli"
)

const slaHelp = `
Prints when a request of category --service-code received at --at is due by
its SLA, as RFC 3339 in the municipality's time zone: the catalog's SLA
hours, counted in working hours (its business hours, skipping its
statutory holidays and closures) or in elapsed hours, as the category says.
The catalog is --categories (default: the bundled sample's). --at is RFC
3339, or a local time (2026-06-23T15:00 or 2026-06-23 15:00) in the
municipality's time zone; default now.
`

const slaUsage = "sla due --service-code C [--at 2026-06-23T15:00:00-04:00] [--categories F]"

func runSLA(_ context.Context, env Env, args []string) error {
	return cli.Subcommands(env, args, slaUsage, slaHelp, func(sub string) error {
		if sub == "" {
			return usageErrorf("usage: pinward %s (pinward sla due --help)", slaUsage)
		}
		return usageErrorf("unknown sla subcommand %q (want due)", sub)
	}, map[string]func([]string) error{"due": func(args []string) error { return runSLADue(env, args) }})
}

func runSLADue(env Env, args []string) error {
	fs := newFlags(env, "sla due", slaUsage, slaHelp)
	code := fs.String("service-code", "", "the category's service `code` (required)")
	atFlag := fs.String("at", "", "when the request was received: RFC 3339 or local `time` (default: now)")
	categories := fs.String("categories", "", "service catalog `JSON` (default: the bundled sample's)")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	catalog, err := cli.LoadCatalog(*categories)
	if err != nil {
		return err
	}
	if *code == "" {
		return usageErrorf("--service-code is required")
	}
	if _, ok := catalog.Category(*code); !ok {
		return usageErrorf("--service-code: no category %q in the catalog", *code)
	}
	at := time.Now()
	if *atFlag != "" {
		if at, err = cli.ParseInstant(*atFlag, catalog.Location()); err != nil {
			return usageErrorf("--at: %v", err)
		}
	}
	due := catalog.DueAt(*code, at)
	if due.IsZero() {
		return fmt.Errorf("category %q has no SLA", *code)
	}
	_, err = fmt.Fprintln(env.Stdout, due.In(catalog.Location()).Format(time.RFC3339))
	return err
}
