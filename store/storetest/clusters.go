package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// The staff cluster operations (requests.ClusterStore): Run calls
// testClusterOps and testClusterMergeConcurrent, RunOutbox
// testClusterWorkOrders.

// clusterLocks are the locks requests.Service passes for tenant with the
// one group cq uses.
func clusterLocks(tenant string) []string {
	return []string{tenant + "#clusters", tenant + "/pothole"}
}

// cqCells is cq locking grid cells, as intake does.
func cqCells(tenant string, p orb.Point) *requests.ClusterQuery {
	q := cq(tenant, p)
	q.LockCellDeg = requests.LockCellDeg(q.DistanceM)
	return q
}

// pothole creates a pothole of tenant at p, requested at at, joining a
// cluster by cq; rep is its reporter (nil: anonymous).
func pothole(t *testing.T, s requests.Store, tenant string, p orb.Point, at time.Time, rep *requests.Reporter, workOrder bool) requests.Request {
	t.Helper()
	nr := newRequest(newReq(tenant, p, at))
	nr.Cluster = cqCells(tenant, p)
	nr.Reporter = rep
	nr.WorkOrder = workOrder
	r, err := s.CreateRequest(context.Background(), nr)
	if err != nil {
		t.Fatalf("CreateRequest: %v", err)
	}
	return r
}

func getCluster(t *testing.T, s requests.Store, tenant, id string) (requests.Cluster, []requests.Request) {
	t.Helper()
	c, rs, err := s.GetCluster(context.Background(), tenant, id)
	if err != nil {
		t.Fatalf("GetCluster(%s): %v", id, err)
	}
	return c, rs
}

func clusterIDs(cs []requests.Cluster) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func listClusters(t *testing.T, s requests.Store, f requests.ClusterFilter) []string {
	t.Helper()
	cs, err := s.ListClusters(context.Background(), f)
	if err != nil {
		t.Fatalf("ListClusters(%+v): %v", f, err)
	}
	return clusterIDs(cs)
}

