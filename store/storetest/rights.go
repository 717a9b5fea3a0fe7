package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// testRights: an access link is queued (event, link, mail row) only for
// the right token and address, at most RightsLinksPerHour an hour; it
// opens once and not after it expires; one correction or deletion may be
// filed through it within the hour after; staff correct, delete (the
// reporter rows and their queued messages go, the requests and their
// trails stay with reporter_purged events, the log keeps the request
// without the address) or refuse, each once, each an event.
func testRights(t *testing.T, s Stores) {
	ctx := context.Background()
	mk := func(tenant, email string, m float64, optOut bool) requests.Request {
		nr := newRequest(newReq(tenant, east(m), t0))
		nr.Reporter = &requests.Reporter{FirstName: "Anne", LastName: "Roy", Email: email, Phone: "819-555-0100", OptOut: optOut}
		return create(t, s, nr)
	}
	r1 := mk(tenantA, "Anne.Roy@example.ca", 0, false)
	r2 := mk(tenantA, "anne.roy@example.ca", 100, true) // the same resident, opted out of updates
	other := mk(tenantA, "paul@example.ca", 200, false)
	theirs := mk(tenantB, "anne.roy@example.ca", 0, false)
	at := t0.Add(time.Hour)

	ask := func(tenant, token, email string, at time.Time) int64 {
		t.Helper()
		id, err := s.QueueRightsLink(ctx, requests.RightsLinkAsk{Tenant: tenant, Token: token, Email: email, At: at})
		if err != nil {
			t.Fatalf("QueueRightsLink(%s, %s): %v", token, email, err)
		}
		return id
	}
	// Wrong address, another tenant's token, unknown token: nothing.
	for _, c := range []struct{ tenant, token, email string }{
		{tenantA, r1.Token, "paul@example.ca"}, {tenantA, theirs.Token, "anne.roy@example.ca"},
		{tenantA, "no-such-token", "anne.roy@example.ca"}, {tenantA, "", ""},
	} {
		if id := ask(c.tenant, c.token, c.email, at); id != 0 {
			t.Errorf("QueueRightsLink(%+v) queued link %d", c, id)
		}
	}
	if got := mailOf(t, s, tenantA, ""); slices.ContainsFunc(got, func(m string) bool { return strings.HasSuffix(m, ":access") }) {
		t.Fatalf("an access message was queued for a wrong ask: %v", got)
	}
	// The right address in another case: a link, its event, its message
	// (to the opted-out reporter too: they asked).
	link := ask(tenantA, r2.Token, "  ANNE.ROY@example.ca ", at)
	if link == 0 {
		t.Fatal("no link for the right token and address")
	}
	if got := mailOf(t, s, tenantA, ""); !slices.Contains(got, r2.ServiceRequestID+":access") {
		t.Fatalf("outbox %v has no access message to %s", got, r2.ServiceRequestID)
	}
	msgs, err := s.ClaimMail(ctx, tenantA, time.Now().Add(time.Minute), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(msgs, func(m requests.MailMessage) bool { return m.Kind == requests.MailAccess })
	if i < 0 || msgs[i].EventID != link || msgs[i].To != "anne.roy@example.ca" || msgs[i].RequestID != r2.ServiceRequestID {
		t.Fatalf("claimed %+v; want the access message of link %d to the opted-out reporter", msgs, link)
	}
	evs := eventsOf(t, s, tenantA, r2.ServiceRequestID)
	if !slices.ContainsFunc(evs, func(e requests.Event) bool { return e.ID == link && e.Kind == requests.EventRightsLink }) {
		t.Errorf("no rights_link event %d: %+v", link, evs)
	}
	// At most RightsLinksPerHour an hour per address.
	for n := 1; n < requests.RightsLinksPerHour; n++ {
		if ask(tenantA, r1.Token, "anne.roy@example.ca", at.Add(time.Duration(n)*time.Minute)) == 0 {
			t.Fatalf("link %d refused", n+1)
		}
	}
	if id := ask(tenantA, r1.Token, "anne.roy@example.ca", at.Add(10*time.Minute)); id != 0 {
		t.Errorf("link %d queued beyond %d an hour", id, requests.RightsLinksPerHour)
	}
	if ask(tenantA, r1.Token, "anne.roy@example.ca", at.Add(61*time.Minute)) == 0 {
		t.Error("no link an hour later")
	}

	// Filing before opening: gone. Opening: once, then gone; unknown: not found.
	_, err = s.FileRightsRequest(ctx, requests.RightsFiling{Tenant: tenantA, LinkID: link, Kind: requests.RightsDeletion, At: at})
	wantKind(t, "filing through an unopened link", err, requests.KindGone)
	_, err = s.UseRightsLink(ctx, tenantB, link, at)
	wantKind(t, "opening another tenant's link", err, i18n.NotFound)
	email, err := s.UseRightsLink(ctx, tenantA, link, at.Add(time.Minute))
	if err != nil || email != "anne.roy@example.ca" {
		t.Fatalf("UseRightsLink = %q, %v", email, err)
	}
	_, err = s.UseRightsLink(ctx, tenantA, link, at.Add(2*time.Minute))
	wantKind(t, "opening a used link", err, requests.KindGone)
	_, err = s.UseRightsLink(ctx, tenantA, link+1000, at)
	wantKind(t, "opening an unknown link", err, i18n.NotFound)
	late := ask(tenantA, other.Token, "paul@example.ca", at)
	_, err = s.UseRightsLink(ctx, tenantA, late, at.Add(requests.RightsLinkTTL))
	wantKind(t, "opening an expired link", err, requests.KindGone)

	// What is kept under the address: both reporter rows, their messages.
	d, err := s.RightsData(ctx, tenantA, "Anne.Roy@Example.ca")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range d.Reporters {
		ids = append(ids, r.ServiceRequestID)
		if r.Reporter.FirstName != "Anne" || r.Reporter.Phone != "819-555-0100" {
			t.Errorf("reporter %+v", r)
		}
	}
	if !slices.Equal(ids, []string{r1.ServiceRequestID, r2.ServiceRequestID}) {
		t.Errorf("RightsData reporters %v, want %s and %s (not another address's, not another tenant's)", ids, r1.ServiceRequestID, r2.ServiceRequestID)
	}
	if !slices.ContainsFunc(d.Messages, func(m requests.MailMessage) bool { return m.Kind == requests.MailAccess }) ||
		!slices.ContainsFunc(d.Messages, func(m requests.MailMessage) bool { return m.Kind == requests.MailReceived }) {
		t.Errorf("RightsData messages %+v, want the receipt and the access link", d.Messages)
	}

	// One request through the opened link, within the hour.
	fileAt := at.Add(5 * time.Minute)
	rr, err := s.FileRightsRequest(ctx, requests.RightsFiling{Tenant: tenantA, LinkID: link, Kind: requests.RightsCorrection,
		Text: "My last name is Roy-Tremblay", At: fileAt})
	if err != nil {
		t.Fatal(err)
	}
	if rr.State != requests.RightsOpen || rr.Email != "anne.roy@example.ca" || rr.ServiceRequestID != r2.ServiceRequestID || !rr.CreatedAt.Equal(utc(fileAt)) {
		t.Errorf("filed %+v", rr)
	}
	_, err = s.FileRightsRequest(ctx, requests.RightsFiling{Tenant: tenantA, LinkID: link, Kind: requests.RightsDeletion, At: fileAt})
	wantKind(t, "a second request through one link", err, i18n.Conflict)
	link2 := ask(tenantA, r1.Token, "anne.roy@example.ca", at.Add(2*time.Hour))
	if _, err := s.UseRightsLink(ctx, tenantA, link2, at.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err = s.FileRightsRequest(ctx, requests.RightsFiling{Tenant: tenantA, LinkID: link2, Kind: requests.RightsDeletion,
		At: at.Add(2*time.Hour + requests.RightsActionTTL)})
	wantKind(t, "filing an hour after opening", err, requests.KindGone)
	del, err := s.FileRightsRequest(ctx, requests.RightsFiling{Tenant: tenantA, LinkID: link2, Kind: requests.RightsDeletion,
		Text: "Please forget me", At: at.Add(2*time.Hour + time.Minute)})
	if err != nil {
		t.Fatal(err)
	}

	// The log, latest first; by state.
	list := func(state requests.RightsState) []int64 {
		t.Helper()
		rs, err := s.ListRightsRequests(ctx, requests.RightsFilter{Tenant: tenantA, State: state})
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	if got := list(""); !slices.Equal(got, []int64{del.ID, rr.ID}) {
		t.Errorf("log %v, want [%d %d]", got, del.ID, rr.ID)
	}
	if rs, _ := s.ListRightsRequests(ctx, requests.RightsFilter{Tenant: tenantB}); len(rs) != 0 {
		t.Errorf("tenant B sees %+v", rs)
	}

	// Staff act: a deletion cannot be done on a correction request.
	actAt := at.Add(3 * time.Hour)
	_, err = s.ActOnRightsRequest(ctx, requests.RightsAction{Tenant: tenantA, ID: rr.ID, Action: requests.RightsDeleted, Actor: "key:1", At: actAt})
	wantKind(t, "deleting on a correction request", err, i18n.Invalid)
	_, err = s.ActOnRightsRequest(ctx, requests.RightsAction{Tenant: tenantA, ID: rr.ID + del.ID + 100, Action: requests.RightsRefused, Reason: "x", Actor: "key:1", At: actAt})
	wantKind(t, "acting on an unknown request", err, i18n.NotFound)
	last := "Roy-Tremblay"
	done, err := s.ActOnRightsRequest(ctx, requests.RightsAction{Tenant: tenantA, ID: rr.ID, Action: requests.RightsCorrected,
		LastName: &last, Actor: "key:1", At: actAt})
	if err != nil {
		t.Fatal(err)
	}
	if done.State != requests.RightsCorrected || done.ActedBy != "key:1" || !done.ActedAt.Equal(utc(actAt)) {
		t.Errorf("corrected %+v", done)
	}
	for _, r := range []requests.Request{r1, r2} {
		got, err := s.GetReporter(ctx, requests.ReporterAccess{Tenant: tenantA, ServiceRequestID: r.ServiceRequestID, Actor: "test", At: actAt})
		if err != nil || got.LastName != last || got.FirstName != "Anne" {
			t.Errorf("reporter of %s after the correction: %+v, %v", r.ServiceRequestID, got, err)
		}
	}
	_, err = s.ActOnRightsRequest(ctx, requests.RightsAction{Tenant: tenantA, ID: rr.ID, Action: requests.RightsRefused, Reason: "late", Actor: "key:1", At: actAt})
	wantKind(t, "acting twice", err, i18n.Conflict)
	if got := list(requests.RightsOpen); !slices.Equal(got, []int64{del.ID}) {
		t.Errorf("open requests %v, want [%d]", got, del.ID)
	}

	// The deletion: both reporter rows and their pending messages go; the
	// requests stay; the log keeps the request without the address.
	done, err = s.ActOnRightsRequest(ctx, requests.RightsAction{Tenant: tenantA, ID: del.ID, Action: requests.RightsDeleted, Actor: "key:1", At: actAt})
	if err != nil {
		t.Fatal(err)
	}
	if done.State != requests.RightsDeleted || done.Email != "" || done.Text != "Please forget me" {
		t.Errorf("deleted %+v", done)
	}
	for _, r := range []requests.Request{r1, r2} {
		got, err := s.GetReporter(ctx, requests.ReporterAccess{Tenant: tenantA, ServiceRequestID: r.ServiceRequestID, Actor: "test", At: actAt})
		if err != nil || !got.IsZero() {
			t.Errorf("reporter of %s after the deletion: %+v, %v", r.ServiceRequestID, got, err)
		}
		if q, err := s.GetRequest(ctx, tenantA, r.ServiceRequestID); err != nil || q.Description != r.Description {
			t.Errorf("request %s after the deletion: %+v, %v", r.ServiceRequestID, q, err)
		}
		if !slices.ContainsFunc(eventsOf(t, s, tenantA, r.ServiceRequestID), func(e requests.Event) bool {
			return e.Kind == requests.EventReporterPurged && e.Actor == "key:1"
		}) {
			t.Errorf("request %s has no reporter_purged event", r.ServiceRequestID)
		}
	}
	for _, m := range mailOf(t, s, tenantA, "") {
		if m == r1.ServiceRequestID+":received" || m == r2.ServiceRequestID+":access" {
			t.Errorf("message %s outlived the deletion", m)
		}
	}
	if d, err := s.RightsData(ctx, tenantA, "anne.roy@example.ca"); err != nil || len(d.Reporters)+len(d.Messages)+len(d.Requests) != 0 {
		t.Errorf("after the deletion the address still holds %+v, %v", d, err)
	}
	if rs, err := s.ListRightsRequests(ctx, requests.RightsFilter{Tenant: tenantA}); err != nil || len(rs) != 2 || rs[1].Email != "" {
		t.Errorf("log after the deletion: %+v, %v (want both requests, no address)", rs, err)
	}
	// Other residents and tenants keep theirs.
	for _, c := range []struct {
		tenant string
		r      requests.Request
	}{{tenantA, other}, {tenantB, theirs}} {
		if got, err := s.GetReporter(ctx, requests.ReporterAccess{Tenant: c.tenant, ServiceRequestID: c.r.ServiceRequestID, Actor: "test", At: actAt}); err != nil || got.IsZero() {
			t.Errorf("%s lost its reporter: %+v, %v", c.r.ServiceRequestID, got, err)
		}
	}
	// Each action is an event of the rights log.
	var kinds []requests.EventKind
	for _, r := range []requests.Request{r1, r2} {
		for _, e := range eventsOf(t, s, tenantA, r.ServiceRequestID) {
			if e.Kind != requests.EventReporterPurged && len(requests.RightsEventsOf(rr.ID, []requests.Event{e})) > 0 {
				kinds = append(kinds, e.Kind)
			}
			if e.Kind != requests.EventReporterPurged && len(requests.RightsEventsOf(del.ID, []requests.Event{e})) > 0 {
				kinds = append(kinds, e.Kind)
			}
		}
	}
	slices.Sort(kinds)
	want := []requests.EventKind{requests.EventRightsCorrected, requests.EventRightsDeleted, requests.EventRightsRequested, requests.EventRightsRequested}
	if !slices.Equal(kinds, want) {
		t.Errorf("rights log events %v, want %v", kinds, want)
	}
}

func eventsOf(t *testing.T, s Stores, tenant, id string) []requests.Event {
	t.Helper()
	evs, err := s.ListEvents(context.Background(), tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// RightsStores is the store under test with a way to write a satisfaction
// answer, which requests.Store has no method for yet.
type RightsStores struct {
	Stores
	InsertSatisfaction func(ctx context.Context, tenant string, id int64, score int, comment string, at time.Time) error
}

// RunRights runs the part of the rights contract that needs
// RightsStores; open returns a fresh, empty store per call.
func RunRights(t *testing.T, open func(t *testing.T) RightsStores) {
	t.Run("Satisfaction", func(t *testing.T) {
		t.Parallel()
		testRightsSatisfaction(t, open(t))
	})
}

// testRightsSatisfaction: a resident's satisfaction answers are part of
// what is held under their address; a deletion leaves the answer (the
// council's counts) but no longer ties it to anyone.
func testRightsSatisfaction(t *testing.T, s RightsStores) {
	ctx := context.Background()
	nr := newRequest(newReq(tenantA, origin, t0))
	nr.Reporter = &requests.Reporter{FirstName: "Zoé", Email: "zoe@example.ca"}
	r := create(t, s.Stores, nr)
	theirs := create(t, s.Stores, newRequest(newReq(tenantA, east(100), t0)))
	at := t0.Add(time.Hour)
	for _, q := range []requests.Request{r, theirs} {
		if err := s.InsertSatisfaction(ctx, tenantA, q.ID, 4, "Merci", at); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.RightsData(ctx, tenantA, "ZOE@example.ca")
	if err != nil {
		t.Fatal(err)
	}
	want := []requests.Satisfaction{{ServiceRequestID: r.ServiceRequestID, Score: 4, Comment: "Merci", At: utc(at)}}
	if !slices.Equal(d.Satisfaction, want) {
		t.Errorf("satisfaction %+v, want %+v (not another request's)", d.Satisfaction, want)
	}
	link, err := s.QueueRightsLink(ctx, requests.RightsLinkAsk{Tenant: tenantA, Token: r.Token, Email: "zoe@example.ca", At: at})
	if err != nil || link == 0 {
		t.Fatalf("QueueRightsLink = %d, %v", link, err)
	}
	if _, err := s.UseRightsLink(ctx, tenantA, link, at); err != nil {
		t.Fatal(err)
	}
	rr, err := s.FileRightsRequest(ctx, requests.RightsFiling{Tenant: tenantA, LinkID: link, Kind: requests.RightsDeletion, At: at})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ActOnRightsRequest(ctx, requests.RightsAction{Tenant: tenantA, ID: rr.ID, Action: requests.RightsDeleted, Actor: "key:1", At: at}); err != nil {
		t.Fatal(err)
	}
	if d, err := s.RightsData(ctx, tenantA, "zoe@example.ca"); err != nil || len(d.Satisfaction) != 0 {
		t.Errorf("after the deletion: %+v, %v", d.Satisfaction, err)
	}
}
