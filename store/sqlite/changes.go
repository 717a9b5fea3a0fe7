package sqlite

import (
	"context"
	"database/sql"
	"sync"

	"github.com/pinward/pinward/requests"
)

// Changes implements requests.ChangeFeed. One writer at a time and seqs
// that are never reused make seq order commit order, so a cursor is the
// last seq read (Tx is always 0).
func (s *Store) Changes(ctx context.Context, tenant string, after requests.ChangeCursor, limit int) ([]requests.Change, requests.ChangeCursor, error) {
	if limit <= 0 || limit > requests.MaxChanges {
		limit = requests.MaxChanges
	}
	rows, err := s.read.QueryContext(ctx, `SELECT seq, kind, key, at FROM changes
		WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`, tenant, after.Seq, limit)
	if err != nil {
		return nil, after, wrap(ctx, "read changes", err)
	}
	defer rows.Close()
	var out []requests.Change
	for rows.Next() {
		var (
			c  requests.Change
			at sql.NullInt64
		)
		if err := rows.Scan(&c.Cursor.Seq, &c.Kind, &c.Key, &at); err != nil {
			return nil, after, wrap(ctx, "read changes", err)
		}
		c.At = fromMicros(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, after, wrap(ctx, "read changes", err)
	}
	next := after
	if len(out) > 0 {
		next = out[len(out)-1].Cursor
	}
	return out, next, nil
}

// ChangeHead implements requests.ChangeFeed: the last seq committed.
func (s *Store) ChangeHead(ctx context.Context, tenant string) (requests.ChangeStart, error) {
	last, err := s.lastChange(ctx, tenant)
	return requests.ChangeStart{After: last}, err
}

// lastChange is the cursor of the tenant's last committed change.
func (s *Store) lastChange(ctx context.Context, tenant string) (requests.ChangeCursor, error) {
	var seq sql.NullInt64
	if err := s.read.QueryRowContext(ctx, `SELECT max(seq) FROM changes WHERE tenant_id = ?`, tenant).Scan(&seq); err != nil {
		return requests.ChangeCursor{}, wrap(ctx, "read the change head", err)
	}
	return requests.ChangeCursor{Seq: seq.Int64}, nil
}

// ChangesCommitted implements requests.ChangeFeed; with one writer it is
// the head.
func (s *Store) ChangesCommitted(ctx context.Context, tenant string) (requests.ChangeCursor, error) {
	return s.lastChange(ctx, tenant)
}

// WatchChanges implements requests.ChangeFeed: this Store wakes the channel
// after each of its write transactions commits. Writes by other processes
// on the same file are not heard: readers poll for them.
func (s *Store) WatchChanges(ctx context.Context) (<-chan struct{}, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch := make(chan struct{}, 1)
	s.watchers.add(ch)
	go func() {
		<-ctx.Done()
		s.watchers.remove(ch)
		close(ch)
	}()
	return ch, nil
}

// watchers are the channels WatchChanges handed out.
type watchers struct {
	mu  sync.Mutex
	chs map[chan struct{}]struct{}
}

func (w *watchers) add(ch chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.chs == nil {
		w.chs = map[chan struct{}]struct{}{}
	}
	w.chs[ch] = struct{}{}
}

func (w *watchers) remove(ch chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.chs, ch)
}

// committed wakes every watcher without blocking: a wake-up already
// pending covers this commit too.
func (w *watchers) committed() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.chs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
