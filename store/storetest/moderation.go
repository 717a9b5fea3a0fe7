package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// testModeration: flags are counted per request and listed most flagged
// first; a hidden description leaves the public record, is kept for staff
// and comes back as it was, each change with its event.
func testModeration(t *testing.T, s Stores) {
	ctx := context.Background()
	in := newReq(tenantA, origin, t0)
	in.Description = "Trou « profond »"
	a := create(t, s, newRequest(in))
	b := create(t, s, newRequest(newReq(tenantA, east(100), t0)))
	for _, id := range []string{a.ServiceRequestID, b.ServiceRequestID, b.ServiceRequestID} {
		if err := s.AddFlag(ctx, requests.Flag{Tenant: tenantA, ServiceRequestID: id, Reason: "spam " + id, At: t0}); err != nil {
			t.Fatal(err)
		}
	}
	wantKind(t, "flagging another tenant's request", s.AddFlag(ctx, requests.Flag{Tenant: tenantB, ServiceRequestID: a.ServiceRequestID, At: t0}), i18n.NotFound)
	fs, err := s.ListFlags(ctx, tenantA, requests.Scope{}, 10)
	if err != nil || len(fs) != 2 || fs[0].ServiceRequestID != b.ServiceRequestID || fs[0].Count != 2 || fs[1].Count != 1 ||
		fs[0].LastReason != "spam "+b.ServiceRequestID || !fs[0].Last.Equal(utc(t0)) {
		t.Fatalf("ListFlags = %+v, %v", fs, err)
	}
	hide := requests.DescriptionChange{Tenant: tenantA, ServiceRequestID: a.ServiceRequestID, Hide: true, Actor: "staff:ana", Reason: "insult", At: t0.Add(time.Hour)}
	got, err := s.SetDescriptionHidden(ctx, hide)
	if err != nil || got.Description != "" {
		t.Fatalf("hide = %+v, %v", got, err)
	}
	_, err = s.SetDescriptionHidden(ctx, hide)
	wantKind(t, "hiding twice", err, i18n.Conflict)
	m, err := s.RequestModeration(ctx, tenantA, a.ServiceRequestID)
	if err != nil || !m.DescriptionHidden || m.HiddenDescription != in.Description || m.Flags != 1 {
		t.Errorf("RequestModeration = %+v, %v", m, err)
	}
	if fs, _ := s.ListFlags(ctx, tenantA, requests.Scope{}, 10); len(fs) != 2 || !fs[1].Hidden {
		t.Errorf("ListFlags after hiding = %+v", fs)
	}
	show := hide
	show.Hide, show.Reason, show.At = false, "", t0.Add(2*time.Hour)
	if got, err := s.SetDescriptionHidden(ctx, show); err != nil || got.Description != in.Description {
		t.Fatalf("show = %+v, %v", got, err)
	}
	evs, err := s.ListEvents(ctx, tenantA, a.ServiceRequestID)
	if err != nil || len(evs) != 3 || evs[1].Kind != requests.EventDescriptionHidden || evs[1].Actor != "staff:ana" || evs[1].Note != "insult" ||
		evs[2].Kind != requests.EventDescriptionShown {
		t.Errorf("events = %+v, %v", evs, err)
	}
	_, err = s.SetDescriptionHidden(ctx, requests.DescriptionChange{Tenant: tenantB, ServiceRequestID: a.ServiceRequestID, Hide: true, Actor: "x", At: t0})
	wantKind(t, "hiding another tenant's request", err, i18n.NotFound)
}
