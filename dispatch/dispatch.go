// Package dispatch delivers work orders from the outbox to the systems
// that work them: a generic JSON webhook (signed as Standard Webhooks
// sign, idempotent) or another Open311 GeoReport v2 endpoint, as
// FixMyStreet does toward council back-ends. Redirects are not followed,
// private addresses are refused unless allowed (see NewClient), and URL
// credentials never appear in an error. Deliveries are at least once with a stable Idempotency-Key,
// so a receiver that keeps the keys it has seen gets each work order
// exactly once.
//
// A Dispatcher claims due messages (a lease, so a crashed server's claims
// come back), delivers them with a per-attempt timeout, and on failure
// schedules the next attempt with exponential backoff and jitter, up to
// MaxAttempts; then the message is dead and waits for staff to retry it.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pinward/pinward/requests"
)

// Connector delivers one outbox message. It returns the receiving system's
// ID for the work order when it learns one ("" otherwise). An error marked
// Permanent is not retried.
type Connector interface {
	Deliver(ctx context.Context, msg requests.OutboxMessage) (externalID string, err error)
}

// Poller is a Connector that also asks the receiving system for the status
// of the work orders it sent (Open311's requests.json).
type Poller interface {
	Poll(ctx context.Context, wos []requests.WorkOrder) ([]StatusReport, error)
}

// StatusReport is the receiving system's word on one work order.
type StatusReport struct {
	WorkOrderID int64
	Status      requests.Status
	Note        string
}

// permanentError is a refusal retrying cannot fix (a 4xx other than 408 or
// 429): the message goes dead at once.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// Config is what a Dispatcher works with.
type Config struct {
	Tenant string
	Store  requests.OutboxStore
	// Connectors by department; Default serves departments without one
	// (the --workorder-webhook deployment). Nil Default: such a work
	// order goes dead with a message saying so.
	Connectors map[string]Connector
	Default    Connector

	MaxAttempts  int           // then dead; default 10
	BaseDelay    time.Duration // first retry after about this; default 1 s
	MaxDelay     time.Duration // backoff cap; default 10 min
	Timeout      time.Duration // per attempt; default 10 s
	Workers      int           // concurrent deliveries; default 8
	Batch        int           // messages claimed at once; default 64
	PollInterval time.Duration // how often an idle dispatcher looks; default 500 ms
	// StatusInterval is how often Pollers are asked for status; default
	// 1 min, negative: never.
	StatusInterval time.Duration
	Logger         *slog.Logger
	Now            func() time.Time
}

// Dispatcher delivers one tenant's outbox. Run it once per server: claims
// are leased, so several servers on one database share the work.
type Dispatcher struct {
	cfg Config
}

// New checks cfg, fills in the defaults and returns the Dispatcher.
func New(cfg Config) (*Dispatcher, error) {
	if cfg.Tenant == "" || cfg.Store == nil {
		return nil, errors.New("dispatch: Config.Tenant and Config.Store are required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.BaseDelay, time.Second)
	def(&cfg.MaxDelay, 10*time.Minute)
	def(&cfg.Timeout, 10*time.Second)
	def(&cfg.PollInterval, 500*time.Millisecond)
	def(&cfg.StatusInterval, time.Minute)
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Dispatcher{cfg: cfg}, nil
}

func (d *Dispatcher) now() time.Time { return d.cfg.Now().UTC().Truncate(time.Microsecond) }

// lease is how long a claim holds: longer than the whole batch can take
// (Workers attempts at a time, each up to Timeout, recorded together at the
// end) plus its bookkeeping, so another server never takes a message this
// one is still sending or has sent but not yet recorded. It is also how
// long a crashed server's claims wait before they are sent again.
func (d *Dispatcher) lease() time.Duration { return Lease(d.cfg.Batch, d.cfg.Workers, d.cfg.Timeout) }

// Run delivers until ctx is done. Store failures are logged and retried at
// the next poll; an attempt cut short by ctx records nothing (its lease
// runs out and it is sent again).
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	if d.cfg.StatusInterval > 0 && d.hasPoller() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.pollLoop(ctx)
		}()
	}
	defer wg.Wait()
	t := time.NewTicker(d.cfg.PollInterval)
	defer t.Stop()
	for {
		n, err := d.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			d.cfg.Logger.WarnContext(ctx, "work orders: claim failed", "err", err)
		}
		if n > 0 && err == nil {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunOnce claims one batch of due messages, delivers them and records the
// outcomes in one store transaction, returning how many it claimed.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	msgs, err := d.cfg.Store.ClaimOutbox(ctx, d.cfg.Tenant, d.now(), d.lease(), d.cfg.Batch)
	if err != nil {
		return 0, err
	}
	results := make([]*requests.AttemptResult, len(msgs))
	sem := make(chan struct{}, d.cfg.Workers)
	var wg sync.WaitGroup
	for i, m := range msgs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = d.deliver(ctx, m)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return len(msgs), nil // shutting down: the leases bring them back
	}
	var rs []requests.AttemptResult
	for _, r := range results {
		if r != nil {
			rs = append(rs, *r)
		}
	}
	// Bookkeeping survives a shutdown that starts now.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := d.cfg.Store.RecordAttempts(sctx, d.cfg.Tenant, rs); err != nil {
		// Delivered ones are sent again after their lease: the receiver
		// drops them by key.
		return len(msgs), fmt.Errorf("recording %d delivery attempts: %w", len(rs), err)
	}
	for i, r := range results {
		if r == nil {
			continue
		}
		log := d.cfg.Logger.With("work_order", msgs[i].WorkOrderID, "message", msgs[i].ID, "attempt", msgs[i].Attempts)
		switch {
		case r.Delivered:
			log.DebugContext(ctx, "work order delivered", "kind", msgs[i].Kind)
		case r.Dead:
			log.WarnContext(ctx, "work order dead-lettered; staff can retry it", "err", r.Error)
		default:
			log.InfoContext(ctx, "work order delivery failed; will retry", "err", r.Error, "next", r.Next)
		}
	}
	return len(msgs), nil
}

