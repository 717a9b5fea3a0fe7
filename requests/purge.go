package requests

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// EventReporterPurged records that a reporter's personal information was
// deleted at the end of its retention period.
const EventReporterPurged EventKind = "reporter_purged"

// ReporterPurge asks a store to delete the personal information of the
// reporters of requests closed before ClosedBefore, at most Limit of them
// in one transaction (the caller repeats until fewer come back).
type ReporterPurge struct {
	Tenant       string
	ClosedBefore time.Time
	At           time.Time // the time of the purge events
	Actor        string    // who purges: "retention" for the schedule
	Limit        int
}

// ReporterPurger is implemented by stores that can purge reporters'
// personal information (PIPEDA, Québec Law 25: keep it no longer than the
// purpose needs). Each purged request gets a reporter_purged event in the
// same transaction; the request itself, its description and its audit
// trail stay.
type ReporterPurger interface {
	PurgeReporters(ctx context.Context, p ReporterPurge) (int, error)
}

// PurgeReporters deletes, batch by batch, the personal information of the
// reporters of requests closed more than retention before now, and returns
// how many were purged. progress, when set, is called after each batch.
func PurgeReporters(ctx context.Context, st ReporterPurger, tenant string, retention time.Duration, now time.Time, progress func(total int)) (int, error) {
	if retention <= 0 {
		return 0, invalid("retention", msgRequired)
	}
	p := ReporterPurge{Tenant: tenant, ClosedBefore: now.Add(-retention), At: now, Actor: "retention", Limit: 1000}
	total := 0
	for {
		n, err := st.PurgeReporters(ctx, p)
		total += n
		if err != nil {
			return total, err
		}
		if progress != nil && n > 0 {
			progress(total)
		}
		if n < p.Limit {
			return total, nil
		}
	}
}

// PurgeSchedule is serve's retention purge: every Every (an hour by
// default), the reporters of requests closed more than Retention ago are
// purged, and their photos too when Photos is set.
type PurgeSchedule struct {
	Store interface {
		ReporterPurger
		MediaStore
	}
	Tenant    string
	Retention time.Duration
	Photos    bool
	Every     time.Duration // default 1 h
	// Ran, when set, is told of each run that was not cut short by the
	// end of the schedule: the reporters purged and the error.
	Ran func(purged int, err error)
	Log *slog.Logger
}

// StartPurge runs the schedule's first purge at once and then every
// Every; stop ends it and waits, so call it before the store closes.
func StartPurge(ctx context.Context, ps PurgeSchedule) (stop func()) {
	if ps.Every <= 0 {
		ps.Every = time.Hour
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(ps.Every)
		defer tick.Stop()
		for {
			n, err := PurgeReporters(ctx, ps.Store, ps.Tenant, ps.Retention, time.Now().UTC(), nil)
			if ps.Photos && err == nil {
				var np int
				np, err = PurgePhotos(ctx, ps.Store, ps.Tenant, ps.Retention, time.Now().UTC())
				if np > 0 {
					ps.Log.InfoContext(ctx, "purged photos", "requests", np, "retention", ps.Retention)
				}
			}
			if ctx.Err() == nil && ps.Ran != nil {
				ps.Ran(n, err)
			}
			switch {
			case err != nil && ctx.Err() == nil:
				ps.Log.ErrorContext(ctx, "purging reporters' personal information", "err", err)
			case n > 0:
				ps.Log.InfoContext(ctx, "purged reporters' personal information", "requests", n, "retention", ps.Retention)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// PurgeStore is what a one-off purge needs of the store.
type PurgeStore interface {
	ReporterPurger
	MediaStore
}

// PurgeOnce runs the purge once, as `pinward purge` does: the reporters of
// requests closed more than retention before now and, with photos, those
// requests' photos. Progress and the outcome go to w, one line each.
func PurgeOnce(ctx context.Context, st PurgeStore, tenant string, retention time.Duration, photos bool, now time.Time, w io.Writer) error {
	n, err := PurgeReporters(ctx, st, tenant, retention, now, func(total int) {
		fmt.Fprintf(w, "pinward purge: %d reporters purged so far\n", total)
	})
	if err != nil {
		return fmt.Errorf("purging reporters: %w", err)
	}
	if photos {
		np, err := PurgePhotos(ctx, st, tenant, retention, now)
		if err != nil {
			return fmt.Errorf("purging photos: %w", err)
		}
		fmt.Fprintf(w, "pinward purge: photos of %d requests purged\n", np)
	}
	fmt.Fprintf(w, "pinward purge: %d reporters of requests closed before %s purged\n",
		n, now.Add(-retention).Format("2006-01-02"))
	return nil
}
