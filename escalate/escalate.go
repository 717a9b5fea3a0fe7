// Package escalate runs the escalation clock of issue 13: a view on the
// change stream keeps each open request's next escalation time current
// (package live delivers every change of a request, whoever made it), and
// a sweeper fires the levels that fall due, each exactly once however many
// servers sweep (the store claims them: requests.QueueStore).
package escalate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pinward/pinward/requests"
)

// Actor is who escalation events are recorded as.
const Actor = "escalation"

// DefaultEvery is how often the sweeper looks for due levels when
// Config.Every is zero.
const DefaultEvery = 15 * time.Second

// Config is what the view and the sweeper work with.
type Config struct {
	Store   requests.QueueStore
	Catalog *requests.Catalog
	Tenant  string
	Now     func() time.Time // time.Now when nil: tests give a fake clock
	Every   time.Duration    // DefaultEvery when zero
	Batch   int              // requests per claim; 100 when zero
	Log     *slog.Logger     // slog.Default() when nil
}

func (c Config) withDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Every <= 0 {
		c.Every = DefaultEvery
	}
	if c.Batch <= 0 {
		c.Batch = 100
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// Sweeper fires due escalation levels.
type Sweeper struct {
	cfg Config
	// AfterClaim is handed to the store (see requests.EscalationClaim):
	// crash tests stop the process there.
	AfterClaim func(context.Context)
}

// NewSweeper returns the sweeper of cfg.
func NewSweeper(cfg Config) *Sweeper { return &Sweeper{cfg: cfg.withDefaults()} }

// Sweep fires every level due now and returns how many fired. Levels due
// at once (a request that reaches two levels while the servers were down)
// fire one per claim, in order.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	total := 0
	for range 1000 { // bounded: a store that keeps answering must not hold the loop
		now := s.cfg.Now().UTC().Truncate(time.Microsecond)
		n, err := s.cfg.Store.ClaimEscalations(ctx, requests.EscalationClaim{
			Tenant: s.cfg.Tenant, Now: now, Limit: s.cfg.Batch,
			Plan:       func(st requests.EscalationState) (requests.Escalation, bool) { return Plan(s.cfg.Catalog, st, now) },
			AfterClaim: s.AfterClaim,
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("escalate: sweep: %w", err)
		}
		if n == 0 {
			return total, nil
		}
	}
	return total, nil
}

// Plan is what a due request's escalation is at now: its next level with
// the contacts to tell, or (false) only a new next time, when the stored
// one was stale (the request closed, paused, or the catalog changed).
func Plan(cat *requests.Catalog, st requests.EscalationState, now time.Time) (requests.Escalation, bool) {
	level := st.EscalationLevel + 1
	at, ok := cat.LevelAt(st.ServiceCode, st.RequestedAt, st.Pauses, level)
	if st.Status == requests.Closed || !ok || at.IsZero() || at.After(now) {
		return requests.Escalation{Next: cat.NextEscalation(st)}, false
	}
	next, _ := cat.LevelAt(st.ServiceCode, st.RequestedAt, st.Pauses, level+1)
	l := cat.Escalation(st.ServiceCode)[level-1]
	return requests.Escalation{
		Level: level, Next: next, Notify: l.Notify,
		Contacts: cat.Contacts(st.Department, l.Notify), Actor: Actor,
	}, true
}

// Start sweeps at once and then every cfg.Every until ctx is done or the
// returned stop is called (which waits for the sweep under way).
func Start(ctx context.Context, cfg Config) (stop func()) {
	s := NewSweeper(cfg)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.cfg.Every)
		defer t.Stop()
		for {
			if n, err := s.Sweep(ctx); err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
				s.cfg.Log.WarnContext(ctx, "escalation sweep", "err", err, "fired", n)
			} else if n > 0 {
				s.cfg.Log.InfoContext(ctx, "escalation levels fired", "fired", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}