func (d *Dispatcher) connector(dept string) Connector {
	if c, ok := d.cfg.Connectors[dept]; ok && c != nil {
		return c
	}
	return d.cfg.Default
}

// deliver makes one attempt and returns its outcome; nil when ctx ended
// (nothing is recorded, the lease brings the message back).
func (d *Dispatcher) deliver(ctx context.Context, m requests.OutboxMessage) *requests.AttemptResult {
	c := d.connector(m.WorkOrder.Department)
	var ext string
	var err error
	if c == nil {
		err = Permanent(fmt.Errorf("department %q has no connector", m.WorkOrder.Department))
	} else {
		actx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
		ext, err = c.Deliver(actx, m)
		cancel()
	}
	if ctx.Err() != nil {
		return nil
	}
	now := d.now()
	if err == nil {
		return &requests.AttemptResult{MessageID: m.ID, Delivered: true, ExternalID: ext, At: now}
	}
	wait := d.Backoff(m.Attempts)
	if after, ok := RetryAfter(err); ok {
		// The receiver said when; BaseDelay keeps a "Retry-After: 0" from
		// spinning through the attempts.
		wait = max(after, d.cfg.BaseDelay)
	}
	return &requests.AttemptResult{MessageID: m.ID, At: now, Error: storedReason(err),
		Next: now.Add(wait), Dead: IsPermanent(err) || m.Attempts >= d.cfg.MaxAttempts}
}

// storedReason is err's message as last_error keeps it: at most 500 bytes
// of valid UTF-8 without NUL (a receiver's answer is quoted in it, and
// PostgreSQL refuses both in text).
func storedReason(err error) string {
	r := strings.ToValidUTF8(strings.ReplaceAll(err.Error(), "\x00", ""), "\uFFFD")
	if len(r) > 500 {
		r = r[:500]
		for !utf8.ValidString(r) { // a cut rune
			r = r[:len(r)-1]
		}
	}
	return r
}

// Backoff is the wait after failed attempt n (1-based) with the
// Dispatcher's delays; see Backoff.
func (d *Dispatcher) Backoff(n int) time.Duration { return Backoff(d.cfg.BaseDelay, d.cfg.MaxDelay, n) }

// Backoff is the retry policy of every outbox (work orders here, resident
// mail in package mailer): the wait after failed attempt n (1-based) is
// base doubled per attempt, capped at maxDelay, then "equal jitter" (half
// fixed, half random) so receivers coming back up are not hit by every
// sender at once.
func Backoff(base, maxDelay time.Duration, n int) time.Duration {
	delay := base
	for i := 1; i < n && delay < maxDelay; i++ {
		delay *= 2
	}
	delay = min(delay, maxDelay)
	half := delay / 2
	return half + rand.N(half+1)
}

// Lease is how long a claim of batch messages, sent by workers at a time
// each within timeout and recorded together at the end, must hold; see
// Dispatcher.lease.
func Lease(batch, workers int, timeout time.Duration) time.Duration {
	rounds := (batch + workers - 1) / workers
	return time.Duration(rounds)*timeout + max(timeout/2, time.Second)
}

// StoredReason is err's message as an outbox's last_error keeps it: at
// most 500 bytes of valid UTF-8 without NUL.
func StoredReason(err error) string { return storedReason(err) }

func (d *Dispatcher) hasPoller() bool {
	for _, c := range d.cfg.Connectors {
		if _, ok := c.(Poller); ok {
			return true
		}
	}
	_, ok := d.cfg.Default.(Poller)
	return ok
}

func (d *Dispatcher) pollLoop(ctx context.Context) {
	t := time.NewTicker(d.cfg.StatusInterval)
	defer t.Stop()
	for {
		if err := d.PollStatus(ctx); err != nil && ctx.Err() == nil {
			d.cfg.Logger.WarnContext(ctx, "work orders: status poll failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PollStatus asks every Poller connector for the status of its open work
// orders and moves those the receiving system changed.
func (d *Dispatcher) PollStatus(ctx context.Context) error {
	wos, err := d.cfg.Store.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: d.cfg.Tenant, Polling: true})
	if err != nil {
		return err
	}
	byConn := map[Poller][]requests.WorkOrder{}
	for _, w := range wos {
		if p, ok := d.connector(w.Department).(Poller); ok {
			byConn[p] = append(byConn[p], w)
		}
	}
	var errs []error
	for p, ws := range byConn {
		pctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
		reports, err := p.Poll(pctx, ws)
		cancel()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, r := range reports {
			_, _, err := d.cfg.Store.SetWorkOrderStatus(ctx, requests.WorkOrderStatusChange{
				Tenant: d.cfg.Tenant, WorkOrderID: r.WorkOrderID, To: r.Status, Note: r.Note,
				Actor: "open311", At: d.now(),
			})
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
