package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pinward/pinward/requests"
)

// testPublicUpdates: ListPublicUpdates lists the moves with a public note
// in either language, oldest first, by request, by inclusive time bounds
// and by page; never a move without one, an assignment, an internal note,
// a creation or another tenant's.
func testPublicUpdates(t *testing.T, s Stores) {
	ctx := context.Background()
	min := func(m float64) time.Time { return t0.Add(time.Duration(m * float64(time.Minute))) }
	a := create(t, s, newRequest(newReq(tenantA, origin, t0)))
	b := create(t, s, newRequest(newReq(tenantA, east(100), t0)))
	c := create(t, s, newRequest(newReq(tenantB, origin, t0)))
	step := func(tenant, id string, to requests.Status, at time.Time, en, fr, internal string) {
		t.Helper()
		tr := move(tenant, id, to, at)
		tr.PublicNoteEn, tr.PublicNoteFr, tr.InternalNote = en, fr, internal
		if _, err := s.TransitionRequest(ctx, tr); err != nil {
			t.Fatalf("%s → %s: %v", id, to, err)
		}
	}
	step(tenantA, a.ServiceRequestID, requests.Acknowledged, min(1), "We have it.", "Nous l'avons.", "")
	step(tenantA, b.ServiceRequestID, requests.Acknowledged, min(1.5), "Seen.", "", "")
	step(tenantA, a.ServiceRequestID, requests.InProgress, min(2), "", "", "crew 7, not public")
	if _, err := s.AssignRequest(ctx, requests.Assignment{Tenant: tenantA, ServiceRequestID: a.ServiceRequestID, Assignee: "crew-7", Actor: "key:3", At: min(3)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddStaffNote(ctx, requests.StaffNote{Tenant: tenantA, ServiceRequestID: a.ServiceRequestID, Note: "private", Actor: "key:3", At: min(4)}); err != nil {
		t.Fatal(err)
	}
	step(tenantA, a.ServiceRequestID, requests.Closed, min(5), "", "Réparé.", "done")
	step(tenantB, c.ServiceRequestID, requests.Acknowledged, min(1), "Other town.", "", "")

	list := func(f requests.UpdateFilter) []string {
		t.Helper()
		if f.Tenant == "" {
			f.Tenant = tenantA
		}
		if f.Limit == 0 {
			f.Limit = 100
		}
		evs, err := s.ListPublicUpdates(ctx, f)
		if err != nil {
			t.Fatalf("ListPublicUpdates(%+v): %v", f, err)
		}
		out := make([]string, len(evs))
		for i, e := range evs {
			if !e.IsPublicUpdate() || e.TenantID != f.Tenant {
				t.Errorf("ListPublicUpdates(%+v) returned %+v", f, e)
			}
			out[i] = fmt.Sprintf("%s %s %s|%s", e.ServiceRequestID(), e.To, e.PublicNoteEn, e.PublicNoteFr)
		}
		return out
	}
	want := func(what string, got []string, want ...string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	a1 := a.ServiceRequestID + " acknowledged We have it.|Nous l'avons."
	b1 := b.ServiceRequestID + " acknowledged Seen.|"
	a5 := a.ServiceRequestID + " closed |Réparé."
	want("all", list(requests.UpdateFilter{}), a1, b1, a5)
	want("tenant B", list(requests.UpdateFilter{Tenant: tenantB}), c.ServiceRequestID+" acknowledged Other town.|")
	want("request a", list(requests.UpdateFilter{ServiceRequestIDs: []string{a.ServiceRequestID}}), a1, a5)
	want("requests a, b", list(requests.UpdateFilter{ServiceRequestIDs: []string{b.ServiceRequestID, a.ServiceRequestID}}), a1, b1, a5)
	want("another tenant's request", list(requests.UpdateFilter{ServiceRequestIDs: []string{c.ServiceRequestID}}))
	want("IDs that cannot exist", list(requests.UpdateFilter{ServiceRequestIDs: []string{"x", "0"}}))
	want("from b's update on", list(requests.UpdateFilter{Start: utc(min(1.5))}), b1, a5)
	want("to b's update", list(requests.UpdateFilter{End: utc(min(1.5))}), a1, b1)
	want("between", list(requests.UpdateFilter{Start: min(1.2), End: min(4.9)}), b1)
	want("a's, after b's", list(requests.UpdateFilter{ServiceRequestIDs: []string{a.ServiceRequestID}, Start: min(1.2)}), a5)
	want("page 2 of 1", list(requests.UpdateFilter{Limit: 1, Offset: 1}), b1)
	want("past the end", list(requests.UpdateFilter{Offset: 3}))
	evs, err := s.ListPublicUpdates(ctx, requests.UpdateFilter{Tenant: tenantA, Limit: 1})
	if err != nil || len(evs) != 1 || !evs[0].At.Equal(utc(min(1))) || evs[0].From != requests.New || evs[0].Kind != requests.EventStatus {
		t.Errorf("first update = %+v, %v", evs, err)
	}
}
