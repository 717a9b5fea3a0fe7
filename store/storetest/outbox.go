package storetest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// RunOutbox runs the work-order and outbox contract (requests.OutboxStore);
// open returns a fresh, empty store per call, as for Run.
func RunOutbox(t *testing.T, open func(t *testing.T) Stores) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Stores)
	}{
		{"OnePerCluster", testWorkOrderOnePerCluster},
		{"OnePerClusterConcurrent", testWorkOrderOnePerClusterConcurrent},
		{"Delivery", testOutboxDelivery},
		{"Status", testWorkOrderStatus},
		{"Update", testWorkOrderUpdate},
		{"Clusters", testClusterWorkOrders},
		{"Paging", testWorkOrderPaging},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

func woRequest(p requests.Request) requests.NewRequest {
	nr := newRequest(p)
	nr.Cluster = cq(p.TenantID, p.Point)
	nr.WorkOrder = true
	return nr
}

func createWO(t *testing.T, s Stores, nr requests.NewRequest) requests.Request {
	t.Helper()
	r, err := s.CreateRequest(context.Background(), nr)
	if err != nil {
		t.Fatalf("CreateRequest: %v", err)
	}
	return r
}

// claimAll claims everything due at now.
func claimAll(t *testing.T, s Stores, tenant string, now time.Time) []requests.OutboxMessage {
	t.Helper()
	ms, err := s.ClaimOutbox(context.Background(), tenant, now, time.Minute, 100)
	if err != nil {
		t.Fatalf("ClaimOutbox: %v", err)
	}
	return ms
}

// testWorkOrderOnePerCluster: three reports of one pothole make one work
// order counting three requests; a request not asking for one makes none;
// another tenant's outbox is its own.
func testWorkOrderOnePerCluster(t *testing.T, s Stores) {
	ctx := context.Background()
	r := newReq(tenantA, origin, t0)
	r.AssetID, r.AssetLayer, r.Description, r.Attributes = "SL-1", "streetlight", "deep hole", map[string]string{"size": "large"}
	r.DueAt = t0.Add(48 * time.Hour)
	first := createWO(t, s, woRequest(r))
	for i := 1; i <= 2; i++ {
		createWO(t, s, woRequest(newReq(tenantA, east(float64(i*5)), t0.Add(time.Duration(i)*time.Minute))))
	}
	createWO(t, s, newRequest(newReq(tenantA, east(500), t0))) // WorkOrder false: none
	createWO(t, s, woRequest(newReq(tenantB, origin, t0)))

	wos, err := s.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenantA})
	if err != nil {
		t.Fatal(err)
	}
	if len(wos) != 1 {
		t.Fatalf("%d work orders for one cluster, want 1: %+v", len(wos), wos)
	}
	w := wos[0]
	if w.ClusterID != first.ServiceRequestID || w.RequestCount != 3 || w.Status != requests.New ||
		w.Delivery != requests.OutboxPending || w.Department != "public_works" {
		t.Errorf("work order %+v", w)
	}
	want := requests.NewWorkOrderPayload(first)
	if !reflect.DeepEqual(w.Payload, want) {
		t.Errorf("payload\n got %+v\nwant %+v", w.Payload, want)
	}
	got, err := s.GetWorkOrder(ctx, tenantA, w.ID)
	if err != nil || !reflect.DeepEqual(got, w) {
		t.Errorf("GetWorkOrder = %+v, %v; want %+v", got, err, w)
	}
	if tb, err := s.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenantB}); err != nil || len(tb) != 1 || tb[0].ID == w.ID {
		t.Errorf("tenant B's work orders: %+v, %v", tb, err)
	}
	_, err = s.GetWorkOrder(ctx, tenantB, w.ID)
	wantKind(t, "another tenant's work order", err, i18n.NotFound)
	_, err = s.GetWorkOrder(ctx, tenantA, 999999)
	wantKind(t, "unknown work order", err, i18n.NotFound)
}

