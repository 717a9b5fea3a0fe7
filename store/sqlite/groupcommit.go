package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/pinward/pinward/requests"
)

// maxGroup is the most creations one transaction commits.
const maxGroup = 256

// groupCommit batches concurrent CreateRequest calls into one write
// transaction. With synchronous=FULL every commit waits for an fsync, and
// the single writer makes commits queue behind each other; committing the
// creations that queued during the previous fsync together amortises it,
// while each caller still returns only after its request is on disk.
//
// There is no timer: the first creation starts a drainer goroutine that
// commits whatever is pending, batch after batch, and stops when nothing
// is. An idle store waits for nothing, a busy one batches more.
type groupCommit struct {
	stmts    stmtCache
	mu       sync.Mutex
	pending  []*createOp
	draining bool
	closed   bool
	wg       sync.WaitGroup // the drainer, for close
}

type createOp struct {
	ctx  context.Context
	nr   requests.NewRequest
	out  requests.Request
	err  error
	done chan struct{}
}

var errClosed = errors.New("sqlite: store closed")

// submit queues nr and waits for its transaction's outcome.
func (g *groupCommit) submit(ctx context.Context, s *Store, nr requests.NewRequest) (requests.Request, error) {
	op := &createOp{ctx: ctx, nr: nr, done: make(chan struct{})}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return requests.Request{}, wrap(ctx, "create request", errClosed)
	}
	g.pending = append(g.pending, op)
	if !g.draining {
		g.draining = true
		g.wg.Add(1)
		go g.drain(s)
	}
	g.mu.Unlock()
	// Not abandoned on ctx.Done: once its transaction started, the request
	// may be committed, and the caller must learn whether it was. A batch
	// is short; an op whose ctx ends while queued is skipped.
	<-op.done
	if op.err != nil {
		return requests.Request{}, op.err
	}
	return op.out, nil
}

// close waits for the drainer; later submits fail.
func (g *groupCommit) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.wg.Wait()
}

func (g *groupCommit) drain(s *Store) {
	defer g.wg.Done()
	for {
		g.mu.Lock()
		n := min(len(g.pending), maxGroup)
		if n == 0 {
			g.draining = false
			g.pending = nil // let a burst's backing array go
			g.mu.Unlock()
			return
		}
		batch := g.pending[:n:n]
		g.pending = g.pending[n:]
		g.mu.Unlock()
		s.commitGroup(batch)
	}
}

// commitGroup runs each op in its own savepoint of one write transaction
// (a failing one is rolled back alone, as its own transaction would be)
// and commits; it then tells every op its outcome.
func (s *Store) commitGroup(batch []*createOp) {
	live := batch[:0:0]
	for _, op := range batch {
		if err := op.ctx.Err(); err != nil {
			op.err = wrap(op.ctx, "create request", err)
			close(op.done)
			continue
		}
		live = append(live, op)
	}
	if len(live) == 0 {
		return
	}
	// The transaction outlives any one caller's context: a caller that
	// hangs up must not roll back the others.
	bg := context.Background()
	fail := func(err error) {
		for _, op := range live {
			if op.err == nil {
				op.out, op.err = requests.Request{}, wrap(op.ctx, "create request", err)
			}
			close(op.done)
		}
	}
	stmts := &s.commits.stmts
	stmts.prepare(bg, s.write)
	tx, err := s.write.BeginTx(bg, nil)
	if err != nil {
		fail(err)
		return
	}
	for _, op := range live {
		if _, err := stmts.on(tx).ExecContext(bg, "SAVEPOINT create_request"); err != nil {
			tx.Rollback()
			fail(err)
			return
		}
		op.out, op.err = createRequest(op.ctx, tx, stmts.on(tx), op.nr)
		if op.err != nil {
			op.err = wrap(op.ctx, "create request", op.err)
			if _, err := tx.ExecContext(bg, "ROLLBACK TO create_request"); err != nil {
				tx.Rollback()
				fail(err)
				return
			}
		}
		if _, err := stmts.on(tx).ExecContext(bg, "RELEASE create_request"); err != nil {
			tx.Rollback()
			fail(err)
			return
		}
	}
	if err := tx.Commit(); err != nil {
		for _, op := range live {
			op.err = nil // committed nothing: every op fails
		}
		fail(err)
		return
	}
	s.watchers.committed()
	for _, op := range live {
		close(op.done)
	}
}

// maxStmts bounds the prepared statements kept (the texts vary only with
// the number of equivalent service codes and the presence of a window).
const maxStmts = 64

// stmtCache keeps the intake's statements prepared on the write
// connection: SQLite otherwise parses and plans each statement text anew at
// every call, a fifth of a creation's CPU. A text seen for the first time
// runs unprepared and is prepared before the next group's transaction
// (the one write connection is then free).
type stmtCache struct {
	mu     sync.Mutex
	ready  map[string]*sql.Stmt
	wanted map[string]bool
}

// prepare prepares the texts wanted since the last call.
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB) {
	c.mu.Lock()
	wanted := c.wanted
	c.wanted = nil
	c.mu.Unlock()
	for q := range wanted {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			continue // it runs unprepared, as before
		}
		c.mu.Lock()
		if c.ready == nil {
			c.ready = map[string]*sql.Stmt{}
		}
		if len(c.ready) < maxStmts {
			c.ready[q] = st
		} else {
			st.Close()
		}
		c.mu.Unlock()
	}
}

// get returns q's prepared statement, or nil after noting q as wanted.
func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.ready[q]; st != nil {
		return st
	}
	if len(c.ready) < maxStmts {
		if c.wanted == nil {
			c.wanted = map[string]bool{}
		}
		c.wanted[q] = true
	}
	return nil
}

// on returns tx running the cache's statements.
func (c *stmtCache) on(tx *sql.Tx) cachedTx { return cachedTx{c, tx} }

// cachedTx is a transaction that runs prepared statements where it can.
type cachedTx struct {
	c  *stmtCache
	tx *sql.Tx
}

func (t cachedTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.c.get(q); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}

func (t cachedTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.c.get(q); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

func (t cachedTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.c.get(q); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, q, args...)
}
