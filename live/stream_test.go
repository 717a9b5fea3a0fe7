package live_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/live"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/sqlite"
)

// recorder is a view that keeps the keys it was given, and can be made to
// fail once.
type recorder struct {
	mu       sync.Mutex
	keys     []string
	loads    int
	failNext bool
}

func (r *recorder) Load(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.loads++
	return nil
}

func (r *recorder) Apply(_ context.Context, cs []requests.Change) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failNext {
		r.failNext = false
		return errors.New("refused")
	}
	for _, c := range cs {
		r.keys = append(r.keys, string(c.Kind)+" "+c.Key)
	}
	return nil
}

func (r *recorder) state() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.keys...), r.loads
}

func create(t *testing.T, s *sqlite.Store, tenant, token string) requests.Request {
	t.Helper()
	at := time.Now().UTC().Truncate(time.Microsecond)
	r, err := s.CreateRequest(context.Background(), requests.NewRequest{
		Request: requests.Request{TenantID: tenant, ServiceCode: "pothole", Status: requests.New, Point: orb.Point{-73.1, 46.05},
			WardID: "1", Department: "roads", RequestedAt: at, UpdatedAt: at, Lang: i18n.En, Token: token},
		Event: requests.Event{TenantID: tenant, At: at, Actor: "resident", Kind: requests.EventCreated, To: requests.New},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestStream: each view gets the changes of its kinds, once, in order,
// from the head taken at Start (not what was there before); the store's
// notifier wakes the stream without polling; a view whose Apply fails is
// reloaded and the others go on; Sync gives read-your-writes.
func TestStream(t *testing.T) {
	ctx := t.Context()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pinward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	create(t, s, "a", "t0") // before Start: in the views' Load, not their changes

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := live.New(live.Config{Store: s, Tenant: "a", Poll: time.Hour, Log: quiet})
	reqs, other := &recorder{}, &recorder{}
	st.Register("requests", reqs, requests.ChangeRequest)
	st.Register("workorders", other, requests.ChangeWorkOrder)
	if err := st.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	if _, loads := reqs.state(); loads != 1 {
		t.Fatalf("Load called %d times at Start", loads)
	}

	r1 := create(t, s, "a", "t1")
	create(t, s, "b", "t2") // another tenant's
	wait := func(n int) []string {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			keys, _ := reqs.state()
			if len(keys) >= n || time.Now().After(deadline) {
				return keys
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	if got := wait(1); len(got) != 1 || got[0] != "request "+r1.ServiceRequestID {
		t.Fatalf("after one request (woken by the store, not polled): %v", got)
	}

	reqs.mu.Lock()
	reqs.failNext = true
	reqs.mu.Unlock()
	r2 := create(t, s, "a", "t3")
	if err := st.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	r3 := create(t, s, "a", "t4")
	if err := st.Sync(ctx); err != nil { // read-your-writes: r3 is applied when Sync returns
		t.Fatal(err)
	}
	keys, loads := reqs.state()
	if len(keys) != 2 || keys[1] != "request "+r3.ServiceRequestID || loads != 2 {
		t.Fatalf("after a failed Apply (of %s): keys %v, loads %d; want r1, r3 and a reload", r2.ServiceRequestID, keys, loads)
	}
	if n := st.Applied("requests"); n != 2 {
		t.Errorf("Applied(requests) = %d, want 2", n)
	}
	if got, _ := other.state(); len(got) != 0 || st.Applied("workorders") != 0 {
		t.Errorf("the work-order view got %v", got)
	}
	lag := st.Lag()
	if lag.LastChange.IsZero() || lag.Behind(time.Now()) > time.Minute || lag.Cursor != st.Cursor() {
		t.Errorf("Lag = %+v", lag)
	}
	if len(st.Collectors()) != 4 {
		t.Errorf("%d collectors, want lag, last change and one per view", len(st.Collectors()))
	}
}
