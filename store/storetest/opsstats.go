package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/pinward/pinward/requests"
)

// testOpsStats: the outbox by connector (pending, dead, oldest pending)
// and the open and overdue requests, one tenant's only.
func testOpsStats(t *testing.T, s Stores) {
	ctx := context.Background()
	empty, err := s.OpsStats(ctx, tenantA, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(empty, requests.OpsStats{}) {
		t.Fatalf("empty store: %+v", empty)
	}

	// Two work orders of public_works queued a minute apart, far enough
	// apart to be two clusters; one request closed; one overdue.
	late := newReq(tenantA, origin, t0)
	late.DueAt = t0.Add(time.Hour)
	createWO(t, s, woRequest(late))
	createWO(t, s, woRequest(newReq(tenantA, east(5000), t0.Add(time.Minute))))
	closed := create(t, s, newRequest(newReq(tenantA, east(9000), t0)))
	if _, err := s.UpdateStatus(ctx, requests.StatusChange{Tenant: tenantA, ServiceRequestID: closed.ServiceRequestID,
		To: requests.Closed, Actor: "test", At: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	createWO(t, s, woRequest(newReq(tenantB, origin, t0))) // another tenant's

	// The first message fails for good: it is dead.
	ms := claimAll(t, s, tenantA, t0.Add(time.Hour))
	if len(ms) != 2 {
		t.Fatalf("claimed %d messages, want 2", len(ms))
	}
	first := ms[0]
	for _, m := range ms[1:] {
		if m.ID < first.ID {
			first = m
		}
	}
	if err := s.RecordAttempts(ctx, tenantA, []requests.AttemptResult{{MessageID: first.ID, At: t0.Add(time.Hour),
		Error: "refused", Dead: true}}); err != nil {
		t.Fatal(err)
	}

	now := t0.Add(2 * time.Hour)
	got, err := s.OpsStats(ctx, tenantA, now)
	if err != nil {
		t.Fatal(err)
	}
	want := requests.OpsStats{
		Outbox:  []requests.OutboxStat{{Connector: "public_works", Pending: 1, Dead: 1, OldestPending: t0.Add(time.Minute).UTC().Truncate(time.Microsecond)}},
		Open:    2,
		Overdue: 1,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("OpsStats:\n got %+v\nwant %+v", got, want)
	}
}
