package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// shiftClock is an SLA clock that moves a due time by the elapsed pause:
// the stores only carry what it answers.
type shiftClock struct{}

func (shiftClock) ResumeDueAt(_ string, due, pausedAt, at time.Time) time.Time {
	return due.Add(at.Sub(pausedAt))
}

// pathTo is how a new request reaches each status through allowed moves.
var pathTo = map[requests.Status][]requests.Status{
	requests.New:               nil,
	requests.Acknowledged:      {requests.Acknowledged},
	requests.InProgress:        {requests.InProgress},
	requests.WaitingOnResident: {requests.WaitingOnResident},
	requests.Closed:            {requests.Closed},
	requests.Reopened:          {requests.Closed, requests.Reopened},
}

func move(tenant, id string, to requests.Status, at time.Time) requests.Transition {
	t := requests.Transition{Tenant: tenant, ServiceRequestID: id, To: to, Actor: "key:3", At: at, Clock: shiftClock{}}
	if to == requests.Closed {
		t.Reason = requests.ReasonFixed
	}
	return t
}

// testTransitions: every move of the status table, allowed or refused, on
// a request in each status; a refusal is a Conflict that changes nothing
// and writes no event.
func testTransitions(t *testing.T, s Stores) {
	ctx := context.Background()
	n := 0
	for _, from := range requests.Statuses() {
		for _, to := range requests.Statuses() {
			n++
			r := create(t, s, newRequest(newReq(tenantA, east(float64(n*50)), t0)))
			at := t0
			for _, st := range pathTo[from] {
				at = at.Add(time.Minute)
				if _, err := s.TransitionRequest(ctx, move(tenantA, r.ServiceRequestID, st, at)); err != nil {
					t.Fatalf("%s on the way to %s: %v", st, from, err)
				}
			}
			before, _ := s.GetRequest(ctx, tenantA, r.ServiceRequestID)
			events := eventCount(t, s, tenantA, r.ServiceRequestID)
			got, err := s.TransitionRequest(ctx, move(tenantA, r.ServiceRequestID, to, at.Add(time.Minute)))
			after, _ := s.GetRequest(ctx, tenantA, r.ServiceRequestID)
			name := fmt.Sprintf("%s → %s", from, to)
			if !from.CanTransition(to) {
				wantKind(t, name, err, i18n.Conflict)
				if !reflect.DeepEqual(before, after) || eventCount(t, s, tenantA, r.ServiceRequestID) != events {
					t.Errorf("%s refused but changed: %+v → %+v", name, before, after)
				}
				continue
			}
			if err != nil || got.Status != to || !reflect.DeepEqual(got, after) || !after.UpdatedAt.Equal(utc(at.Add(time.Minute))) {
				t.Errorf("%s = %+v, %v; reads back %+v", name, got, err, after)
				continue
			}
			if (to == requests.Closed) != (after.CloseReason == requests.ReasonFixed) || (to == requests.WaitingOnResident) == after.PausedAt.IsZero() {
				t.Errorf("%s: close reason %q, paused at %v", name, after.CloseReason, after.PausedAt)
			}
			ev := lastEvent(t, s.Store, tenantA, r.ServiceRequestID)
			if ev.Kind != requests.EventStatus || ev.From != from || ev.To != to || ev.Actor != "key:3" || eventCount(t, s, tenantA, r.ServiceRequestID) != events+1 {
				t.Errorf("%s event %+v", name, ev)
			}
		}
	}
	if n != 36 {
		t.Errorf("%d pairs tried, want 36", n)
	}
}