// eventCount is the number of events of a request.
func eventCount(t *testing.T, s requests.Store, tenant, id string) int {
	t.Helper()
	evs, err := s.ListEvents(context.Background(), tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// lastEvent is a request's latest event.
func lastEvent(t *testing.T, s requests.Store, tenant, id string) requests.Event {
	t.Helper()
	evs, err := s.ListEvents(context.Background(), tenant, id)
	if err != nil || len(evs) == 0 {
		t.Fatalf("events of %s: %v, %v", id, evs, err)
	}
	return evs[len(evs)-1]
}

func testClusterOps(t *testing.T, s Stores) {
	ctx := context.Background()
	at := t0.Add(3 * time.Hour)
	// A: three potholes, two reporters (one email in two spellings, one
	// phone) and an anonymous one; B: two, 500 m away; C: one, 1 km
	// away; tenant B: one at A's place.
	a1 := pothole(t, s, tenantA, origin, t0, &requests.Reporter{Email: "Marie@example.ca"}, false)
	a2 := pothole(t, s, tenantA, east(10), t0.Add(time.Minute), &requests.Reporter{Email: "marie@example.ca"}, false)
	a3 := pothole(t, s, tenantA, east(20), t0.Add(2*time.Minute), &requests.Reporter{Phone: "819-555-0100"}, false)
	a4 := pothole(t, s, tenantA, east(25), t0.Add(3*time.Minute), nil, false)
	b1 := pothole(t, s, tenantA, east(500), t0.Add(time.Hour), nil, false)
	b2 := pothole(t, s, tenantA, east(510), t0.Add(time.Hour+time.Minute), nil, false)
	c1 := pothole(t, s, tenantA, east(1000), t0.Add(2*time.Hour), nil, false)
	other := pothole(t, s, tenantB, origin, t0, nil, false)
	for _, r := range []requests.Request{a2, a3, a4} {
		if r.ClusterID != a1.ServiceRequestID {
			t.Fatalf("setup: %s in cluster %s, want %s", r.ServiceRequestID, r.ClusterID, a1.ServiceRequestID)
		}
	}
	if b2.ClusterID != b1.ServiceRequestID || c1.ClusterID != c1.ServiceRequestID {
		t.Fatalf("setup: clusters %s %s", b2.ClusterID, c1.ClusterID)
	}
	A, B, C := a1.ServiceRequestID, b1.ServiceRequestID, c1.ServiceRequestID

	// Reads.
	c, rs := getCluster(t, s, tenantA, A)
	want := requests.Cluster{ID: A, TenantID: tenantA, ServiceCode: "pothole", WardID: "1", Department: "public_works",
		Point: origin, Status: requests.ClusterOpen, Requests: 4, OpenRequests: 4, Reporters: 2,
		CreatedAt: utc(t0), UpdatedAt: utc(t0.Add(3 * time.Minute))}
	if c != want {
		t.Errorf("GetCluster(A)\n got %+v\nwant %+v", c, want)
	}
	if got := ids(rs); !slices.Equal(got, []string{A, a2.ServiceRequestID, a3.ServiceRequestID, a4.ServiceRequestID}) {
		t.Errorf("A's requests %v", got)
	}
	for _, id := range []string{a2.ServiceRequestID, "999999", other.ServiceRequestID} {
		_, _, err := s.GetCluster(ctx, tenantA, id)
		wantKind(t, "GetCluster of "+id+" (a member, unknown, another tenant's)", err, i18n.NotFound)
	}
	all := listClusters(t, s, requests.ClusterFilter{Tenant: tenantA})
	if !slices.Equal(all, []string{C, B, A}) {
		t.Errorf("ListClusters = %v, want newest first %v", all, []string{C, B, A})
	}
	near := geo.NewRuler(origin[1]).Buffer(origin, 100)
	for _, tc := range []struct {
		f    requests.ClusterFilter
		want []string
	}{
		{requests.ClusterFilter{BBox: &near}, []string{A}},
		// A box with the anchor on its edge.
		{requests.ClusterFilter{BBox: &orb.Bound{Min: origin, Max: east(600)}}, []string{B, A}},
		{requests.ClusterFilter{Status: requests.ClusterOpen}, []string{C, B, A}},
		{requests.ClusterFilter{Status: requests.Closed}, []string{}},
		{requests.ClusterFilter{ServiceCode: "graffiti"}, []string{}},
		{requests.ClusterFilter{WardID: "1", ServiceCode: "pothole"}, []string{C, B, A}},
		{requests.ClusterFilter{WardID: "2"}, []string{}},
		{requests.ClusterFilter{Limit: 1, Offset: 1}, []string{B}},
	} {
		tc.f.Tenant = tenantA
		if got := listClusters(t, s, tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("ListClusters(%+v) = %v, want %v", tc.f, got, tc.want)
		}
	}
	if got := listClusters(t, s, requests.ClusterFilter{Tenant: tenantB}); !slices.Equal(got, []string{other.ServiceRequestID}) {
		t.Errorf("tenant B's clusters %v", got)
	}

	// Refused merges write nothing.
	before := eventCount(t, s, tenantA, b1.ServiceRequestID)
	merge := func(from, into string) (requests.ClusterResult, error) {
		return s.MergeClusters(ctx, requests.ClusterMerge{Tenant: tenantA, From: from, Into: into, Actor: "key:7", At: at, Locks: clusterLocks(tenantA)})
	}
	for _, tc := range []struct{ from, into, what string }{
		{"999999", A, "from an unknown cluster"},
		{B, "999999", "into an unknown cluster"},
		{B, a2.ServiceRequestID, "into a request that names no cluster"},
		{B, other.ServiceRequestID, "into another tenant's cluster"},
		{other.ServiceRequestID, A, "from another tenant's cluster"},
	} {
		_, err := merge(tc.from, tc.into)
		wantKind(t, "merge "+tc.what, err, i18n.NotFound)
	}
	if n := eventCount(t, s, tenantA, b1.ServiceRequestID); n != before {
		t.Errorf("refused merges wrote %d events", n-before)
	}

	// Merge B into A.
	res, err := merge(B, A)
	if err != nil {
		t.Fatalf("merge B into A: %v", err)
	}
	if res.Cluster.ID != A || res.Cluster.Requests != 6 || res.Cluster.Reporters != 2 || res.Cluster.Status != requests.ClusterOpen ||
		!res.Cluster.UpdatedAt.Equal(utc(at)) || res.WorkOrderUpdated {
		t.Errorf("merged cluster %+v (work order updated %v)", res.Cluster, res.WorkOrderUpdated)
	}
	if got := ids(res.Changed); !slices.Equal(got, []string{B, b2.ServiceRequestID}) {
		t.Errorf("merge changed %v, want B's requests", got)
	}
	for _, r := range res.Changed {
		stored, err := s.GetRequest(ctx, tenantA, r.ServiceRequestID)
		if err != nil || stored.ClusterID != A || !stored.UpdatedAt.Equal(utc(at)) || stored.Status != requests.New {
			t.Errorf("merged request %+v, %v", stored, err)
		}
		if !requestsEqual(stored, r) {
			t.Errorf("merge returned %+v, stored %+v", r, stored)
		}
		ev := lastEvent(t, s, tenantA, r.ServiceRequestID)
		if ev.Kind != requests.EventMerged || ev.Actor != "key:7" || !ev.At.Equal(utc(at)) || ev.Note != requests.MergeEventNote(B, A) {
			t.Errorf("merge event %+v", ev)
		}
	}
	if n := eventCount(t, s, tenantA, A); n != 1 {
		t.Errorf("the cluster merged into got %d events, want its created one only", n)
	}
	_, _, err = s.GetCluster(ctx, tenantA, B)
	wantKind(t, "the cluster merged away", err, i18n.NotFound)
	if got := list(t, s, requests.Filter{Tenant: tenantA, ClusterID: A}); len(got) != 6 {
		t.Errorf("cluster A holds %v after the merge", got)
	}

	// Split B's requests back out.
	split := func(id string, rs ...string) (requests.ClusterResult, error) {
		return s.SplitCluster(ctx, requests.ClusterSplit{Tenant: tenantA, ClusterID: id, Requests: rs, Actor: "key:8", At: at.Add(time.Minute), Locks: clusterLocks(tenantA)})
	}
	before = eventCount(t, s, tenantA, b2.ServiceRequestID)
	for _, tc := range []struct {
		id   string
		rs   []string
		what string
		kind i18n.Kind
	}{
		{A, []string{C}, "another cluster's request", i18n.Invalid},
		{A, []string{b2.ServiceRequestID, "999999"}, "an unknown request", i18n.Invalid},
		{A, []string{A}, "the anchor", i18n.Invalid},
		{A, []string{other.ServiceRequestID}, "another tenant's request", i18n.Invalid},
		{"999999", []string{b2.ServiceRequestID}, "out of an unknown cluster", i18n.NotFound},
		{b2.ServiceRequestID, []string{b2.ServiceRequestID}, "out of a request naming no cluster", i18n.NotFound},
	} {
		_, err := split(tc.id, tc.rs...)
		wantKind(t, "split "+tc.what, err, tc.kind)
	}
	if n := eventCount(t, s, tenantA, b2.ServiceRequestID); n != before {
		t.Errorf("refused splits wrote %d events", n-before)
	}
	sres, err := split(A, B, b2.ServiceRequestID) // sorted, as the Service passes them
	if err != nil {
		t.Fatalf("split: %v", err)
	}
	if sres.Cluster.ID != A || sres.Cluster.Requests != 4 || sres.New.ID != B || sres.New.Requests != 2 ||
		sres.New.Point != east(500) || sres.New.Status != requests.ClusterOpen || !sres.New.CreatedAt.Equal(utc(b1.RequestedAt)) {
		t.Errorf("split: source %+v, new %+v", sres.Cluster, sres.New)
	}
	if got := ids(sres.Changed); !slices.Equal(got, []string{B, b2.ServiceRequestID}) {
		t.Errorf("split changed %v", got)
	}
	for _, r := range sres.Changed {
		ev := lastEvent(t, s, tenantA, r.ServiceRequestID)
		if r.ClusterID != B || ev.Kind != requests.EventSplit || ev.Actor != "key:8" || ev.Note != requests.SplitEventNote(A, B) {
			t.Errorf("split request %+v, event %+v", r, ev)
		}
	}

	// Close A.
	closeA := func() (requests.ClusterResult, error) {
		return s.TransitionCluster(ctx, requests.ClusterTransition{ClusterID: A, Locks: clusterLocks(tenantA),
			Transition: requests.Transition{Tenant: tenantA, To: requests.Closed, PublicNoteEn: "Filled on Tuesday", Reason: requests.ReasonFixed,
				Actor: "key:9", At: at.Add(2 * time.Minute)}})
	}
	// One request closed on its own before: it keeps its note and gets no
	// second event.
	if _, err := s.UpdateStatus(ctx, requests.StatusChange{Tenant: tenantA, ServiceRequestID: a4.ServiceRequestID, To: requests.Closed,
		Note: "same hole", Actor: "crew", At: at}); err != nil {
		t.Fatal(err)
	}
	cres, err := closeA()
	if err != nil {
		t.Fatalf("close: %v", err)
	}
	if cres.Cluster.Status != requests.Closed || cres.Cluster.OpenRequests != 0 || cres.Cluster.Requests != 4 {
		t.Errorf("closed cluster %+v", cres.Cluster)
	}
	if got := ids(cres.Changed); !slices.Equal(got, []string{A, a2.ServiceRequestID, a3.ServiceRequestID}) {
		t.Errorf("close changed %v", got)
	}
	for _, id := range []string{A, a2.ServiceRequestID, a3.ServiceRequestID} {
		r, err := s.GetRequest(ctx, tenantA, id) // what the resident sees
		if err != nil || r.Status != requests.Closed || r.StatusNotes != "Filled on Tuesday" {
			t.Errorf("request %s after the close: %+v, %v", id, r, err)
		}
		ev := lastEvent(t, s, tenantA, id)
		if ev.Kind != requests.EventStatus || ev.From != requests.New || ev.To != requests.Closed || ev.Actor != "key:9" ||
			ev.Note != "Filled on Tuesday" || ev.PublicNoteEn != "Filled on Tuesday" || ev.Reason != "fixed" || !ev.At.Equal(utc(at.Add(2*time.Minute))) {
			t.Errorf("close event of %s: %+v", id, ev)
		}
	}
	if r, _ := s.GetRequest(ctx, tenantA, a4.ServiceRequestID); r.StatusNotes != "same hole" || eventCount(t, s, tenantA, a4.ServiceRequestID) != 2 {
		t.Errorf("a request closed before was touched again: %+v", r)
	}
	if got := listClusters(t, s, requests.ClusterFilter{Tenant: tenantA, Status: requests.Closed}); !slices.Equal(got, []string{A}) {
		t.Errorf("closed clusters %v", got)
	}
	// A closed cluster takes no change, and writes no event refusing one.
	before = eventCount(t, s, tenantA, A)
	_, err = closeA()
	wantKind(t, "close a closed cluster", err, i18n.Conflict)
	_, err = merge(C, A)
	wantKind(t, "merge into a closed cluster", err, i18n.Conflict)
	_, err = merge(A, C)
	wantKind(t, "merge a closed cluster", err, i18n.Conflict)
	_, err = split(A, a2.ServiceRequestID)
	wantKind(t, "split a closed cluster", err, i18n.Conflict)
	if n := eventCount(t, s, tenantA, A); n != before {
		t.Errorf("refused changes to a closed cluster wrote %d events", n-before)
	}
	// Nor does a new report join it.
	if r := pothole(t, s, tenantA, east(5), at, nil, false); r.ClusterID != r.ServiceRequestID {
		t.Errorf("a new pothole joined %s, closed", r.ClusterID)
	}
	// Tenant B's cluster saw none of it.
	if c, _ := getCluster(t, s, tenantB, other.ServiceRequestID); c.Requests != 1 || c.Status != requests.ClusterOpen {
		t.Errorf("tenant B's cluster %+v", c)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.MergeClusters(cctx, requests.ClusterMerge{Tenant: tenantA, From: C, Into: B, Actor: "x", At: at, Locks: clusterLocks(tenantA)})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("merge on a canceled context: %v", err)
	}
	if _, err := s.ListClusters(cctx, requests.ClusterFilter{Tenant: tenantA}); !errors.Is(err, context.Canceled) {
		t.Errorf("list on a canceled context: %v", err)
	}
	if c, _ := getCluster(t, s, tenantA, C); c.Requests != 1 {
		t.Errorf("a canceled merge moved requests: %+v", c)
	}
}

// requestsEqual compares what a change returns with what a read returns.
func requestsEqual(a, b requests.Request) bool {
	return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b)
}

// testClusterMergeConcurrent: reports arriving next to a cluster while
// staff merge it away never land in the merged-away cluster (a cluster
// without its anchor): the merge and intake's pick are serialised.
func testClusterMergeConcurrent(t *testing.T, s Stores) {
	ctx := context.Background()
	const rounds, n = 4, 8
	for round := range rounds {
		base := float64(round * 3000)
		x := pothole(t, s, tenantA, east(base), t0, nil, false)
		y := pothole(t, s, tenantA, east(base+1500), t0, nil, false)
		var wg sync.WaitGroup
		errs := make([]error, n+1)
		for i := range n {
			wg.Go(func() {
				p := east(base + float64(i%4))
				nr := newRequest(newReq(tenantA, p, t0.Add(time.Duration(i+1)*time.Second)))
				nr.Cluster = cqCells(tenantA, p)
				_, errs[i] = s.CreateRequest(ctx, nr)
			})
		}
		wg.Go(func() {
			_, errs[n] = s.MergeClusters(ctx, requests.ClusterMerge{Tenant: tenantA, From: x.ServiceRequestID, Into: y.ServiceRequestID,
				Actor: "key:1", At: t0.Add(time.Minute), Locks: clusterLocks(tenantA)})
		})
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, call %d: %v", round, i, err)
			}
		}
		got := list(t, s, requests.Filter{Tenant: tenantA, ClusterID: x.ServiceRequestID})
		c, members := getCluster(t, s, tenantA, y.ServiceRequestID)
		// Each report either joined X before the merge (and moved with
		// it) or found X's requests in Y after it.
		if len(got) != 0 || c.Requests != n+2 || len(members) != n+2 {
			t.Errorf("round %d: %v left in merged-away cluster %s; cluster %s holds %d, want %d", round, got, x.ServiceRequestID,
				y.ServiceRequestID, c.Requests, n+2)
		}
	}
}

