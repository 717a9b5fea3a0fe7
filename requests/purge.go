package requests

import (
	"context"
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
