package storetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// testQueue: every filter and order of the department queue, walked page
// by page with the cursor, against the same selection and order computed
// here from what was stored; closed requests and other tenants never
// show.
func testQueue(t *testing.T, s Stores) {
	ctx := context.Background()
	var all []requests.Request
	depts := []string{"public_works", "transportation"}
	codes := []string{"pothole", "graffiti", "streetlight_out"}
	for i := range 40 {
		r := newReq(tenantA, east(float64(100*i)), t0.Add(time.Duration(i*37%40)*time.Hour))
		r.Department, r.WardID, r.ServiceCode = depts[i%2], fmt.Sprint(1+i%3), codes[i%3]
		if i%5 != 0 { // every fifth has no SLA
			// Due times repeat, so the ID has to break ties.
			r.DueAt = t0.Add(time.Duration(24+(i%7)*12) * time.Hour)
		}
		all = append(all, create(t, s, newRequest(r)))
	}
	other := newReq(tenantB, origin, t0)
	other.DueAt = t0
	create(t, s, newRequest(other))
	// Some move on, some close, some escalate.
	for i, r := range all {
		switch i % 4 {
		case 1:
			all[i] = updateStatus(t, s, r, requests.Acknowledged)
		case 2:
			all[i] = updateStatus(t, s, r, requests.InProgress)
		}
	}
	closed := map[string]bool{}
	for _, i := range []int{3, 7, 22} {
		closeReq(t, s, all[i])
		closed[all[i].ServiceRequestID] = true
	}
	// Raise levels through the claim: two levels on request 6, one on 8, 9.
	for _, i := range []int{6, 8, 9} {
		setNext(t, s, all[i], t0)
	}
	fire := func() int {
		n, err := s.ClaimEscalations(ctx, requests.EscalationClaim{Tenant: tenantA, Now: t0.Add(time.Hour), Limit: 10,
			Plan: func(st requests.EscalationState) (requests.Escalation, bool) {
				next := time.Time{}
				if st.ServiceRequestID == all[6].ServiceRequestID && st.EscalationLevel == 0 {
					next = t0.Add(time.Minute)
				}
				return requests.Escalation{Level: st.EscalationLevel + 1, Next: next, Notify: "department", Actor: "test"}, true
			}})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n1, n2, n3 := fire(), fire(), fire(); n1 != 3 || n2 != 1 || n3 != 0 {
		t.Fatalf("claims fired %d, %d, %d levels, want 3, 1, 0", n1, n2, n3)
	}
	level := map[string]int{all[6].ServiceRequestID: 2, all[8].ServiceRequestID: 1, all[9].ServiceRequestID: 1}
	now := utc(t0.Add(60 * time.Hour)) // as a caller passes it: stores keep microseconds

	cases := []struct {
		name string
		q    requests.QueueQuery
		keep func(r requests.Request) bool
	}{
		{"all", requests.QueueQuery{}, func(requests.Request) bool { return true }},
		{"department", requests.QueueQuery{Department: "transportation"}, func(r requests.Request) bool { return r.Department == "transportation" }},
		{"department and ward", requests.QueueQuery{Department: "public_works", WardID: "2"},
			func(r requests.Request) bool { return r.Department == "public_works" && r.WardID == "2" }},
		{"service code", requests.QueueQuery{ServiceCode: "graffiti"}, func(r requests.Request) bool { return r.ServiceCode == "graffiti" }},
		{"status", requests.QueueQuery{Statuses: []requests.Status{requests.Acknowledged, requests.InProgress}},
			func(r requests.Request) bool {
				return r.Status == requests.Acknowledged || r.Status == requests.InProgress
			}},
		{"overdue", requests.QueueQuery{Overdue: true, Now: now},
			func(r requests.Request) bool { return !r.DueAt.IsZero() && r.DueAt.Before(now) }},
		{"channel api (the default)", requests.QueueQuery{Channel: "api"}, func(requests.Request) bool { return true }},
		{"channel phone", requests.QueueQuery{Channel: "phone"}, func(requests.Request) bool { return false }},
		{"assignee", requests.QueueQuery{Assignee: "crew-7"}, func(requests.Request) bool { return false }},
	}
	for _, sort := range []requests.QueueSort{requests.SortDue, requests.SortReceived, requests.SortEscalation} {
		for _, tc := range cases {
			var want []string
			var rs []requests.Request
			for _, r := range all {
				if !closed[r.ServiceRequestID] && tc.keep(r) {
					rs = append(rs, r)
				}
			}
			slices.SortFunc(rs, queueOrder(sort, level))
			want = ids(rs)
			q := tc.q
			q.Tenant, q.Sort, q.Limit = tenantA, sort, 7
			var got []string
			for range 20 {
				page, err := s.Queue(ctx, q)
				if err != nil {
					t.Fatalf("%s by %s: %v", tc.name, sort, err)
				}
				for _, row := range page {
					got = append(got, row.Request.ServiceRequestID)
					if l := level[row.Request.ServiceRequestID]; row.Request.EscalationLevel != l {
						t.Errorf("request %s: escalation level %d, want %d", row.Request.ServiceRequestID, row.Request.EscalationLevel, l)
					}
					if row.Channel != "api" || row.Assignee != "" || !row.PausedAt.IsZero() || len(row.Pauses) != 0 {
						t.Errorf("request %s: channel %q, assignee %q, paused %v %v", row.Request.ServiceRequestID,
							row.Channel, row.Assignee, row.PausedAt, row.Pauses)
					}
				}
				if len(page) < q.Limit {
					break
				}
				c := q.CursorAfter(page[len(page)-1])
				q.After = &c
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s by %s:\n got %v\nwant %v", tc.name, sort, got, want)
			}
		}
	}
}

// queueOrder is the order of each sort, as the queue documents it.
func queueOrder(sort requests.QueueSort, level map[string]int) func(a, b requests.Request) int {
	due := func(r requests.Request) time.Time {
		if r.DueAt.IsZero() {
			return requests.NoDue
		}
		return r.DueAt
	}
	return func(a, b requests.Request) int {
		switch sort {
		case requests.SortReceived:
			return cmp.Or(a.RequestedAt.Compare(b.RequestedAt), cmp.Compare(a.ID, b.ID))
		case requests.SortEscalation:
			return cmp.Or(cmp.Compare(level[b.ServiceRequestID], level[a.ServiceRequestID]),
				due(a).Compare(due(b)), cmp.Compare(a.ID, b.ID))
		}
		return cmp.Or(due(a).Compare(due(b)), cmp.Compare(a.ID, b.ID))
	}
}

func updateStatus(t *testing.T, s Stores, r requests.Request, to requests.Status) requests.Request {
	t.Helper()
	out, err := s.UpdateStatus(context.Background(), requests.StatusChange{Tenant: r.TenantID, ServiceRequestID: r.ServiceRequestID,
		To: to, Actor: "crew", At: r.RequestedAt.Add(time.Minute)})
	if err != nil {
		t.Fatalf("%s to %s: %v", r.ServiceRequestID, to, err)
	}
	return out
}

// setNext stores a next escalation time through SetNextEscalations.
func setNext(t *testing.T, s Stores, r requests.Request, at time.Time) {
	t.Helper()
	n, err := s.SetNextEscalations(context.Background(), r.TenantID, []requests.NextEscalation{{ID: r.ID, Status: r.Status,
		EscalationLevel: r.EscalationLevel, At: at}})
	if err != nil || n != 1 {
		t.Fatalf("SetNextEscalations(%s): %d rows, %v", r.ServiceRequestID, n, err)
	}
}

// testEscalationClaims: next times are stored only for the state they were
// computed from and only when they differ; a claim raises a level once,
// with its event and messages, in one transaction; a failed claim leaves
// nothing.
func testEscalationClaims(t *testing.T, s Stores) {
	ctx := context.Background()
	r := newReq(tenantA, origin, t0)
	r.DueAt, r.NextEscalationAt = t0.Add(8*time.Hour), t0.Add(6*time.Hour)
	r = create(t, s, newRequest(r))
	if got, _ := s.GetRequest(ctx, tenantA, r.ServiceRequestID); !got.NextEscalationAt.Equal(utc(t0.Add(6*time.Hour))) || got.EscalationLevel != 0 {
		t.Fatalf("stored next escalation %v level %d, want %v 0", got.NextEscalationAt, got.EscalationLevel, t0.Add(6*time.Hour))
	}
	states, err := s.EscalationStates(ctx, tenantA, []string{r.ServiceRequestID, "999999", "abc"})
	if err != nil || len(states) != 1 {
		t.Fatalf("EscalationStates: %+v, %v", states, err)
	}
	st := states[0]
	want := requests.EscalationState{ID: r.ID, ServiceRequestID: r.ServiceRequestID, ServiceCode: "pothole", Department: "public_works",
		WardID: "1", Status: requests.New, RequestedAt: utc(t0), DueAt: utc(t0.Add(8 * time.Hour)), NextEscalationAt: utc(t0.Add(6 * time.Hour))}
	if fmt.Sprint(st) != fmt.Sprint(want) {
		t.Errorf("EscalationStates:\n got %+v\nwant %+v", st, want)
	}
	if others, err := s.EscalationStates(ctx, tenantB, []string{r.ServiceRequestID}); err != nil || len(others) != 0 {
		t.Errorf("another tenant's EscalationStates: %+v, %v", others, err)
	}

	set := func(n requests.NextEscalation) int {
		t.Helper()
		k, err := s.SetNextEscalations(ctx, tenantA, []requests.NextEscalation{n})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	same := requests.NextEscalation{ID: r.ID, Status: requests.New, At: t0.Add(6 * time.Hour)}
	if k := set(same); k != 0 {
		t.Errorf("storing the stored time changed %d rows, want 0 (no change, no loop)", k)
	}
	stale := same
	stale.Status, stale.At = requests.Acknowledged, t0.Add(5*time.Hour)
	if k := set(stale); k != 0 {
		t.Errorf("a time computed from another status changed %d rows", k)
	}
	stale = same
	stale.EscalationLevel, stale.At = 1, t0.Add(5*time.Hour)
	if k := set(stale); k != 0 {
		t.Errorf("a time computed from another level changed %d rows", k)
	}
	stale = same
	stale.PausedAt, stale.At = t0, t0.Add(5*time.Hour)
	if k := set(stale); k != 0 {
		t.Errorf("a time computed while paused changed %d rows", k)
	}
	moved := same
	moved.At = t0.Add(2 * time.Hour)
	if k := set(moved); k != 1 {
		t.Errorf("a new time changed %d rows, want 1", k)
	}

	contacts := []requests.Contact{{Email: "roads@example.ca", Lang: i18n.Fr}, {Email: "chief@example.ca", Lang: i18n.En}}
	plan := func(st requests.EscalationState) (requests.Escalation, bool) {
		return requests.Escalation{Level: st.EscalationLevel + 1, Next: t0.Add(8 * time.Hour), Notify: "department",
			Contacts: contacts, Actor: "escalation"}, true
	}
	// Not due yet: nothing.
	if n, err := s.ClaimEscalations(ctx, requests.EscalationClaim{Tenant: tenantA, Now: t0.Add(time.Hour), Plan: plan}); err != nil || n != 0 {
		t.Errorf("claim before the time: %d, %v", n, err)
	}
	// A claim that fails after raising the level leaves nothing.
	cctx, cancel := context.WithCancel(ctx)
	_, err = s.ClaimEscalations(cctx, requests.EscalationClaim{Tenant: tenantA, Now: t0.Add(3 * time.Hour), Plan: plan,
		AfterClaim: func(context.Context) { cancel() }})
	if err == nil {
		t.Error("a claim canceled before its messages were queued succeeded")
	}
	checkEscalated(t, s, r, 0, 0)
	// Another tenant's sweep takes nothing.
	if n, err := s.ClaimEscalations(ctx, requests.EscalationClaim{Tenant: tenantB, Now: t0.Add(30 * time.Hour), Plan: plan}); err != nil || n != 0 {
		t.Errorf("another tenant's claim: %d, %v", n, err)
	}
	// Level 1 fires once.
	for i, wantN := range []int{1, 0} {
		if n, err := s.ClaimEscalations(ctx, requests.EscalationClaim{Tenant: tenantA, Now: t0.Add(3 * time.Hour), Plan: plan}); err != nil || n != wantN {
			t.Errorf("claim %d: %d, %v; want %d", i, n, err, wantN)
		}
	}
	checkEscalated(t, s, r, 1, 2)
	// A plan that declines only moves the time.
	n, err := s.ClaimEscalations(ctx, requests.EscalationClaim{Tenant: tenantA, Now: t0.Add(9 * time.Hour),
		Plan: func(requests.EscalationState) (requests.Escalation, bool) { return requests.Escalation{}, false }})
	if err != nil || n != 0 {
		t.Errorf("declined claim: %d, %v", n, err)
	}
	checkEscalated(t, s, r, 1, 2)
	if got, _ := s.GetRequest(ctx, tenantA, r.ServiceRequestID); !got.NextEscalationAt.IsZero() {
		t.Errorf("next escalation after a declined claim: %v, want none", got.NextEscalationAt)
	}
	msgs, err := s.EscalationMessages(ctx, tenantA, time.Time{}, 0)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("messages: %+v, %v", msgs, err)
	}
	for i, m := range msgs {
		if m.ServiceRequestID != r.ServiceRequestID || m.Level != 1 || m.Notify != "department" || m.Recipient != contacts[i].Email ||
			m.Lang != contacts[i].Lang || !m.Created.Equal(utc(t0.Add(3*time.Hour))) {
			t.Errorf("message %d: %+v", i, m)
		}
	}
	if later, _ := s.EscalationMessages(ctx, tenantA, t0.Add(4*time.Hour), 0); len(later) != 0 {
		t.Errorf("messages since a later time: %+v", later)
	}
}

// checkEscalated checks r's level, its escalated events and its messages.
func checkEscalated(t *testing.T, s Stores, r requests.Request, level, messages int) {
	t.Helper()
	ctx := context.Background()
	got, err := s.GetRequest(ctx, r.TenantID, r.ServiceRequestID)
	if err != nil || got.EscalationLevel != level {
		t.Errorf("escalation level %d, %v; want %d", got.EscalationLevel, err, level)
	}
	evs, err := s.ListEvents(ctx, r.TenantID, r.ServiceRequestID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Kind == requests.EventEscalated {
			n++
			if e.Actor != "escalation" || e.Note != "department" {
				t.Errorf("escalated event %+v", e)
			}
		}
	}
	if n != level {
		t.Errorf("%d escalated events, want %d", n, level)
	}
	msgs, err := s.EscalationMessages(ctx, r.TenantID, time.Time{}, 0)
	if err != nil || len(msgs) != messages {
		t.Errorf("%d messages (%v), want %d", len(msgs), err, messages)
	}
}