// testTransitionDetails: notes per language, reasons, referral, template
// and internal note round-trip on the request and its events, in order;
// the pause stops and the resume moves the due time; a stale From is
// refused; assignment and notes are events that move nothing.
func testTransitionDetails(t *testing.T, s Stores) {
	ctx := context.Background()
	in := newReq(tenantA, origin, t0)
	in.DueAt = t0.Add(48 * time.Hour)
	r := create(t, s, newRequest(in))
	id := r.ServiceRequestID
	at := func(m int) time.Time { return t0.Add(time.Duration(m)*time.Minute + 999) }
	steps := []requests.Transition{
		{To: requests.Acknowledged, Template: "received", PublicNoteEn: "We have it.", PublicNoteFr: "Nous l'avons.", InternalNote: "call back «Marc»", At: at(1)},
		{To: requests.WaitingOnResident, PublicNoteFr: "Quel coin de rue?", At: at(2)},
		{To: requests.InProgress, At: at(62)},
		{To: requests.Closed, Reason: requests.ReasonReferred, ReferredTo: "Hydro-Québec", PublicNoteEn: "Hydro-Québec owns this pole.", At: at(70)},
	}
	var got requests.Request
	for i, st := range steps {
		st.Tenant, st.ServiceRequestID, st.Actor, st.Clock = tenantA, id, fmt.Sprint("key:", i), shiftClock{}
		var err error
		if got, err = s.TransitionRequest(ctx, st); err != nil {
			t.Fatalf("step %d (%s): %v", i, st.To, err)
		}
		switch st.To {
		case requests.WaitingOnResident:
			if !got.PausedAt.Equal(utc(at(2))) || !got.NextEscalationAt.IsZero() || got.StatusNotes != "" || got.StatusNotesFr != "Quel coin de rue?" {
				t.Errorf("paused: %+v", got)
			}
		case requests.InProgress:
			// An hour paused: the due time is an hour later.
			if !got.PausedAt.IsZero() || !got.DueAt.Equal(utc(in.DueAt.Add(time.Hour))) || got.StatusNotesFr != "Quel coin de rue?" {
				t.Errorf("resumed: due %v paused %v notes %q", got.DueAt, got.PausedAt, got.StatusNotesFr)
			}
		}
	}
	if got.Status != requests.Closed || got.CloseReason != requests.ReasonReferred || got.StatusNotes != "Hydro-Québec owns this pole." || got.StatusNotesFr != "" {
		t.Errorf("closed: %+v", got)
	}
	// The auto-close sweep names the status it saw: a request that moved
	// since is refused, once closed it stays closed.
	_, err := s.TransitionRequest(ctx, requests.Transition{Tenant: tenantA, ServiceRequestID: id, From: requests.WaitingOnResident,
		To: requests.Reopened, Actor: "auto", At: at(80)})
	wantKind(t, "stale From", err, i18n.Conflict)

	as, err := s.AssignRequest(ctx, requests.Assignment{Tenant: tenantA, ServiceRequestID: id, Assignee: "crew-7", Actor: "key:9", At: at(90)})
	if err != nil || as.Assignee != "crew-7" || as.Status != requests.Closed {
		t.Errorf("assign = %+v, %v", as, err)
	}
	if g, _ := s.GetRequest(ctx, tenantA, id); !reflect.DeepEqual(g, as) {
		t.Errorf("after assign GetRequest = %+v, want %+v", g, as)
	}
	note, err := s.AddStaffNote(ctx, requests.StaffNote{Tenant: tenantA, ServiceRequestID: id, Note: "résident rappelé\nà 14 h", Actor: "key:9", At: at(91)})
	if err != nil || note.ID == 0 || note.Kind != requests.EventNote || note.InternalNote != "résident rappelé\nà 14 h" || !note.At.Equal(utc(at(91))) {
		t.Errorf("note = %+v, %v", note, err)
	}
	evs, err := s.ListEvents(ctx, tenantA, id)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range evs {
		lines = append(lines, fmt.Sprintf("%s %s>%s %s en=%q fr=%q int=%q why=%q tpl=%q", e.Kind, e.From, e.To, e.Actor,
			e.PublicNoteEn, e.PublicNoteFr, e.InternalNote, e.Reason, e.Template))
	}
	want := []string{
		`created >new resident en="" fr="" int="" why="" tpl=""`,
		`status new>acknowledged key:0 en="We have it." fr="Nous l'avons." int="call back «Marc»" why="" tpl="received"`,
		`status acknowledged>waiting_on_resident key:1 en="" fr="Quel coin de rue?" int="" why="" tpl=""`,
		`status waiting_on_resident>in_progress key:2 en="" fr="" int="" why="" tpl=""`,
		`status in_progress>closed key:3 en="Hydro-Québec owns this pole." fr="" int="" why="referred: Hydro-Québec" tpl=""`,
		`assigned closed>closed key:9 en="" fr="" int="" why="" tpl=""`,
		`note closed>closed key:9 en="" fr="" int="résident rappelé\nà 14 h" why="" tpl=""`,
	}
	if !slices.Equal(lines, want) {
		t.Errorf("events =\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if len(evs) == len(want) && (evs[6].ID != note.ID || evs[1].PublicNote(i18n.Fr) != "Nous l'avons." || evs[2].PublicNote(i18n.En) != "Quel coin de rue?") {
		t.Errorf("events %+v", evs)
	}

	// Another tenant sees none of it.
	_, err = s.TransitionRequest(ctx, requests.Transition{Tenant: tenantB, ServiceRequestID: id, To: requests.Reopened, Actor: "b", At: at(99)})
	wantKind(t, "another tenant's transition", err, i18n.NotFound)
	_, err = s.AssignRequest(ctx, requests.Assignment{Tenant: tenantB, ServiceRequestID: id, Assignee: "x", Actor: "b", At: at(99)})
	wantKind(t, "another tenant's assign", err, i18n.NotFound)
	_, err = s.AddStaffNote(ctx, requests.StaffNote{Tenant: tenantB, ServiceRequestID: id, Note: "x", Actor: "b", At: at(99)})
	wantKind(t, "another tenant's note", err, i18n.NotFound)
}

// testWaitingSince: the sweep's list, longest waiting first, paged by
// (PausedAt, ID), ties included.
func testWaitingSince(t *testing.T, s Stores) {
	ctx := context.Background()
	var ids []string
	for i := range 5 {
		r := create(t, s, newRequest(newReq(tenantA, east(float64(i*40)), t0)))
		pause := t0.Add(time.Duration(min(i, 3)) * time.Hour) // the last three share a time
		if _, err := s.TransitionRequest(ctx, move(tenantA, r.ServiceRequestID, requests.WaitingOnResident, pause)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ServiceRequestID)
	}
	other := create(t, s, newRequest(newReq(tenantB, origin, t0)))
	if _, err := s.TransitionRequest(ctx, move(tenantB, other.ServiceRequestID, requests.WaitingOnResident, t0)); err != nil {
		t.Fatal(err)
	}
	var got []string
	var afterAt time.Time
	var afterID int64
	for {
		page, err := s.WaitingSince(ctx, tenantA, t0.Add(3*time.Hour), afterAt, afterID, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			got = append(got, r.ServiceRequestID)
			afterAt, afterID = r.PausedAt, r.ID
		}
		if len(page) < 2 {
			break
		}
	}
	if !slices.Equal(got, ids) {
		t.Errorf("waiting = %v, want %v", got, ids)
	}
	if page, err := s.WaitingSince(ctx, tenantA, t0.Add(time.Hour), time.Time{}, 0, 10); err != nil || len(page) != 2 {
		t.Errorf("waiting since an hour = %d requests, %v; want 2", len(page), err)
	}
}

// testClusterTransition: a cluster's move applies to its open requests
// that may make it, each with its event; none may: the first refusal.
func testClusterTransition(t *testing.T, s Stores) {
	ctx := context.Background()
	a := pothole(t, s, tenantA, origin, t0, nil, false)
	b := pothole(t, s, tenantA, east(5), t0.Add(time.Minute), nil, false)
	c := pothole(t, s, tenantA, east(8), t0.Add(2*time.Minute), nil, false)
	if b.ClusterID != a.ServiceRequestID || c.ClusterID != a.ServiceRequestID {
		t.Fatalf("not one cluster: %s %s %s", a.ClusterID, b.ClusterID, c.ClusterID)
	}
	at := t0.Add(time.Hour)
	if _, err := s.TransitionRequest(ctx, move(tenantA, b.ServiceRequestID, requests.InProgress, at)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TransitionRequest(ctx, move(tenantA, c.ServiceRequestID, requests.Closed, at)); err != nil {
		t.Fatal(err)
	}
	ack := func(at time.Time) (requests.ClusterResult, error) {
		return s.TransitionCluster(ctx, requests.ClusterTransition{ClusterID: a.ServiceRequestID, Locks: clusterLocks(tenantA),
			Transition: requests.Transition{Tenant: tenantA, To: requests.Acknowledged, PublicNoteEn: "On it", PublicNoteFr: "C'est parti", Actor: "key:4", At: at}})
	}
	res, err := ack(at.Add(time.Minute))
	if err != nil || len(res.Changed) != 1 || res.Changed[0].ServiceRequestID != a.ServiceRequestID ||
		res.Changed[0].Status != requests.Acknowledged || res.Changed[0].StatusNotesFr != "C'est parti" || res.Cluster.OpenRequests != 2 {
		t.Errorf("cluster acknowledge = %+v, %v", res, err)
	}
	if g, _ := s.GetRequest(ctx, tenantA, b.ServiceRequestID); g.Status != requests.InProgress {
		t.Errorf("a request that could not move moved: %+v", g)
	}
	_, err = ack(at.Add(2 * time.Minute)) // none may be acknowledged now
	wantKind(t, "cluster move none may make", err, i18n.Conflict)
	res, err = s.TransitionCluster(ctx, requests.ClusterTransition{ClusterID: a.ServiceRequestID, Locks: clusterLocks(tenantA),
		Transition: requests.Transition{Tenant: tenantA, To: requests.Closed, Reason: requests.ReasonDuplicate, PublicNoteEn: "Dup", Actor: "key:4", At: at.Add(3 * time.Minute)}})
	if err != nil || len(res.Changed) != 2 || res.Cluster.Status != requests.Closed {
		t.Fatalf("cluster close = %+v, %v", res, err)
	}
	for _, r := range res.Changed {
		ev := lastEvent(t, s.Store, tenantA, r.ServiceRequestID)
		if r.CloseReason != requests.ReasonDuplicate || ev.Reason != "duplicate" || ev.To != requests.Closed || ev.Actor != "key:4" {
			t.Errorf("closed %+v by %+v", r, ev)
		}
	}
	if g, _ := s.GetRequest(ctx, tenantA, c.ServiceRequestID); g.CloseReason != requests.ReasonFixed {
		t.Errorf("a request closed before was closed again: %+v", g)
	}
}
