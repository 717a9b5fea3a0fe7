package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// TestGroupCommit: creations submitted together, some of which fail (a
// reused idempotency key, a caller that gave up), each get their own
// outcome: the failures store nothing and do not undo the others, and every
// acknowledged request is there after a reopen.
func TestGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pinward.db")
	s := open(t, path)
	ctx := context.Background()
	at := time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)
	mk := func(i int) requests.NewRequest {
		nr := sample(at.Add(time.Duration(i) * time.Millisecond))
		nr.Request.Token = fmt.Sprint("tok", i)
		nr.IdempotencyKey, nr.Fingerprint = fmt.Sprint("k", i), fmt.Sprint("f", i)
		return nr
	}
	if _, err := s.CreateRequest(ctx, mk(0)); err != nil {
		t.Fatal(err)
	}

	const n = 200
	got := make([]requests.Request, n)
	errs := make([]error, n)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Go(func() {
			nr, c := mk(i), ctx
			switch i % 10 {
			case 3: // key k0 again with another body: a conflict
				nr.IdempotencyKey = "k0"
			case 7:
				c = cancelled
			}
			got[i], errs[i] = s.CreateRequest(c, nr)
		})
	}
	wg.Wait()
	ok := 0
	for i := 1; i < n; i++ {
		switch i % 10 {
		case 3:
			if i18n.KindOf(errs[i]) != requests.KindIdempotencyReused {
				t.Errorf("creation %d reusing a key: %v, want a conflict", i, errs[i])
			}
		case 7:
			if errs[i] == nil {
				t.Errorf("creation %d with a cancelled context succeeded", i)
			}
		default:
			if errs[i] != nil {
				t.Fatalf("creation %d: %v", i, errs[i])
			}
			ok++
		}
	}

	s.Close()
	s = open(t, path)
	all, err := s.ListRequests(ctx, requests.Filter{Tenant: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != ok+1 {
		t.Errorf("%d requests stored, want the %d acknowledged", len(all), ok+1)
	}
	for i := 1; i < n; i++ {
		if errs[i] != nil {
			continue
		}
		r, err := s.GetRequest(ctx, "t", got[i].ServiceRequestID)
		if err != nil || r.Token != got[i].Token {
			t.Errorf("acknowledged request %d: %+v, %v", i, r, err)
		}
		evs, err := s.ListEvents(ctx, "t", got[i].ServiceRequestID)
		if err != nil || len(evs) != 1 {
			t.Errorf("acknowledged request %d has events %v, %v; want its created event", i, evs, err)
		}
	}
	if _, err := s.CreateRequest(ctx, mk(n)); err != nil {
		t.Errorf("a creation after the burst: %v", err)
	}
}
