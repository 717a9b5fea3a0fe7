package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// feedReader follows one tenant's change stream from the head, as a
// server's views do.
type feedReader struct {
	t      *testing.T
	s      requests.ChangeFeed
	tenant string
	cursor requests.ChangeCursor
}

func newFeedReader(t *testing.T, s requests.ChangeFeed, tenant string) *feedReader {
	t.Helper()
	head, err := s.ChangeHead(context.Background(), tenant)
	if err != nil {
		t.Fatalf("ChangeHead: %v", err)
	}
	return &feedReader{t: t, s: s, tenant: tenant, cursor: head.After}
}

// next reads every change committed so far (pages of limit), checking
// that cursors only go up.
func (f *feedReader) next(limit int) []requests.Change {
	f.t.Helper()
	ctx := context.Background()
	target, err := f.s.ChangesCommitted(ctx, f.tenant)
	if err != nil {
		f.t.Fatalf("ChangesCommitted: %v", err)
	}
	var out []requests.Change
	for f.cursor.Less(target) {
		cs, next, err := f.s.Changes(ctx, f.tenant, f.cursor, limit)
		if err != nil {
			f.t.Fatalf("Changes after %v: %v", f.cursor, err)
		}
		for _, c := range cs {
			if !f.cursor.Less(c.Cursor) {
				f.t.Fatalf("change %+v at or before the cursor %v", c, f.cursor)
			}
			if c.At.IsZero() || c.At.Location() != time.UTC {
				f.t.Errorf("change %+v: At not a UTC time", c)
			}
			f.cursor = c.Cursor
		}
		if next.Less(f.cursor) {
			f.t.Fatalf("next cursor %v before the last change %v", next, f.cursor)
		}
		f.cursor = next
		out = append(out, cs...)
		if len(cs) == 0 && f.cursor.Less(target) {
			time.Sleep(time.Millisecond) // an older transaction still runs
		}
	}
	return out
}