// testWorkOrderOnePerClusterConcurrent: n residents report one issue at
// once (some retrying with their Idempotency-Key), round after round at
// places 1 km apart: each round makes one cluster, one work order counting
// its n requests and one create message, whatever the interleaving.
func testWorkOrderOnePerClusterConcurrent(t *testing.T, s Stores) {
	ctx := context.Background()
	const n, retries, rounds = 10, 3, 3
	for round := range rounds {
		var wg sync.WaitGroup
		got := make([]requests.Request, n+retries)
		errs := make([]error, n+retries)
		for i := range n + retries {
			wg.Go(func() {
				j := i % n // the last ones retry the first ones' submissions
				p := east(float64(1000*round + j))
				nr := woRequest(newReq(tenantA, p, t0.Add(time.Duration(j)*time.Second)))
				nr.Request.Token = fmt.Sprintf("oc-%d-%d", round, j)
				nr.IdempotencyKey, nr.Fingerprint = fmt.Sprintf("oc-%d-%d", round, j), fmt.Sprintf("fp-%d-%d", round, j)
				got[i], errs[i] = s.CreateRequest(ctx, nr)
			})
		}
		wg.Wait()
		clusters, reqs := map[string]bool{}, map[string]bool{}
		for i := range n + retries {
			if errs[i] != nil {
				t.Fatalf("round %d, report %d: %v", round, i, errs[i])
			}
			clusters[got[i].ClusterID], reqs[got[i].ServiceRequestID] = true, true
		}
		if len(clusters) != 1 || len(reqs) != n {
			t.Fatalf("round %d: %d reports (%d retried) made requests %v in clusters %v, want %d requests in one",
				round, n+retries, retries, reqs, clusters, n)
		}
		var cluster string
		for c := range clusters {
			cluster = c
		}
		wos, err := s.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenantA})
		if err != nil {
			t.Fatal(err)
		}
		if len(wos) != round+1 {
			t.Fatalf("round %d: %d work orders after %d clusters: %+v", round, len(wos), round+1, wos)
		}
		if w := wos[round]; w.ClusterID != cluster || w.RequestCount != n {
			t.Errorf("round %d: work order %+v, want cluster %s with %d requests", round, w, cluster, n)
		}
	}
	// One create message per work order, no more.
	ms := claimAll(t, s, tenantA, t0.Add(time.Hour))
	perWO := map[int64]int{}
	for _, m := range ms {
		if m.Kind != requests.OutboxCreate {
			t.Errorf("message %+v: want a create", m)
		}
		perWO[m.WorkOrderID]++
	}
	if len(ms) != rounds || len(perWO) != rounds {
		t.Errorf("%d messages for work orders %v, want one each for %d", len(ms), perWO, rounds)
	}
}

