// Package live keeps a server's in-memory views current with the store's
// change stream (requests.ChangeFeed): the map tiles, the asset index,
// and whatever view comes next (an escalation clock, notifications),
// each registered once with a Stream.
//
// One goroutine per server follows the stream by cursor: woken by the
// store after a commit (PostgreSQL NOTIFY, SQLite's in-process notifier)
// and polling besides, for writers the store cannot hear and for missed
// notifications. Every change after the cursor reaches every view once,
// in stream order, whichever server made it; the cursor moves only after
// all views have it. A view reads back the state of what changed, so it
// never applies one older than the change.
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pinward/pinward/requests"
)

// View is one in-memory view a Stream keeps current.
type View interface {
	// Load builds the view from the store, replacing what it holds. The
	// stream calls it at Start after taking the stream's head (every
	// change committed after the reads is delivered afterwards), and again
	// before the next batch when Apply failed.
	Load(ctx context.Context) error
	// Apply applies changes of the kinds the view was registered for, in
	// stream order. An error makes the stream reload the view.
	Apply(ctx context.Context, cs []requests.Change) error
}

// Config is what a Stream follows.
type Config struct {
	Store  requests.ChangeFeed
	Tenant string
	// Poll is how often the stream is read without a wake-up (DefaultPoll
	// when zero).
	Poll time.Duration
	Log  *slog.Logger // slog.Default() when nil
}

// DefaultPoll is Config.Poll's default.
const DefaultPoll = time.Second

// maxSyncWait bounds the wait between two reads while a change is held
// back behind an older transaction.
const maxSyncWait = 100 * time.Millisecond

// Stream delivers a tenant's changes to the registered views. It is safe
// for concurrent use once started.
type Stream struct {
	cfg   Config
	views []*registered

	mu      sync.Mutex // one catch-up at a time; guards cursor and started
	cursor  requests.ChangeCursor
	start   requests.ChangeStart // the head the views were loaded at
	started bool

	lastAt   atomic.Int64 // unix nanoseconds: At of the last change applied
	caughtUp atomic.Int64 // unix nanoseconds: when a catch-up last reached the end
	stop     func()
}

type registered struct {
	name    string
	view    View
	kinds   []requests.ChangeKind
	applied atomic.Int64
	stale   bool // Apply failed: reload before the next batch
}

// New returns a Stream; Register the views, then Start it.
func New(cfg Config) *Stream {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	return &Stream{cfg: cfg, stop: func() {}}
}

// Register adds a view that gets the changes of kinds, under name (for
// logs and metrics). Views get each batch in the order they were
// registered, so one may read another registered before it (the tiles
// read the asset index). Register before Start.
func (s *Stream) Register(name string, v View, kinds ...requests.ChangeKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		panic("live: Register after Start")
	}
	s.views = append(s.views, &registered{name: name, view: v, kinds: kinds})
}

// Start takes the stream's head, loads every view and follows the stream
// until ctx is done or Stop is called. On error nothing is left running.
func (s *Stream) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("live: stream started twice")
	}
	head, err := s.cfg.Store.ChangeHead(ctx, s.cfg.Tenant)
	if err != nil {
		return fmt.Errorf("live: read the change stream's head: %w", err)
	}
	for _, r := range s.views {
		if err := r.view.Load(ctx); err != nil {
			return fmt.Errorf("live: load the %s view: %w", r.name, err)
		}
	}
	s.cursor, s.start = head.After, head
	s.caughtUp.Store(time.Now().UnixNano())
	fctx, cancel := context.WithCancel(ctx)
	wake, err := s.cfg.Store.WatchChanges(fctx)
	if err != nil {
		cancel()
		return fmt.Errorf("live: watch the change stream: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.run(fctx, wake)
		for range wake { // closed once the watcher has let go of the store
		}
	}()
	s.started = true
	s.stop = func() { cancel(); <-done }
	s.cfg.Log.InfoContext(ctx, "following the change stream", "cursor", head.After.String(), "views", len(s.views), "poll", s.cfg.Poll)
	return nil
}

// Stop ends the following and waits for it; call it before the store
// closes.
func (s *Stream) Stop() {
	s.mu.Lock()
	stop := s.stop
	s.stop = func() {}
	s.mu.Unlock()
	stop()
}

// run catches up, to every change committed by then, whenever the store
// wakes it and at least every Poll. A failed catch-up is logged and
// retried at the next tick.
func (s *Stream) run(ctx context.Context, wake <-chan struct{}) {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		if err := s.Sync(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.cfg.Log.WarnContext(ctx, "change stream", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case _, ok := <-wake:
			if !ok {
				wake = nil // a nil channel never fires: polling goes on
			}
		case <-t.C:
		}
	}
}