// keys are a batch's changes as "kind key", each once, sorted.
func keys(cs []requests.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c.Kind)+" "+c.Key)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// testChanges: every kind of committed change is in the stream, after the
// cursor it was read from, once; a refused call logs nothing; another
// tenant's changes are its own; paging by a small limit reads the same.
func testChanges(t *testing.T, s Stores) {
	ctx := context.Background()
	f := newFeedReader(t, s, tenantA)
	other := newFeedReader(t, s, tenantB)
	paged := newFeedReader(t, s, tenantA)
	var all []requests.Change
	step := func(what string, want ...string) {
		t.Helper()
		cs := f.next(0)
		all = append(all, cs...)
		slices.Sort(want)
		if got := keys(cs); !slices.Equal(got, want) {
			t.Errorf("%s: changes %v, want %v", what, got, want)
		}
	}
	step("nothing yet")

	a := create(t, s, newRequest(newReq(tenantA, origin, t0)))
	step("create", "request "+a.ServiceRequestID)

	if _, err := s.UpdateStatus(ctx, requests.StatusChange{Tenant: tenantA, ServiceRequestID: a.ServiceRequestID,
		To: requests.Acknowledged, Actor: "staff", At: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	step("status", "request "+a.ServiceRequestID)

	_, err := s.UpdateStatus(ctx, requests.StatusChange{Tenant: tenantA, ServiceRequestID: a.ServiceRequestID,
		To: requests.New, Actor: "staff", At: t0.Add(2 * time.Minute)})
	wantKind(t, "backwards", err, i18n.Conflict)
	step("refused status change")

	w1 := createWO(t, s, woRequest(newReq(tenantA, east(500), t0)))
	w2 := createWO(t, s, woRequest(newReq(tenantA, east(500.5), t0.Add(time.Second))))
	wos, err := s.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenantA})
	if err != nil || len(wos) != 1 {
		t.Fatalf("work orders %+v, %v", wos, err)
	}
	wo := fmt.Sprint(wos[0].ID)
	step("create with a work order, then join it", "request "+w1.ServiceRequestID, "request "+w2.ServiceRequestID, "workorder "+wo)

	if _, _, err := s.SetWorkOrderStatus(ctx, requests.WorkOrderStatusChange{Tenant: tenantA, WorkOrderID: wos[0].ID,
		To: requests.InProgress, Note: "crew sent", Actor: "key:1", At: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	step("work order status", "request "+w1.ServiceRequestID, "request "+w2.ServiceRequestID, "workorder "+wo)

	ms := claimAll(t, s, tenantA, t0.Add(time.Hour))
	step("claim (no state change)")
	if len(ms) != 1 {
		t.Fatalf("claimed %+v", ms)
	}
	if err := s.RecordAttempts(ctx, tenantA, []requests.AttemptResult{{MessageID: ms[0].ID, Delivered: true, At: t0.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	step("delivered", "workorder "+wo)

	upsert(t, s, tenantA, asset("hydrant", "H1", 0, 1), asset("hydrant", "H2", 10, 1))
	step("asset upsert", "asset hydrant/H1", "asset hydrant/H2")
	if _, err := s.RetireAsset(ctx, requests.AssetRetire{Tenant: tenantA, Layer: "hydrant", ID: "H1", Actor: "ams", At: t0}); err != nil {
		t.Fatal(err)
	}
	step("asset retire", "asset hydrant/H1")
	for _, c := range all {
		if c.Kind == requests.ChangeAsset {
			if l, id, ok := c.AssetRef(); !ok || l != "hydrant" || !strings.HasPrefix(id, "H") {
				t.Errorf("AssetRef of %+v = %q %q %v", c, l, id, ok)
			}
		}
	}

	b := create(t, s, newRequest(newReq(tenantB, origin, t0)))
	step("another tenant's change")
	if got, want := keys(other.next(0)), []string{"request " + b.ServiceRequestID}; !slices.Equal(got, want) {
		t.Errorf("tenant B's stream: %v, want %v", got, want)
	}

	// The same stream read two changes at a time.
	var byTwo []requests.Change
	for {
		cs, next, err := s.Changes(ctx, tenantA, paged.cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) > 2 {
			t.Fatalf("limit 2 returned %d changes", len(cs))
		}
		byTwo = append(byTwo, cs...)
		if len(cs) == 0 {
			break
		}
		paged.cursor = next
	}
	if len(byTwo) != len(all) {
		t.Fatalf("paged by two: %d changes, in one read: %d", len(byTwo), len(all))
	}
	for i := range all {
		if all[i].Cursor != byTwo[i].Cursor || all[i].Key != byTwo[i].Key {
			t.Fatalf("change %d: paged %+v, whole %+v", i, byTwo[i], all[i])
		}
	}

	// The head is never past what is committed.
	head, err := s.ChangeHead(ctx, tenantA)
	if err != nil {
		t.Fatal(err)
	}
	if committed, err := s.ChangesCommitted(ctx, tenantA); err != nil || committed.Less(head.After) {
		t.Errorf("ChangeHead %v after ChangesCommitted %v (%v)", head.After, committed, err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.Changes(cctx, tenantA, requests.ChangeCursor{}, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Changes with a canceled context: %v", err)
	}
}

// testChangesConcurrent: writers on many connections at once (intake's
// group commit, status changes and asset upserts, each its own
// transaction, committing in any order) while a reader follows the
// stream: the reader gets every change exactly once. A store that handed
// out changes by a sequence alone would skip the ones whose transaction
// commits after a later number's.
func testChangesConcurrent(t *testing.T, s Stores) {
	ctx := context.Background()
	const writers, each = 8, 25
	r := newFeedReader(t, s, tenantA)
	stop := make(chan struct{})
	got := map[string]int{}
	var readErr error
	var rwg sync.WaitGroup
	rwg.Add(1)
	go func() { // reads while the writers write
		defer rwg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			cs, next, err := s.Changes(ctx, tenantA, r.cursor, 7)
			if err != nil {
				readErr = err
				return
			}
			for _, c := range cs {
				if !r.cursor.Less(c.Cursor) {
					readErr = fmt.Errorf("change %+v at or before the cursor %v", c, r.cursor)
					return
				}
				r.cursor = c.Cursor
				got[string(c.Kind)+" "+c.Key]++
			}
			r.cursor = r.cursor.Max(next)
		}
	}()
	want := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				req, err := s.CreateRequest(ctx, newRequest(newReq(tenantA, east(float64(w*1000+i*10)), t0)))
				if err != nil {
					errs <- err
					return
				}
				n := 1
				if i%3 == 0 {
					if _, err := s.UpdateStatus(ctx, requests.StatusChange{Tenant: tenantA, ServiceRequestID: req.ServiceRequestID,
						To: requests.Acknowledged, Actor: "staff", At: t0}); err != nil {
						errs <- err
						return
					}
					n++
				}
				if i%5 == 0 {
					a := assets.Asset{Layer: "hydrant", ID: fmt.Sprintf("W%d-%d", w, i), Point: east(float64(i)), Version: 1}
					if _, err := s.UpsertAssets(ctx, requests.AssetUpsert{Tenant: tenantA, Assets: []assets.Asset{a}, At: t0}); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					want["asset hydrant/"+a.ID]++
					mu.Unlock()
				}
				mu.Lock()
				want["request "+req.ServiceRequestID] += n
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	close(stop)
	rwg.Wait()
	if readErr != nil {
		t.Fatal(readErr)
	}
	// The reader stopped wherever it was: finish from its cursor.
	for _, c := range (&feedReader{t: t, s: s, tenant: tenantA, cursor: r.cursor}).next(0) {
		got[string(c.Kind)+" "+c.Key]++
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: read %d times, changed %d times", k, got[k], n)
		}
	}
	for k, n := range got {
		if want[k] == 0 {
			t.Errorf("%s: read %d times, never changed", k, n)
		}
	}
}
