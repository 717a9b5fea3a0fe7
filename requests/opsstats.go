package requests

import (
	"context"
	"time"
)

// OpsStats is what an operator watches of one tenant, read from the store
// when /metrics is scraped: the outbox by connector (the department whose
// asset-management system receives its work orders) and the requests not
// yet closed.
type OpsStats struct {
	Outbox  []OutboxStat // one per connector with pending or dead messages, by Connector
	Open    int          // requests not closed
	Overdue int          // of those, due before the asked time
}

// OutboxStat is one connector's share of the outbox.
type OutboxStat struct {
	Connector     string
	Pending, Dead int
	// OldestPending is when the oldest pending message was queued (zero
	// when none is pending): its age is how far delivery lags.
	OldestPending time.Time
}

// OpsStatsStore reads the operational figures of /metrics.
type OpsStatsStore interface {
	// OpsStats counts the tenant's outbox messages by connector and its
	// open requests, overdue ones judged at now.
	OpsStats(ctx context.Context, tenant string, now time.Time) (OpsStats, error)
}
