package requests

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ChangeKind is what a Change is about.
type ChangeKind string

// The kinds of change.
const (
	ChangeRequest   ChangeKind = "request"   // created, status, merged, split, closed
	ChangeAsset     ChangeKind = "asset"     // upserted or retired
	ChangeWorkOrder ChangeKind = "workorder" // created, status, cluster, delivery state
)

// AllKeys is the Key of a change that stands for every key of its kind: a
// bulk statement (thousands of rows at once) is logged as one such change,
// and a view reloads what it holds of that kind.
const AllKeys = "*"

// ChangeCursor is a position in a tenant's change stream. Changes after a
// cursor are handed out in increasing cursor order. On PostgreSQL Tx is the
// writing transaction's ID and Seq the log row's (see store/postgis); on
// SQLite Tx is 0 and Seq the log's rowid, which is commit order.
type ChangeCursor struct {
	Tx, Seq int64
}

// Less reports whether c comes before d.
func (c ChangeCursor) Less(d ChangeCursor) bool {
	return c.Tx < d.Tx || c.Tx == d.Tx && c.Seq < d.Seq
}

// Max returns the later of c and d.
func (c ChangeCursor) Max(d ChangeCursor) ChangeCursor {
	if c.Less(d) {
		return d
	}
	return c
}

func (c ChangeCursor) String() string { return fmt.Sprintf("%d:%d", c.Tx, c.Seq) }

// ChangeStart is where a reader that is about to read the state follows
// the stream from (ChangeFeed.ChangeHead).
type ChangeStart struct {
	// After is the cursor to read changes after.
	After ChangeCursor
	// On PostgreSQL the changes after After include those of transactions
	// that had committed when the head was read but are younger than an
	// older one of the same database still running. Their IDs lie below
	// Below and are not in Running; a load that starts after the head
	// holds them already.
	Below   int64
	Running []int64
}

// InLoad reports whether the change at c had committed when the head was
// read, so a load begun after it holds the change: the reader skips it
// rather than apply it twice. Always false on SQLite.
func (h ChangeStart) InLoad(c ChangeCursor) bool {
	return c.Tx < h.Below && !slices.Contains(h.Running, c.Tx)
}

// Change is one committed state change, as every store publishes it: what
// changed (Kind and Key), not how. A view reads the current state of Key
// back from the store, so it never applies a state older than the change.
type Change struct {
	Cursor ChangeCursor
	Kind   ChangeKind
	// Key names what changed: a request's ServiceRequestID, an asset's
	// AssetKey(layer, id), a work order's ID in decimal; or AllKeys.
	Key string
	At  time.Time // when the change was written (the store's clock)
}

// AssetRef splits an asset change's Key into layer and ID.
func (c Change) AssetRef() (layer, id string, ok bool) {
	return strings.Cut(c.Key, "/")
}

// MaxChanges is the most changes one Changes call returns.
const MaxChanges = 10000

// ChangeFeed is the store's one stream of change events: every committed
// change of a request, an asset or a work order is logged in the
// transaction that makes it, so a reader at any cursor gets every change
// after it exactly once, whichever server (or command) wrote it.
type ChangeFeed interface {
	// Changes returns up to limit (MaxChanges when limit is zero or less,
	// at most that) of the tenant's changes after cursor, in cursor order,
	// and the cursor to read from next. A change is handed out only once
	// no change that could come before it is still uncommitted, so a
	// reader never skips one: every change committed later comes after
	// next. When fewer than limit come back, next may jump past positions
	// that can no longer hold a change.
	Changes(ctx context.Context, tenant string, after ChangeCursor, limit int) ([]Change, ChangeCursor, error)

	// ChangeHead returns where to follow the stream from after reading the
	// state: every change not yet committed comes after its cursor, every
	// change at or before it is committed (a read that starts after the
	// call sees it). On PostgreSQL a change committed shortly before the
	// call can also come after it, while a transaction older than it still
	// runs; InLoad names those, so a view does not apply them twice. (One
	// that commits between the call and the load can still reach a view in
	// both, which reading state back makes harmless.)
	ChangeHead(ctx context.Context, tenant string) (ChangeStart, error)

	// ChangesCommitted returns a cursor at or after every change committed
	// before the call: a reader whose next cursor reaches it has seen them
	// all (read-your-writes). It may lie ahead of what Changes hands out
	// until older transactions finish.
	ChangesCommitted(ctx context.Context, tenant string) (ChangeCursor, error)

	// WatchChanges sends on the returned channel (without blocking; a
	// pending wake-up absorbs later ones) after changes of any tenant
	// commit, until ctx is done; then it releases what it holds and
	// closes the channel. Wake-ups are a hint: a reader also polls, for
	// writers the store cannot hear (another process on a SQLite file, a
	// lost connection).
	WatchChanges(ctx context.Context) (<-chan struct{}, error)
}
