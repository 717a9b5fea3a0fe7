package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// MailStores is the store under test with a way to write an event the
// way a staff transition does (public notes in both languages), which
// requests.Store has no method for yet.
type MailStores struct {
	Stores
	// InsertStatusEvent inserts a "status" event on request id with
	// public notes en and fr, as a staff transition would.
	InsertStatusEvent func(ctx context.Context, tenant string, id int64, at time.Time, from, to requests.Status, en, fr string) error
}

// RunMail runs the mail outbox contract (requests.MailStore); open
// returns a fresh, empty store per call, as for Run.
func RunMail(t *testing.T, open func(t *testing.T) MailStores) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, MailStores)
	}{
		{"Queue", testMailQueue},
		{"Delivery", testMailDelivery},
		{"Settings", testMailSettings},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// mailOf lists tenant's outbox rows as "request:kind" (sorted).
func mailOf(t *testing.T, s requests.MailStore, tenant string, state requests.OutboxState) []string {
	t.Helper()
	ms, err := s.ListMail(context.Background(), requests.MailFilter{Tenant: tenant, State: state})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.RequestID+":"+string(m.Kind))
	}
	slices.Sort(out)
	return out
}

func reporterOf(email string, lang i18n.Lang) *requests.Reporter {
	return &requests.Reporter{FirstName: "R-" + string(lang), Email: email}
}

// mailCluster makes one cluster of four requests: A (French, with an
// address), B (English, with an address), C (anonymous), D (an address,
// opted out), and returns them in that order.
func mailCluster(t *testing.T, s Stores, tenant string) []requests.Request {
	t.Helper()
	mk := func(m float64, lang i18n.Lang, rep *requests.Reporter) requests.Request {
		nr := newRequest(newReq(tenant, east(m), t0))
		nr.Request.Lang = lang
		nr.Cluster = cqCells(tenant, east(m))
		nr.Reporter = rep
		return create(t, s, nr)
	}
	out := []requests.Request{
		mk(0, i18n.Fr, reporterOf("a@ok.test", i18n.Fr)),
		mk(5, i18n.En, reporterOf("B@ok.test", i18n.En)),
		mk(10, i18n.En, nil),
		mk(15, i18n.En, &requests.Reporter{Email: "d@ok.test", OptOut: true}),
	}
	for _, r := range out[1:] {
		if r.ClusterID != out[0].ClusterID {
			t.Fatalf("setup: %s is in cluster %s, want %s", r.ServiceRequestID, r.ClusterID, out[0].ClusterID)
		}
	}
	return out
}

