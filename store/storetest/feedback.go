package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// testFeedback: satisfaction once per closed request, refused for an
// unknown, open or already rated request without a change; a reopen
// within the window moves the request back with its event and queues one
// staff message per contact; after the window, or of a request that is
// not closed, it changes nothing.
func testFeedback(t *testing.T, s Stores) {
	ctx := context.Background()
	open := create(t, s, newRequest(newReq(tenantA, east(0), t0)))
	closed := create(t, s, newRequest(newReq(tenantA, east(100), t0)))
	old := create(t, s, newRequest(newReq(tenantA, east(200), t0)))
	closeAt := t0.Add(time.Hour)
	for _, r := range []requests.Request{closed, old} {
		if _, err := s.TransitionRequest(ctx, move(tenantA, r.ServiceRequestID, requests.Closed, closeAt)); err != nil {
			t.Fatal(err)
		}
	}
	sat := func(id string, score int, comment string) requests.Satisfaction {
		return requests.Satisfaction{Tenant: tenantA, ServiceRequestID: id, Score: score, Comment: comment, At: t0.Add(2 * time.Hour)}
	}

	wantKind(t, "unknown request", s.GiveSatisfaction(ctx, sat("999999", 4, "")), i18n.NotFound)
	wantKind(t, "other tenant", s.GiveSatisfaction(ctx, requests.Satisfaction{Tenant: tenantB, ServiceRequestID: closed.ServiceRequestID,
		Score: 4, At: t0}), i18n.NotFound)
	wantKind(t, "open request", s.GiveSatisfaction(ctx, sat(open.ServiceRequestID, 4, "")), i18n.Conflict)
	if _, ok, err := s.GetSatisfaction(ctx, tenantA, open.ServiceRequestID); ok || err != nil {
		t.Errorf("refused satisfaction stored: %v, %v", ok, err)
	}
	if err := s.GiveSatisfaction(ctx, sat(closed.ServiceRequestID, 2, "Trou mal bouché")); err != nil {
		t.Fatalf("satisfaction: %v", err)
	}
	wantKind(t, "second satisfaction", s.GiveSatisfaction(ctx, sat(closed.ServiceRequestID, 5, "")), i18n.Conflict)
	got, ok, err := s.GetSatisfaction(ctx, tenantA, closed.ServiceRequestID)
	want := sat(closed.ServiceRequestID, 2, "Trou mal bouché")
	want.At = utc(want.At)
	if !ok || err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("satisfaction reads back %+v, %v, %v; want %+v", got, ok, err, want)
	}
	if _, _, err := s.GetSatisfaction(ctx, tenantA, "999999"); i18n.KindOf(err) != i18n.NotFound {
		t.Errorf("satisfaction of an unknown request: %v", err)
	}

	staff := []requests.Contact{{Email: "roads@example.ca", Lang: i18n.Fr}, {Email: "chief@example.ca", Lang: i18n.En}}
	reopen := func(id string, at time.Time, window time.Duration) (requests.Request, error) {
		return s.ReopenRequest(ctx, requests.Reopening{
			Transition: requests.Transition{Tenant: tenantA, ServiceRequestID: id, From: requests.Closed, To: requests.Reopened,
				InternalNote: "still there", Actor: requests.ResidentActor, At: at},
			ClosedSince: at.Add(-window), Staff: staff,
		})
	}
	staffRows := func() int {
		ms, err := s.ListMail(ctx, requests.MailFilter{Tenant: tenantA})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range ms {
			if m.Kind == requests.MailReopenedStaff {
				n++
			}
		}
		return n
	}
	window := 14 * 24 * time.Hour
	// After the window, or of an open request: nothing changes.
	for _, c := range []struct {
		name string
		id   string
		at   time.Time
	}{{"after the window", old.ServiceRequestID, closeAt.Add(window + time.Minute)}, {"open request", open.ServiceRequestID, closeAt}} {
		before, _ := s.GetRequest(ctx, tenantA, c.id)
		n := eventCount(t, s, tenantA, c.id)
		_, err := reopen(c.id, c.at, window)
		wantKind(t, c.name, err, i18n.Conflict)
		after, _ := s.GetRequest(ctx, tenantA, c.id)
		if !reflect.DeepEqual(before, after) || eventCount(t, s, tenantA, c.id) != n || staffRows() != 0 {
			t.Errorf("%s: refused reopen changed something", c.name)
		}
	}
	at := closeAt.Add(window - time.Minute)
	r, err := reopen(closed.ServiceRequestID, at, window)
	if err != nil || r.Status != requests.Reopened || !r.UpdatedAt.Equal(utc(at)) {
		t.Fatalf("reopen = %+v, %v", r, err)
	}
	ev := lastEvent(t, s.Store, tenantA, closed.ServiceRequestID)
	if ev.Kind != requests.EventStatus || ev.From != requests.Closed || ev.To != requests.Reopened || ev.Actor != requests.ResidentActor ||
		ev.InternalNote != "still there" || ev.PublicNote(i18n.En) != "" {
		t.Errorf("reopen event %+v", ev)
	}
	if n := staffRows(); n != len(staff) {
		t.Errorf("%d staff messages queued, want %d", n, len(staff))
	}
	_, err = reopen(closed.ServiceRequestID, at.Add(time.Second), window)
	wantKind(t, "reopen twice", err, i18n.Conflict)
	if n := staffRows(); n != len(staff) {
		t.Errorf("after a refused second reopen, %d staff messages", n)
	}
}