// CatchUp delivers every change the store hands out after the cursor and
// returns how many there were.
func (s *Stream) CatchUp(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for {
		for _, r := range s.views {
			if r.stale {
				if err := r.view.Load(ctx); err != nil {
					return n, fmt.Errorf("reload the %s view: %w", r.name, err)
				}
				r.stale = false
			}
		}
		cs, next, err := s.cfg.Store.Changes(ctx, s.cfg.Tenant, s.cursor, requests.MaxChanges)
		if err != nil {
			return n, fmt.Errorf("read changes after %v: %w", s.cursor, err)
		}
		if len(cs) > 0 {
			s.deliver(ctx, s.notLoaded(cs))
			s.lastAt.Store(cs[len(cs)-1].At.UnixNano())
		}
		s.cursor = next
		n += len(cs)
		if len(cs) < requests.MaxChanges {
			s.caughtUp.Store(time.Now().UnixNano())
			return n, nil
		}
	}
}

// notLoaded leaves out the changes the views' load already held (see
// requests.ChangeStart); past the head's transactions there are none.
func (s *Stream) notLoaded(cs []requests.Change) []requests.Change {
	if s.start.Below == 0 {
		return cs
	}
	out := cs[:0:0]
	for _, c := range cs {
		if !s.start.InLoad(c.Cursor) {
			out = append(out, c)
		}
	}
	if last := cs[len(cs)-1].Cursor; last.Tx >= s.start.Below {
		s.start = requests.ChangeStart{}
	}
	return out
}

// deliver gives each view the changes of its kinds. A view whose Apply
// fails is reloaded before the next batch instead of being retried, so no
// view gets a change twice and the others go on.
func (s *Stream) deliver(ctx context.Context, cs []requests.Change) {
	for _, r := range s.views {
		var mine []requests.Change
		for _, c := range cs {
			if slices.Contains(r.kinds, c.Kind) {
				mine = append(mine, c)
			}
		}
		if len(mine) == 0 {
			continue
		}
		if err := r.view.Apply(ctx, mine); err != nil {
			r.stale = true
			s.cfg.Log.WarnContext(ctx, "change stream: a view failed to apply changes; reloading it", "view", r.name, "changes", len(mine), "err", err)
			continue
		}
		r.applied.Add(int64(len(mine)))
	}
}

// Sync returns once every change committed before the call has reached the
// views (read-your-writes: the asset API answers after its change is on
// this server's index and tiles). The stream's own goroutine follows the
// same way after each wake-up: on PostgreSQL a change is handed out only
// once every older transaction has ended, so a notification can come
// before its change may be read; Sync reads again, backing off from 2 ms
// to maxSyncWait (or Poll), until it has it.
func (s *Stream) Sync(ctx context.Context) error {
	target, err := s.cfg.Store.ChangesCommitted(ctx, s.cfg.Tenant)
	if err != nil {
		return fmt.Errorf("live: sync: %w", err)
	}
	wait := 2 * time.Millisecond
	for {
		n, err := s.CatchUp(ctx)
		if err != nil {
			return fmt.Errorf("live: sync: %w", err)
		}
		if n > 0 {
			s.cfg.Log.DebugContext(ctx, "changes applied", "changes", n, "cursor", s.Cursor().String())
		}
		if !s.Cursor().Less(target) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("live: sync: %w", ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, s.cfg.Poll, maxSyncWait)
	}
}

// Cursor returns the position the views have reached.
func (s *Stream) Cursor() requests.ChangeCursor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor
}

// Applied returns how many changes the named view has applied since
// Start (0 for an unknown name).
func (s *Stream) Applied(view string) int64 {
	for _, r := range s.views {
		if r.name == view {
			return r.applied.Load()
		}
	}
	return 0
}

// Lag is how far behind the store the views may be.
type Lag struct {
	Cursor requests.ChangeCursor
	// LastChange is when the last change applied was written (zero: none
	// since Start).
	LastChange time.Time
	// CaughtUp is when a read of the stream last found nothing more to
	// apply: the views held every change handed out by then.
	CaughtUp time.Time
}

// Behind is how long ago the views were last known to be current: under
// Poll when the stream is healthy, growing while the store cannot be read.
func (l Lag) Behind(now time.Time) time.Duration { return now.Sub(l.CaughtUp) }

// Lag returns the stream's position and times.
func (s *Stream) Lag() Lag {
	l := Lag{Cursor: s.Cursor(), CaughtUp: time.Unix(0, s.caughtUp.Load())}
	if at := s.lastAt.Load(); at != 0 {
		l.LastChange = time.Unix(0, at)
	}
	return l
}