// testOutboxDelivery: claim, lease, fail, dead, retry, deliver; the key
// never changes.
func testOutboxDelivery(t *testing.T, s Stores) {
	ctx := context.Background()
	createWO(t, s, woRequest(newReq(tenantA, origin, t0)))
	now := t0.Add(time.Second)
	ms := claimAll(t, s, tenantA, now)
	if len(ms) != 1 || ms[0].Attempts != 1 || ms[0].Kind != requests.OutboxCreate || ms[0].IdempotencyKey == "" ||
		ms[0].WorkOrder.RequestCount != 1 {
		t.Fatalf("claimed %+v", ms)
	}
	m := ms[0]
	if want := requests.WorkOrderIdempotencyKey(tenantA, m.WorkOrderID, m.ID, m.Kind); m.IdempotencyKey != want {
		t.Errorf("key %q, want %q", m.IdempotencyKey, want)
	}
	if again := claimAll(t, s, tenantA, now.Add(30*time.Second)); len(again) != 0 {
		t.Errorf("leased message claimed again: %+v", again)
	}
	// The lease runs out (a crashed dispatcher): claimed again, same key.
	again := claimAll(t, s, tenantA, now.Add(2*time.Minute))
	if len(again) != 1 || again[0].Attempts != 2 || again[0].IdempotencyKey != m.IdempotencyKey {
		t.Fatalf("after the lease: %+v", again)
	}
	if err := s.RecordAttempts(ctx, tenantA, []requests.AttemptResult{{MessageID: m.ID, Error: "receiver down", Next: now.Add(3 * time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	if got := claimAll(t, s, tenantA, now.Add(150*time.Second)); len(got) != 0 {
		t.Errorf("claimed before its next attempt: %+v", got)
	}
	got := claimAll(t, s, tenantA, now.Add(3*time.Minute))
	if len(got) != 1 || got[0].Attempts != 3 {
		t.Fatalf("third attempt: %+v", got)
	}
	if err := s.RecordAttempts(ctx, tenantA, []requests.AttemptResult{{MessageID: m.ID, Error: "still down", Next: now.Add(time.Hour), Dead: true}}); err != nil {
		t.Fatal(err)
	}
	dead, err := s.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenantA, Delivery: requests.OutboxDead})
	if err != nil || len(dead) != 1 || dead[0].LastError != "still down" || dead[0].Attempts != 3 {
		t.Fatalf("dead letters %+v, %v", dead, err)
	}
	if got := claimAll(t, s, tenantA, now.Add(2*time.Hour)); len(got) != 0 {
		t.Errorf("dead message claimed: %+v", got)
	}
	w, err := s.RetryWorkOrder(ctx, tenantA, m.WorkOrderID, now.Add(2*time.Hour))
	if err != nil || w.Delivery != requests.OutboxPending || w.Attempts != 0 {
		t.Fatalf("RetryWorkOrder = %+v, %v", w, err)
	}
	_, err = s.RetryWorkOrder(ctx, tenantA, m.WorkOrderID, now.Add(2*time.Hour))
	wantKind(t, "retry with nothing dead", err, i18n.Conflict)
	_, err = s.RetryWorkOrder(ctx, tenantA, 999999, now)
	wantKind(t, "retry unknown", err, i18n.NotFound)
	got = claimAll(t, s, tenantA, now.Add(2*time.Hour))
	if len(got) != 1 || got[0].IdempotencyKey != m.IdempotencyKey {
		t.Fatalf("after retry: %+v", got)
	}
	if err := s.RecordAttempts(ctx, tenantA, []requests.AttemptResult{{MessageID: m.ID, Delivered: true, ExternalID: "EXT-9", At: now.Add(2 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	w, err = s.GetWorkOrder(ctx, tenantA, m.WorkOrderID)
	if err != nil || w.Delivery != requests.OutboxDelivered || w.ExternalID != "EXT-9" {
		t.Errorf("delivered: %+v, %v", w, err)
	}
	poll, err := s.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenantA, Polling: true})
	if err != nil || len(poll) != 1 {
		t.Errorf("polling list %+v, %v", poll, err)
	}
}

// testWorkOrderStatus: the integrator's status moves every request of the
// cluster, each with an event; the same status again is a no-op.
func testWorkOrderStatus(t *testing.T, s Stores) {
	ctx := context.Background()
	a := createWO(t, s, woRequest(newReq(tenantA, origin, t0)))
	b := createWO(t, s, woRequest(newReq(tenantA, east(10), t0.Add(time.Minute))))
	wos, _ := s.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenantA})
	if len(wos) != 1 {
		t.Fatalf("work orders %+v", wos)
	}
	at := t0.Add(time.Hour)
	c := requests.WorkOrderStatusChange{Tenant: tenantA, WorkOrderID: wos[0].ID, To: requests.InProgress, Note: "crew sent", Actor: "key:1", At: at}
	w, moved, err := s.SetWorkOrderStatus(ctx, c)
	if err != nil || moved != 2 || w.Status != requests.InProgress {
		t.Fatalf("SetWorkOrderStatus = %+v, %d, %v", w, moved, err)
	}
	for _, r := range []requests.Request{a, b} {
		got, err := s.GetRequest(ctx, tenantA, r.ServiceRequestID)
		if err != nil || got.Status != requests.InProgress || got.StatusNotes != "crew sent" {
			t.Errorf("request %s: %+v, %v", r.ServiceRequestID, got, err)
		}
		evs, err := s.ListEvents(ctx, tenantA, r.ServiceRequestID)
		if err != nil || len(evs) != 2 || evs[1].Kind != requests.EventStatus || evs[1].From != requests.New ||
			evs[1].To != requests.InProgress || evs[1].Actor != "key:1" {
			t.Errorf("events of %s: %+v, %v", r.ServiceRequestID, evs, err)
		}
	}
	if _, moved, err := s.SetWorkOrderStatus(ctx, c); err != nil || moved != 0 {
		t.Errorf("same status again: %d, %v", moved, err)
	}
	c.To = requests.Acknowledged
	_, _, err = s.SetWorkOrderStatus(ctx, c)
	wantKind(t, "backwards", err, i18n.Conflict)
	c.WorkOrderID = 999999
	_, _, err = s.SetWorkOrderStatus(ctx, c)
	wantKind(t, "unknown work order", err, i18n.NotFound)
}

// testWorkOrderUpdate: an update waits for the create before it, and has
// its own key.
func testWorkOrderUpdate(t *testing.T, s Stores) {
	ctx := context.Background()
	r := createWO(t, s, woRequest(newReq(tenantA, origin, t0)))
	ok, err := s.EnqueueWorkOrderUpdate(ctx, tenantA, r.ClusterID, t0.Add(time.Second))
	if err != nil || !ok {
		t.Fatalf("EnqueueWorkOrderUpdate = %v, %v", ok, err)
	}
	if ok, err := s.EnqueueWorkOrderUpdate(ctx, tenantA, "no-such-cluster", t0); err != nil || ok {
		t.Errorf("enqueue for a cluster without a work order = %v, %v", ok, err)
	}
	now := t0.Add(time.Minute)
	ms := claimAll(t, s, tenantA, now)
	if len(ms) != 1 || ms[0].Kind != requests.OutboxCreate {
		t.Fatalf("first claim %+v: want the create only", ms)
	}
	if err := s.RecordAttempts(ctx, tenantA, []requests.AttemptResult{{MessageID: ms[0].ID, Delivered: true, At: now}}); err != nil {
		t.Fatal(err)
	}
	up := claimAll(t, s, tenantA, now)
	if len(up) != 1 || up[0].Kind != requests.OutboxUpdate || up[0].IdempotencyKey == ms[0].IdempotencyKey ||
		up[0].IdempotencyKey != requests.WorkOrderIdempotencyKey(tenantA, up[0].WorkOrderID, up[0].ID, requests.OutboxUpdate) {
		t.Fatalf("update claim %+v", up)
	}
}
