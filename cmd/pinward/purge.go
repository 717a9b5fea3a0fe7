package main

import (
	"context"
	"flag"
	"log/slog"
	"time"

	"github.com/pinward/pinward/internal/storeflags"

	"github.com/pinward/pinward/requests"
)

const purgeHelp = `
Deletes the personal information (name, email, phone, device) of the
reporters of requests closed more than --older-than ago, as PIPEDA and
Québec's Law 25 ask: kept no longer than its purpose needs. The requests,
their descriptions and their audit trail stay; each purged request gets a
reporter_purged event. The store is the one serve uses (--data-dir or
--db). pinward serve runs the same purge every hour with its
--reporter-retention (default 365d); this command is for a one-off run or
a cron job.
`

func runPurge(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "purge", "purge [--older-than 365d] [--tenant T] [--data-dir D | --db URL]", purgeHelp)
	olderThan := fs.String("older-than", "365d", "purge reporters of requests closed longer ago than this `duration` (days: 365d, or Go units: 720h)")
	tenant := fs.String("tenant", "sample", "the municipality's tenant `id`")
	photos := fs.Bool("purge-photos", false, "delete those requests' photos too")
	var stf storeflags.Flags
	stf.Register(fs)
	if err := stf.Parse(fs, env, args); err != nil {
		return err
	}
	retention, err := parseWindow(*olderThan)
	if err != nil || retention <= 0 {
		return usageErrorf("--older-than must be a positive duration (365d, 720h): %q", *olderThan)
	}
	st, closeStore, err := stf.Open(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	return requests.PurgeOnce(ctx, st, *tenant, retention, *photos, time.Now().UTC(), env.Stderr)
}

// retentionFlags schedule serve's hourly purge of reporters' personal
// information.
type retentionFlags struct {
	retention string
	photos    bool
}

func (rf *retentionFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&rf.retention, "reporter-retention", "365d", "purge reporters' personal information this `long` after their request closed (0: never)")
	fs.BoolVar(&rf.photos, "purge-photos", false, "the reporter retention purge deletes the requests' photos too")
}

// start checks the flag and starts the hourly purge, telling ran of each
// run; stop ends it and waits, before the store closes.
func (rf *retentionFlags) start(ctx context.Context, st requests.Store, tenant string, log *slog.Logger, ran func(int, error)) (stop func(), err error) {
	retention, err := parseWindow(rf.retention)
	if err != nil {
		return nil, usageErrorf("--reporter-retention: %v", err)
	}
	if retention == 0 {
		return func() {}, nil
	}
	return requests.StartPurge(ctx, requests.PurgeSchedule{Store: st, Tenant: tenant, Retention: retention, Photos: rf.photos, Ran: ran, Log: log}), nil
}