// testClusterWorkOrders: staff changes update a cluster's work order and
// never make a second one for an issue.
func testClusterWorkOrders(t *testing.T, s Stores) {
	ctx := context.Background()
	at := t0.Add(time.Hour)
	locks := clusterLocks(tenantA)
	a := pothole(t, s, tenantA, origin, t0, nil, true)
	pothole(t, s, tenantA, east(10), t0, nil, true)
	b := pothole(t, s, tenantA, east(500), t0, nil, true)
	c := pothole(t, s, tenantA, east(1000), t0, nil, false) // a department without a connector
	d := pothole(t, s, tenantA, east(1500), t0, nil, false)
	e := pothole(t, s, tenantA, east(2000), t0, nil, true)
	orders := func() map[string]requests.WorkOrder {
		t.Helper()
		wos, err := s.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenantA})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]requests.WorkOrder{}
		for _, w := range wos {
			if _, dup := out[w.ClusterID]; dup {
				t.Fatalf("two work orders for cluster %s", w.ClusterID)
			}
			out[w.ClusterID] = w
		}
		return out
	}
	wo := orders()
	if len(wo) != 3 {
		t.Fatalf("setup: work orders %+v", wo)
	}
	woA, woB, woE := wo[a.ServiceRequestID], wo[b.ServiceRequestID], wo[e.ServiceRequestID]
	if cl, _ := getCluster(t, s, tenantA, a.ServiceRequestID); cl.WorkOrderID != woA.ID {
		t.Errorf("cluster A names work order %d, want %d", cl.WorkOrderID, woA.ID)
	}

	// Both have one: B's is closed, A's counts B's request.
	res, err := s.MergeClusters(ctx, requests.ClusterMerge{Tenant: tenantA, From: b.ServiceRequestID, Into: a.ServiceRequestID, Actor: "k", At: at, Locks: locks})
	if err != nil || !res.WorkOrderUpdated || res.Cluster.WorkOrderID != woA.ID {
		t.Fatalf("merge B into A: %+v, %v", res, err)
	}
	// Only C's side has none: A's counts it.
	if _, err := s.MergeClusters(ctx, requests.ClusterMerge{Tenant: tenantA, From: c.ServiceRequestID, Into: a.ServiceRequestID, Actor: "k", At: at, Locks: locks}); err != nil {
		t.Fatal(err)
	}
	// Only the merged-away E has one: it moves to D.
	res, err = s.MergeClusters(ctx, requests.ClusterMerge{Tenant: tenantA, From: e.ServiceRequestID, Into: d.ServiceRequestID, Actor: "k", At: at, Locks: locks})
	if err != nil || !res.WorkOrderUpdated || res.Cluster.WorkOrderID != woE.ID {
		t.Fatalf("merge E into D: %+v, %v", res, err)
	}
	wo = orders()
	if len(wo) != 3 || wo[a.ServiceRequestID].RequestCount != 4 || wo[a.ServiceRequestID].Status != requests.New ||
		wo[b.ServiceRequestID].ID != woB.ID || wo[b.ServiceRequestID].Status != requests.Closed || wo[b.ServiceRequestID].RequestCount != 0 ||
		wo[d.ServiceRequestID].ID != woE.ID || wo[d.ServiceRequestID].RequestCount != 2 {
		t.Errorf("work orders after the merges: %+v", wo)
	}

	// Split B back out: A's is updated, B's new cluster gets its own.
	sres, err := s.SplitCluster(ctx, requests.ClusterSplit{Tenant: tenantA, ClusterID: a.ServiceRequestID, Requests: []string{b.ServiceRequestID},
		Actor: "k", At: at, Locks: locks})
	if err != nil || !sres.WorkOrderUpdated {
		t.Fatalf("split: %+v, %v", sres, err)
	}
	// The new cluster is named B again (its smallest ID), whose work
	// order the merge closed: that one reopens, no second one for B.
	wo = orders()
	if got := wo[b.ServiceRequestID]; got.ID != woB.ID || got.Status != requests.Reopened || got.RequestCount != 1 || sres.New.WorkOrderID != got.ID {
		t.Errorf("split-out cluster's work order %+v (cluster names %d)", got, sres.New.WorkOrderID)
	}
	// A split-out cluster under a new name gets a work order of its own.
	a2 := pothole(t, s, tenantA, east(5), t0, nil, true)
	sres, err = s.SplitCluster(ctx, requests.ClusterSplit{Tenant: tenantA, ClusterID: a.ServiceRequestID, Requests: []string{a2.ServiceRequestID},
		Actor: "k", At: at, Locks: locks})
	if err != nil || !sres.WorkOrderUpdated || sres.New.WorkOrderID == 0 {
		t.Fatalf("split: %+v, %v", sres, err)
	}
	wo = orders()
	if got := wo[a2.ServiceRequestID]; got.RequestCount != 1 || got.Status != requests.New || got.ID != sres.New.WorkOrderID || len(wo) != 4 {
		t.Errorf("new split-out cluster's work order %+v (of %d)", got, len(wo))
	}

	// Close A: its work order closes, with an update.
	cres, err := s.TransitionCluster(ctx, requests.ClusterTransition{ClusterID: a.ServiceRequestID, Locks: locks,
		Transition: requests.Transition{Tenant: tenantA, To: requests.Closed, PublicNoteEn: "done", Reason: requests.ReasonFixed, Actor: "k", At: at}})
	if err != nil || !cres.WorkOrderUpdated {
		t.Fatalf("close: %+v, %v", cres, err)
	}
	wo = orders()
	if got := wo[a.ServiceRequestID]; got.Status != requests.Closed || got.ID != woA.ID {
		t.Errorf("closed cluster's work order %+v", got)
	}

	// The messages, delivered in order: one create per work order, and
	// an update for every change of its cluster.
	kinds := map[int64][]requests.OutboxKind{}
	for now := at.Add(time.Minute); ; {
		ms := claimAll(t, s, tenantA, now)
		if len(ms) == 0 {
			break
		}
		var rs []requests.AttemptResult
		for _, m := range ms {
			kinds[m.WorkOrderID] = append(kinds[m.WorkOrderID], m.Kind)
			rs = append(rs, requests.AttemptResult{MessageID: m.ID, Delivered: true, At: now})
		}
		if err := s.RecordAttempts(ctx, tenantA, rs); err != nil {
			t.Fatal(err)
		}
	}
	cr, up := requests.OutboxCreate, requests.OutboxUpdate
	for id, want := range map[int64][]requests.OutboxKind{
		woA.ID: {cr, up, up, up, up, up}, // merge B, merge C, split, split, close
		woB.ID: {cr, up, up},             // closed by the merge, reopened by the split
		woE.ID: {cr, up},                 // moved to D
	} {
		if !slices.Equal(kinds[id], want) {
			t.Errorf("work order %d messages %v, want %v", id, kinds[id], want)
		}
	}
}
