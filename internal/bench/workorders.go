package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/dispatch"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

const benchWorkOrdersHelp = `
Measures work-order delivery: --n work orders are written to the outbox
(each by the request that starts its cluster, as intake does), then a
dispatcher delivers them to a local webhook on loopback that checks every
signature and counts Idempotency-Keys. Prints work orders per second from
the first claim to the last acknowledgement, for each store.

SQLite uses a fresh temporary folder; PostGIS uses --db (default
$PINWARD_DATABASE_URL or $PINWARD_TEST_DATABASE_URL) under a tenant of its
own, removed at the end; without a URL PostGIS is skipped.
`

func benchWorkOrders(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "bench workorders", "bench workorders [--n 5000] [--workers 16] [--db URL]", benchWorkOrdersHelp)
	n := fs.Int("n", 5000, "work orders to deliver")
	workers := fs.Int("workers", 16, "concurrent deliveries")
	batch := fs.Int("batch", 128, "messages claimed at once")
	db := fs.String("db", "", "PostgreSQL+PostGIS `URL`")
	stores := fs.String("stores", "sqlite,postgis", "comma-separated `stores` to measure")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *n < 1 || *n > 1_000_000 || *workers < 1 || *workers > 1024 || *batch < 1 || *batch > 10000 {
		return usageErrorf("--n must be in [1, 1000000], --workers in [1, 1024], --batch in [1, 10000]")
	}
	return forEachBenchStore(ctx, env, *stores, *db, "bench-wo-", func(bs benchStore, tenant string) error {
		return benchDeliver(ctx, env, bs.name, tenant, bs.store(), *n, *workers, *batch)
	})
}

func benchDeliver(ctx context.Context, env Env, name, tenant string, st interface {
	requests.Store
	requests.OutboxStore
}, n, workers, batch int) error {
	const secret = "bench-secret"
	var (
		mu      sync.Mutex
		keys    = map[string]int{}
		badSigs atomic.Int64
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if dispatch.Verify([]byte(secret), r.Header, body, time.Now()) != nil {
			badSigs.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		keys[r.Header.Get("Idempotency-Key")]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()

	start := time.Now()
	at := start.UTC().Truncate(time.Microsecond)
	for i := range n {
		r := requests.Request{TenantID: tenant, ServiceCode: "pothole", Status: requests.New,
			Point: orb.Point{-73.1 + float64(i%1000)*0.001, 46.0 + float64(i/1000)*0.001}, WardID: "1",
			Department: "public_works", Description: fmt.Sprintf("bench %d", i), RequestedAt: at, UpdatedAt: at,
			Lang: i18n.En, Token: fmt.Sprintf("%s-%d", tenant, i), Attributes: map[string]string{"size": "large"}}
		if _, err := st.CreateRequest(ctx, requests.NewRequest{Request: r, WorkOrder: true,
			Event: requests.Event{TenantID: tenant, At: at, Actor: "bench", Kind: requests.EventCreated, To: requests.New}}); err != nil {
			return err
		}
	}
	seeded := time.Since(start)

	d, err := dispatch.New(dispatch.Config{
		Tenant: tenant, Store: st, Default: &dispatch.Webhook{URL: hook.URL, Secret: []byte(secret), Client: hook.Client()},
		Workers: workers, Batch: batch, PollInterval: 5 * time.Millisecond, StatusInterval: -1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return err
	}
	start = time.Now()
	for {
		got, err := d.RunOnce(ctx)
		if err != nil {
			return err
		}
		if got == 0 {
			break
		}
	}
	elapsed := time.Since(start)
	// Every work order must be marked delivered: none left pending or dead.
	var left [2]int
	for i, state := range []requests.OutboxState{requests.OutboxPending, requests.OutboxDead} {
		wos, err := st.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenant, Delivery: state, Limit: requests.MaxListLimit})
		if err != nil {
			return err
		}
		left[i] = len(wos)
	}
	mu.Lock()
	distinct := len(keys)
	mu.Unlock()
	fmt.Fprintf(env.Stdout, "workorders %-7s %d work orders written in %.2fs; delivered in %.2fs: %.0f work orders/s (%d workers, batch %d); receiver saw %d distinct keys, %d bad signatures; %d pending, %d dead after the run\n",
		name, n, seeded.Seconds(), elapsed.Seconds(), float64(n)/elapsed.Seconds(), workers, batch, distinct, badSigs.Load(), left[0], left[1])
	if distinct != n || badSigs.Load() != 0 || left != [2]int{} {
		return fmt.Errorf("bench workorders %s: %d distinct keys for %d work orders, %d bad signatures, %d pending, %d dead",
			name, distinct, n, badSigs.Load(), left[0], left[1])
	}
	return nil
}
