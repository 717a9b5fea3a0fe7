package dispatch_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/dispatch"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
	"github.com/pinward/pinward/store/sqlite"
)

const (
	tenant = "town"
	secret = "s3cret"
)

// receiver is a real webhook endpoint on loopback that checks signatures
// and counts deliveries by Idempotency-Key, as an integrator would.
type receiver struct {
	t      *testing.T
	mu     sync.Mutex
	seen   map[string]int // Idempotency-Key → deliveries
	bodies map[string]dispatch.Payload
	raw    map[string][]byte      // the last body under each key, as sent
	header map[string]http.Header // and its headers
	badSig atomic.Int64
	// behave decides the answer to the n-th delivery (1-based) of key.
	behave func(key string, n int, w http.ResponseWriter) bool
}

func newReceiver(t *testing.T) *receiver {
	return &receiver{t: t, seen: map[string]int{}, bodies: map[string]dispatch.Payload{}, raw: map[string][]byte{}, header: map[string]http.Header{}}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if dispatch.Verify([]byte(secret), r.Header, body, time.Now()) != nil {
		rc.badSig.Add(1)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	var p dispatch.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.seen[key]++
	n := rc.seen[key]
	rc.bodies[key] = p
	rc.raw[key], rc.header[key] = body, r.Header.Clone()
	rc.mu.Unlock()
	if strings.Contains(string(body), "@example.ca") || strings.Contains(string(body), "555-") {
		rc.t.Errorf("personal information in a work order: %s", body)
	}
	if rc.behave != nil && rc.behave(key, n, w) {
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (rc *receiver) keys() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]int{}
	for k, v := range rc.seen {
		out[k] = v
	}
	return out
}

func openStore(t *testing.T) *sqlite.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pinward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// seed stores n requests, each starting its own cluster (1 km apart) and
// asking for a work order; each has a reporter, whose details must never
// leave.
func seed(t *testing.T, s requests.Store, n int) {
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Microsecond)
	for i := range n {
		r := requests.Request{TenantID: tenant, ServiceCode: "pothole", Status: requests.New,
			Point: orb.Point{-73.1 + float64(i)*0.01, 46.05}, WardID: "1", Department: "public_works",
			Description: fmt.Sprintf("hole %d", i), RequestedAt: at, UpdatedAt: at, DueAt: at.Add(48 * time.Hour),
			Lang: i18n.En, Token: fmt.Sprintf("tok-%d", i)}
		_, err := s.CreateRequest(ctx, requests.NewRequest{
			Request:   r,
			Reporter:  &requests.Reporter{FirstName: "Ann", Email: "ann@example.ca", Phone: "555-0101"},
			Event:     requests.Event{TenantID: tenant, At: at, Actor: "resident", Kind: requests.EventCreated, To: requests.New},
			WorkOrder: true,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func newDispatcher(t *testing.T, s requests.OutboxStore, url string, mod func(*dispatch.Config)) *dispatch.Dispatcher {
	cfg := dispatch.Config{
		Tenant: tenant, Store: s,
		Default:   &dispatch.Webhook{URL: url, Secret: []byte(secret), AllowPrivate: true},
		BaseDelay: 20 * time.Millisecond, MaxDelay: 100 * time.Millisecond, Timeout: 300 * time.Millisecond,
		PollInterval: 10 * time.Millisecond, MaxAttempts: 1000, StatusInterval: -1,
	}
	if mod != nil {
		mod(&cfg)
	}
	d, err := dispatch.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// run runs d until every work order is delivered (or fails the test).
func run(t *testing.T, s requests.OutboxStore, d *dispatch.Dispatcher, n int) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitDelivered(t, s, n, 30*time.Second)
}

func waitDelivered(t *testing.T, s requests.OutboxStore, n int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		wos, err := s.ListWorkOrders(context.Background(), requests.WorkOrderFilter{Tenant: tenant, Delivery: requests.OutboxDelivered})
		if err != nil {
			t.Fatal(err)
		}
		if len(wos) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d work orders delivered after %v", len(wos), n, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// check: every work order arrived, under one key each, signed.
func check(t *testing.T, rc *receiver, n int) map[string]int {
	t.Helper()
	keys := rc.keys()
	if len(keys) != n {
		t.Errorf("receiver saw %d distinct Idempotency-Keys, want %d (one per work order): %v", len(keys), n, keys)
	}
	if b := rc.badSig.Load(); b != 0 {
		t.Errorf("%d deliveries with a bad signature", b)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ids := map[string]bool{}
	for k, p := range rc.bodies {
		if p.WorkOrderID == "" || p.ClusterID == "" || p.Category != "pothole" || p.RequestCount != 1 || p.DueAt == nil ||
			p.Location.Type != "Point" || p.Event != "work_order.created" || !strings.HasSuffix(k, "-wo-"+p.WorkOrderID) {
			t.Errorf("payload under %s: %+v", k, p)
		}
		ids[p.WorkOrderID] = true
	}
	if len(ids) != n {
		t.Errorf("%d distinct work orders, want %d", len(ids), n)
	}
	return keys
}

const n = 12

func TestReceiverDownThenUp(t *testing.T) {
	s := openStore(t)
	seed(t, s, n)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down: connections refused
	rc := newReceiver(t)
	go func() {
		time.Sleep(500 * time.Millisecond)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("relisten: %v", err)
			return
		}
		srv := httptest.NewUnstartedServer(rc)
		srv.Listener.Close()
		srv.Listener = ln
		srv.Start()
		t.Cleanup(srv.Close)
	}()
	run(t, s, newDispatcher(t, s, "http://"+addr+"/hook", nil), n)
	for k, c := range check(t, rc, n) {
		if c != 1 {
			t.Errorf("%s delivered %d times; nothing was answered before the receiver came up", k, c)
		}
	}
}

func TestReceiverSlowBeyondTimeout(t *testing.T) {
	s := openStore(t)
	seed(t, s, n)
	rc := newReceiver(t)
	rc.behave = func(key string, n int, w http.ResponseWriter) bool {
		if n == 1 {
			time.Sleep(600 * time.Millisecond) // the dispatcher gives up at 300 ms
		}
		return false
	}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	run(t, s, newDispatcher(t, s, srv.URL, nil), n)
	for k, c := range check(t, rc, n) {
		if c < 2 {
			t.Errorf("%s delivered %d times; the slow first attempt should have been retried", k, c)
		}
	}
}

func Test500Then200(t *testing.T) {
	s := openStore(t)
	seed(t, s, n)
	rc := newReceiver(t)
	rc.behave = func(key string, n int, w http.ResponseWriter) bool {
		if n <= 2 {
			http.Error(w, "try later", http.StatusInternalServerError)
			return true
		}
		return false
	}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	run(t, s, newDispatcher(t, s, srv.URL, nil), n)
	for k, c := range check(t, rc, n) {
		if c != 3 {
			t.Errorf("%s delivered %d times, want 3 (500, 500, 200)", k, c)
		}
	}
}

// TestDuplicate200: a dispatcher gets its 200s and dies before recording
// them; after the lease another delivers the same messages again. The
// receiver gets each twice, under the same key.
func TestDuplicate200(t *testing.T) {
	s := openStore(t)
	seed(t, s, n)
	rc := newReceiver(t)
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	ms, err := s.ClaimOutbox(ctx, tenant, time.Now(), time.Millisecond, 100)
	if err != nil || len(ms) != n {
		t.Fatalf("claimed %d, %v", len(ms), err)
	}
	hook := &dispatch.Webhook{URL: srv.URL, Secret: []byte(secret), AllowPrivate: true}
	for _, m := range ms {
		if _, err := hook.Deliver(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(5 * time.Millisecond) // the lease runs out
	run(t, s, newDispatcher(t, s, srv.URL, nil), n)
	for k, c := range check(t, rc, n) {
		if c != 2 {
			t.Errorf("%s delivered %d times, want 2 (the duplicate)", k, c)
		}
	}
}

// TestDeadLetterThenRetry: a receiver that refuses for good dead-letters
// after MaxAttempts; staff retry delivers under the same key.
func TestDeadLetterThenRetry(t *testing.T) {
	s := openStore(t)
	seed(t, s, 3)
	rc := newReceiver(t)
	var broken atomic.Bool
	broken.Store(true)
	rc.behave = func(key string, n int, w http.ResponseWriter) bool {
		if broken.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	d := newDispatcher(t, s, srv.URL, func(c *dispatch.Config) { c.MaxAttempts = 3 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	var dead []requests.WorkOrder
	for len(dead) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d dead letters, want 3", len(dead))
		}
		time.Sleep(20 * time.Millisecond)
		var err error
		if dead, err = s.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenant, Delivery: requests.OutboxDead}); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range dead {
		if w.Attempts != 3 || !strings.Contains(w.LastError, "503") {
			t.Errorf("dead letter %+v", w)
		}
	}
	broken.Store(false)
	for _, w := range dead {
		if _, err := s.RetryWorkOrder(ctx, tenant, w.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	waitDelivered(t, s, 3, 20*time.Second) // at the dispatcher's next poll
	for k, c := range check(t, rc, 3) {
		if c != 4 {
			t.Errorf("%s delivered %d times, want 4 (3 refused, then the retry)", k, c)
		}
	}
}

func TestBackoff(t *testing.T) {
	d, err := dispatch.New(dispatch.Config{Tenant: tenant, Store: openStore(t), BaseDelay: time.Second, MaxDelay: 8 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 9: 8 * time.Second} {
		for range 50 {
			if got := d.Backoff(n); got < want/2 || got > want {
				t.Fatalf("Backoff(%d) = %v, want in [%v, %v]", n, got, want/2, want)
			}
		}
	}
}

// TestPayload: the webhook document has exactly the documented fields,
// with the cluster's values, and nothing of any reporter; the headers are
// as documented and the signature verifies with nothing but the standard
// library.
func TestPayload(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Microsecond)
	p := orb.Point{-73.1, 46.05}
	reporter := &requests.Reporter{FirstName: "Annabelle", LastName: "Tremblay", Email: "annabelle@example.ca",
		Phone: "819-555-0199", DeviceID: "device-42"}
	var first requests.Request
	for i := range 2 { // the second report joins the first's cluster
		r := requests.Request{TenantID: tenant, ServiceCode: "streetlight_out", Status: requests.New,
			Point: orb.Point{p[0] + float64(i)*1e-5, p[1]}, WardID: "3", Department: "electrical",
			AssetLayer: "streetlight", AssetID: "SL-9", Address: "12 rue Principale",
			Description: "dark since Monday", Attributes: map[string]string{"pole": "leaning"},
			RequestedAt: at, UpdatedAt: at, DueAt: at.Add(72 * time.Hour), Lang: i18n.Fr, Token: fmt.Sprintf("pl-%d", i)}
		got, err := s.CreateRequest(ctx, requests.NewRequest{
			Request: r, Reporter: reporter, WorkOrder: true,
			Cluster: &requests.ClusterQuery{Tenant: tenant, ServiceCodes: []string{"streetlight_out"}, Point: r.Point,
				DistanceM: 30, Bound: geo.NewRuler(p[1]).Buffer(r.Point, 30), Since: at.Add(-time.Hour)},
			Event: requests.Event{TenantID: tenant, At: at, Actor: "resident", Kind: requests.EventCreated, To: requests.New},
		})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = got
		} else if got.ClusterID != first.ServiceRequestID {
			t.Fatalf("second report in cluster %s, want %s", got.ClusterID, first.ServiceRequestID)
		}
	}
	rc := newReceiver(t)
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	run(t, s, newDispatcher(t, s, srv.URL, nil), 1)

	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.raw) != 1 {
		t.Fatalf("%d keys, want 1", len(rc.raw))
	}
	for key, body := range rc.raw {
		for _, pii := range []string{"Annabelle", "Tremblay", "annabelle@", "555-0199", "device-42"} {
			if strings.Contains(string(body), pii) {
				t.Errorf("the work order carries reporter information (%q): %s", pii, body)
			}
		}
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		var fields []string
		for k := range doc {
			fields = append(fields, k)
		}
		slices.Sort(fields)
		want := []string{"address", "asset_id", "asset_layer", "attributes", "category", "cluster_id", "created_at",
			"department", "description", "due_at", "event", "location", "request_count", "status", "tenant", "ward", "work_order_id"}
		if !slices.Equal(fields, want) {
			t.Errorf("payload fields %v, want exactly %v", fields, want)
		}
		loc, _ := json.Marshal(doc["location"])
		if doc["cluster_id"] != first.ServiceRequestID || doc["request_count"] != 2.0 || doc["category"] != "streetlight_out" ||
			doc["ward"] != "3" || doc["asset_id"] != "SL-9" || doc["asset_layer"] != "streetlight" ||
			doc["description"] != "dark since Monday" || doc["department"] != "electrical" || doc["status"] != "new" ||
			doc["event"] != "work_order.created" || doc["due_at"] != first.DueAt.Format(time.RFC3339Nano) ||
			string(loc) != `{"coordinates":[-73.1,46.05],"type":"Point"}` {
			t.Errorf("payload %s", body)
		}
		h := rc.header[key]
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		if sig := "sha256=" + hex.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(h.Get("X-Pinward-Signature")), []byte(sig)) {
			t.Errorf("X-Pinward-Signature %q, want %q", h.Get("X-Pinward-Signature"), sig)
		}
		if key != "pinward-"+tenant+"-wo-"+doc["work_order_id"].(string) || h.Get("X-Pinward-Event") != "work_order.created" ||
			h.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", h)
		}
	}
}

// TestLeaseCoversBatch: two dispatchers on one store, one delivery at a
// time each, to a slow receiver. The first claims every message; its batch
// outlasts one attempt's timeout, yet the second must not take (and send
// again) a message the first is still working through.
func TestLeaseCoversBatch(t *testing.T) {
	s := openStore(t)
	const m = 8
	seed(t, s, m)
	rc := newReceiver(t)
	rc.behave = func(string, int, http.ResponseWriter) bool { time.Sleep(250 * time.Millisecond); return false }
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	slow := func(c *dispatch.Config) { c.Workers, c.Batch, c.Timeout = 1, m, 400*time.Millisecond }
	first, second := newDispatcher(t, s, srv.URL, slow), newDispatcher(t, s, srv.URL, slow)
	ctx, cancel := context.WithCancel(context.Background())
	secondDone := make(chan struct{})
	defer func() { cancel(); <-secondDone }()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if n, err := first.RunOnce(ctx); n != m || err != nil {
			t.Errorf("first dispatcher claimed %d, %v; want all %d", n, err, m)
		}
	}()
	time.Sleep(50 * time.Millisecond) // the first has claimed them
	go func() { defer close(secondDone); second.Run(ctx) }()
	<-done
	waitDelivered(t, s, m, 10*time.Second)
	time.Sleep(200 * time.Millisecond) // a stray second delivery would show now
	for k, c := range check(t, rc, m) {
		if c != 1 {
			t.Errorf("%s delivered %d times, want once: the second dispatcher took a leased message", k, c)
		}
	}
}

// TestTwoServersOnePostGIS: two servers' dispatchers (two stores, two
// pools) share one PostGIS outbox at once; every work order arrives, under
// one key, once: a claim is never taken by both (FOR UPDATE SKIP LOCKED and
// the lease).
func TestTwoServersOnePostGIS(t *testing.T) {
	url := pgtest.URL(t)
	var stores [2]*postgis.Store
	for i := range stores {
		s, err := postgis.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		stores[i] = s
	}
	const m = 60
	seed(t, stores[0], m)
	rc := newReceiver(t)
	rc.behave = func(string, int, http.ResponseWriter) bool { time.Sleep(5 * time.Millisecond); return false }
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	small := func(c *dispatch.Config) { c.Batch, c.Workers = 4, 2 } // many claims, so the two interleave
	for _, s := range stores {
		d := newDispatcher(t, s, srv.URL, small)
		wg.Go(func() { d.Run(ctx) })
	}
	waitDelivered(t, stores[1], m, 30*time.Second)
	time.Sleep(100 * time.Millisecond)
	for k, c := range check(t, rc, m) {
		if c != 1 {
			t.Errorf("%s delivered %d times, want once", k, c)
		}
	}
}