// testMailQueue: receipts to their own subscribed reporter; a cluster
// close and a public note reach every subscribed reporter of the cluster
// once; a status change without a public note reaches nobody; unsubscribe
// stops it (idempotent); purging a reporter deletes their rows and keeps
// the requests.
func testMailQueue(t *testing.T, s MailStores) {
	ctx := context.Background()
	rs := mailCluster(t, s.Stores, tenantA)
	a, b := rs[0].ServiceRequestID, rs[1].ServiceRequestID
	other := create(t, s.Stores, func() requests.NewRequest {
		nr := newRequest(newReq(tenantB, origin, t0))
		nr.Reporter = reporterOf("x@ok.test", i18n.En)
		return nr
	}())
	want := []string{a + ":received", b + ":received"}
	if got := mailOf(t, s, tenantA, ""); !slices.Equal(got, want) {
		t.Fatalf("after intake: %v, want %v", got, want)
	}
	if got := mailOf(t, s, tenantB, ""); !slices.Equal(got, []string{other.ServiceRequestID + ":received"}) {
		t.Fatalf("tenant B: %v", got)
	}

	// A status change with no public note tells nobody.
	at := t0.Add(time.Hour)
	if err := s.InsertStatusEvent(ctx, tenantA, rs[0].ID, at, requests.New, requests.Acknowledged, "", ""); err != nil {
		t.Fatal(err)
	}
	// One with a public note, written for two requests of the cluster at
	// once (as a cluster-wide transition does), tells each subscribed
	// reporter once.
	at = at.Add(time.Hour)
	for _, r := range rs[:3] {
		if err := s.InsertStatusEvent(ctx, tenantA, r.ID, at, requests.Acknowledged, requests.InProgress, "Crew booked.", "Équipe prévue."); err != nil {
			t.Fatal(err)
		}
	}
	want = append(want, a+":updated", b+":updated")
	slices.Sort(want)
	if got := mailOf(t, s, tenantA, ""); !slices.Equal(got, want) {
		t.Fatalf("after a public note: %v, want %v", got, want)
	}

	// B unsubscribes: its pending rows go, twice is fine, and the close
	// reaches A only, once although it writes an event per request.
	if err := s.Unsubscribe(ctx, tenantA, b); err != nil {
		t.Fatal(err)
	}
	if err := s.Unsubscribe(ctx, tenantA, b); err != nil {
		t.Fatalf("second unsubscribe: %v", err)
	}
	for _, id := range []string{rs[2].ServiceRequestID, "999999", "x"} {
		wantKind(t, "unsubscribe "+id, s.Unsubscribe(ctx, tenantA, id), i18n.NotFound)
	}
	wantKind(t, "unsubscribe across tenants", s.Unsubscribe(ctx, tenantB, a), i18n.NotFound)
	if notify, u, err := s.ReporterMail(ctx, tenantA, b); err != nil || notify || u != nil {
		t.Errorf("ReporterMail(B) = %v %v %v, want unsubscribed", notify, u, err)
	}
	closeAt := at.Add(time.Hour)
	if _, err := s.TransitionCluster(ctx, requests.ClusterTransition{ClusterID: rs[0].ClusterID, Locks: clusterLocks(tenantA),
		Transition: requests.Transition{Tenant: tenantA, To: requests.Closed, Reason: requests.ReasonFixed, PublicNoteEn: "Filled.",
			Actor: "crew", At: closeAt}}); err != nil {
		t.Fatal(err)
	}
	want = []string{a + ":closed", a + ":received", a + ":updated"}
	if got := mailOf(t, s, tenantA, ""); !slices.Equal(got, want) {
		t.Fatalf("after unsubscribe and close: %v, want %v", got, want)
	}

	// What a claim reads for A's close: A's own request, French, the note.
	ms, err := s.ClaimMail(ctx, tenantA, time.Now().Add(time.Minute), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 {
		t.Fatalf("claimed %d, want 3", len(ms))
	}
	for _, m := range ms {
		if m.RequestID != a || m.To != "a@ok.test" || m.Lang != i18n.Fr || m.ServiceCode != "pothole" || m.Attempts != 1 {
			t.Errorf("claimed %+v", m)
		}
		switch m.Kind {
		case requests.MailUpdated:
			if m.NoteEn != "Crew booked." || m.NoteFr != "Équipe prévue." || m.ToStatus != requests.InProgress {
				t.Errorf("update: %+v", m)
			}
		case requests.MailClosed:
			if m.ToStatus != requests.Closed || m.Note == "" {
				t.Errorf("close: %+v", m)
			}
		}
	}
	if again, err := s.ClaimMail(ctx, tenantA, time.Now().Add(time.Minute), time.Minute, 10); err != nil || len(again) != 0 {
		t.Errorf("claimed again while leased: %d, %v", len(again), err)
	}

	// Purging the reporters of closed requests deletes their rows; the
	// requests stay.
	n, err := s.PurgeReporters(ctx, requests.ReporterPurge{Tenant: tenantA, ClosedBefore: closeAt.Add(time.Hour),
		At: closeAt.Add(2 * time.Hour), Actor: "retention", Limit: 100})
	if err != nil || n != 3 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	if got := mailOf(t, s, tenantA, ""); len(got) != 0 {
		t.Errorf("after purge: %v, want none", got)
	}
	if c, err := s.CountMail(ctx, tenantA); err != nil || c != (requests.MailCounts{}) {
		t.Errorf("counts after purge: %+v, %v", c, err)
	}
	if got := list(t, s.Stores, requests.Filter{Tenant: tenantA}); len(got) != 4 {
		t.Errorf("requests after purge: %v", got)
	}
}

// testMailDelivery: recorded outcomes, retries, dead letters, and an
// address refused for good: its other pending messages go dead and no
// more are queued to it, whatever its case.
func testMailDelivery(t *testing.T, s MailStores) {
	ctx := context.Background()
	rs := mailCluster(t, s.Stores, tenantA)
	third := create(t, s.Stores, func() requests.NewRequest {
		nr := newRequest(newReq(tenantA, east(5000), t0))
		nr.Reporter = reporterOf("b@OK.test", i18n.En) // B's address in another case
		return nr
	}())
	now := time.Now().Add(time.Minute)
	ms, err := s.ClaimMail(ctx, tenantA, now, time.Minute, 1)
	if err != nil || len(ms) != 1 || ms[0].RequestID != rs[0].ServiceRequestID {
		t.Fatalf("claim 1: %+v, %v", ms, err)
	}
	// A: delivered.
	if err := s.RecordMailAttempts(ctx, tenantA, []requests.MailAttempt{{AttemptResult: requests.AttemptResult{
		MessageID: ms[0].ID, Delivered: true, At: now}}}); err != nil {
		t.Fatal(err)
	}
	ms, err = s.ClaimMail(ctx, tenantA, now, time.Minute, 10)
	if err != nil || len(ms) != 2 {
		t.Fatalf("claim 2: %+v, %v", ms, err)
	}
	byReq := map[string]requests.MailMessage{}
	for _, m := range ms {
		byReq[m.RequestID] = m
	}
	mb, mt := byReq[rs[1].ServiceRequestID], byReq[third.ServiceRequestID]
	// B: refused for good; the third's message (same address) goes dead
	// too. It is still leased: a record for it later changes nothing.
	if err := s.RecordMailAttempts(ctx, tenantA, []requests.MailAttempt{{AttemptResult: requests.AttemptResult{
		MessageID: mb.ID, At: now, Error: "550 mailbox unavailable", Dead: true}, Undeliverable: true, Code: 550}}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordMailAttempts(ctx, tenantA, []requests.MailAttempt{{AttemptResult: requests.AttemptResult{
		MessageID: mt.ID, At: now, Error: "421 try later", Next: now}}}); err != nil {
		t.Fatal(err)
	}
	if got := mailOf(t, s, tenantA, requests.OutboxDead); !slices.Equal(got, []string{rs[1].ServiceRequestID + ":received", third.ServiceRequestID + ":received"}) {
		t.Errorf("dead: %v", got)
	}
	if got := mailOf(t, s, tenantA, requests.OutboxDelivered); !slices.Equal(got, []string{rs[0].ServiceRequestID + ":received"}) {
		t.Errorf("delivered: %v", got)
	}
	notify, u, err := s.ReporterMail(ctx, tenantA, third.ServiceRequestID)
	if err != nil || !notify || u == nil || u.Code != 550 || u.Detail != "550 mailbox unavailable" || u.At.IsZero() {
		t.Errorf("ReporterMail(third) = %v %+v %v, want subscribed but undeliverable", notify, u, err)
	}
	if notify, u, err := s.ReporterMail(ctx, tenantA, rs[0].ServiceRequestID); err != nil || !notify || u != nil {
		t.Errorf("ReporterMail(A) = %v %+v %v", notify, u, err)
	}
	if notify, u, err := s.ReporterMail(ctx, tenantA, rs[2].ServiceRequestID); err != nil || notify || u != nil {
		t.Errorf("ReporterMail(anonymous) = %v %+v %v", notify, u, err)
	}

	// The next update reaches A only.
	at := t0.Add(time.Hour)
	if err := s.InsertStatusEvent(ctx, tenantA, rs[1].ID, at, requests.New, requests.InProgress, "Soon.", ""); err != nil {
		t.Fatal(err)
	}
	if got := mailOf(t, s, tenantA, requests.OutboxPending); !slices.Equal(got, []string{rs[0].ServiceRequestID + ":updated"}) {
		t.Errorf("pending after the update: %v", got)
	}
	// A failed attempt waits for its next time; the last one is dead.
	ms, err = s.ClaimMail(ctx, tenantA, now, time.Minute, 10)
	if err != nil || len(ms) != 1 || ms[0].NoteEn != "Soon." || ms[0].NoteFr != "" {
		t.Fatalf("claim 3: %+v, %v", ms, err)
	}
	next := now.Add(time.Hour)
	if err := s.RecordMailAttempts(ctx, tenantA, []requests.MailAttempt{{AttemptResult: requests.AttemptResult{
		MessageID: ms[0].ID, At: now, Error: "connection refused", Next: next}}}); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ClaimMail(ctx, tenantA, now.Add(2*time.Minute), time.Minute, 10); len(again) != 0 {
		t.Errorf("claimed before its next attempt: %+v", again)
	}
	ms, err = s.ClaimMail(ctx, tenantA, next, time.Minute, 10)
	if err != nil || len(ms) != 1 || ms[0].Attempts != 2 {
		t.Fatalf("claim 4: %+v, %v", ms, err)
	}
	if err := s.RecordMailAttempts(ctx, tenantA, []requests.MailAttempt{{AttemptResult: requests.AttemptResult{
		MessageID: ms[0].ID, At: next, Error: "connection refused", Dead: true}}}); err != nil {
		t.Fatal(err)
	}
	dead, err := s.ListMail(ctx, requests.MailFilter{Tenant: tenantA, State: requests.OutboxDead})
	if err != nil || len(dead) != 3 || dead[2].LastError != "connection refused" || dead[2].Attempts != 2 {
		t.Errorf("dead letters: %+v, %v", dead, err)
	}
	if c, err := s.CountMail(ctx, tenantA); err != nil || c != (requests.MailCounts{Delivered: 1, Dead: 3}) {
		t.Errorf("counts: %+v, %v", c, err)
	}
	// Paging by ID.
	page, err := s.ListMail(ctx, requests.MailFilter{Tenant: tenantA, AfterID: dead[0].ID, Limit: 1})
	if err != nil || len(page) != 1 || page[0].ID <= dead[0].ID {
		t.Errorf("page after %d: %+v, %v", dead[0].ID, page, err)
	}
}

// testMailSettings: the first value stored wins.
func testMailSettings(t *testing.T, s MailStores) {
	ctx := context.Background()
	v, err := s.Setting(ctx, tenantA, "link_secret", func() (string, error) { return "first", nil })
	if err != nil || v != "first" {
		t.Fatalf("Setting = %q, %v", v, err)
	}
	v, err = s.Setting(ctx, tenantA, "link_secret", func() (string, error) { return "second", nil })
	if err != nil || v != "first" {
		t.Errorf("Setting again = %q, %v, want first", v, err)
	}
	v, err = s.Setting(ctx, tenantB, "link_secret", func() (string, error) { return "b", nil })
	if err != nil || v != "b" {
		t.Errorf("other tenant = %q, %v", v, err)
	}
}
