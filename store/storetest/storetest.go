// Package storetest is the contract suite every implementation of
// requests.Store must pass (store/sqlite,
// store/postgis). A store's test calls Run:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Stores {
//			s := open a fresh, empty, migrated store for t
//			t.Cleanup(func() { s.Close() })
//			return storetest.Stores{Store: s}
//		})
//	}
//
// open is called once per subtest, from that subtest's goroutine; subtests
// run in parallel, so every call must return a store of its own (a fresh
// database or file), empty, and closed through t.Cleanup.
//
// Points of the contract that are easy to miss (requests/store.go has the
// rest):
//   - Times come back in UTC (Location() == time.UTC, compared with
//     reflect.DeepEqual), truncated to the microsecond; the zero time
//     (DueAt without SLA) round-trips as zero. CreateRequest and
//     UpdateStatus return exactly what GetRequest later reads.
//   - Attributes come back nil, never an empty map, when there are none.
//   - A public ID that cannot be one ("abc", "01", "0", "") is NotFound,
//     and in Filter.ServiceRequestIDs it matches nothing (no error).
//   - Every method, reads included, called with a canceled context returns
//     an error for which errors.Is(err, context.Canceled) holds, and writes
//     nothing.
//   - A refused call (NotFound, Conflict) writes nothing, no event either.
//   - Events are ordered by At, then ID, not by insertion: an event may be
//     dated before an earlier-inserted one.
//   - An API key hash is unique across tenants (Conflict otherwise).
//   - Concurrent CreateRequest calls with one Idempotency-Key make one
//     request and all return it; concurrent near-identical requests with a
//     ClusterQuery end in one cluster (the serialisation contract).
//   - ListRequests with no Limit returns MaxListLimit requests (the
//     ListPaging subtest stores MaxListLimit+5 requests; skipped with
//     -short).
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// Stores is the store under test (a struct, so a test can wrap it).
type Stores struct {
	requests.Store
}

// Run runs the contract suite; open returns a fresh, empty store per call.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Stores)
	}{
		{"RoundTrip", testRoundTrip},
		{"NotFound", testNotFound},
		{"Reporter", testReporter},
		{"PurgeReporters", testPurgeReporters},
		{"Incidents", testIncidents},
		{"KeyScope", testKeyScope},
		{"Idempotency", testIdempotency},
		{"IdempotencyConcurrent", testIdempotencyConcurrent},
		{"Cluster", testCluster},
		{"ClusterConcurrent", testClusterConcurrent},
		{"ClusterOps", testClusterOps},
		{"ClusterMergeConcurrent", testClusterMergeConcurrent},
		{"List", testList},
		{"ListPaging", testListPaging},
		{"KeysetPaging", testKeysetPaging},
		{"UpdateStatus", testUpdateStatus},
		{"Events", testEvents},
		{"Tenants", testTenants},
		{"APIKeys", testAPIKeys},
		{"Canceled", testCanceled},
		{"Service", testService},
		{"Report", testReport},
		{"OpenRequestsNear", testOpenRequestsNear},
		{"Changes", testChanges},
		{"ChangesConcurrent", testChangesConcurrent},
		{"OpsStats", testOpsStats},
		{"Transitions", testTransitions}, {"TransitionDetails", testTransitionDetails}, {"WaitingSince", testWaitingSince}, {"ClusterTransition", testClusterTransition},
		{"StoredText", testStoredText},
		{"Queue", testQueue}, {"EscalationClaims", testEscalationClaims},
		{"Media", testMedia},
		{"KeyAdmin", testKeyAdmin},
		{"Hotspot", testHotspot},
		{"Moderation", testModeration},
		{"BlockList", testBlockList},
		{"MediaPurgeList", testMediaPurgeList},
		{"PublicUpdates", testPublicUpdates},
		{"Recut", testRecut},
		{"Feedback", testFeedback},
		{"History", testHistory},
		{"Rights", testRights},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

const (
	tenantA = "town-a"
	tenantB = "town-b"
)

// t0 is a time with nanoseconds and a zone, as a caller might pass; stores
// keep UTC microseconds.
var (
	zone   = time.FixedZone("EST", -5*3600)
	t0     = time.Date(2026, 3, 3, 9, 0, 0, 123456789, zone)
	origin = orb.Point{-73.1, 46.05}
)

// utc is t as stores return it.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// east returns origin moved m metres east.
func east(m float64) orb.Point {
	b := geo.NewRuler(origin[1]).Buffer(origin, 1)
	return orb.Point{origin[0] + m*(b.Max[0]-origin[0]), origin[1]}
}

// tokens numbers the tokens newReq gives, so none repeats.
var tokens atomic.Int64

// newReq is a minimal open pothole of tenant at p, requested at at.
func newReq(tenant string, p orb.Point, at time.Time) requests.Request {
	return requests.Request{
		TenantID: tenant, ServiceCode: "pothole", Status: requests.New, Point: p, WardID: "1",
		Department: "public_works", RequestedAt: at, UpdatedAt: at, Lang: i18n.En,
		Token: fmt.Sprintf("tok-%d", tokens.Add(1)), Channel: requests.ChannelAPI,
	}
}

func newRequest(r requests.Request) requests.NewRequest {
	return requests.NewRequest{
		Request: r,
		Event:   requests.Event{TenantID: r.TenantID, At: r.RequestedAt, Actor: "resident", Kind: requests.EventCreated, To: requests.New},
	}
}

func create(t *testing.T, s Stores, nr requests.NewRequest) requests.Request {
	t.Helper()
	r, err := s.CreateRequest(context.Background(), nr)
	if err != nil {
		t.Fatalf("CreateRequest(%+v): %v", nr.Request, err)
	}
	return r
}

func wantKind(t *testing.T, what string, err error, k i18n.Kind) {
	t.Helper()
	var e *i18n.Error
	if !errors.As(err, &e) || e.Kind != k {
		t.Errorf("%s: error %v (kind %s), want an *i18n.Error of kind %s", what, err, i18n.KindOf(err), k)
	}
}

func ids(rs []requests.Request) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ServiceRequestID
	}
	return out
}

func list(t *testing.T, s Stores, f requests.Filter) []string {
	t.Helper()
	rs, err := s.ListRequests(context.Background(), f)
	if err != nil {
		t.Fatalf("ListRequests(%+v): %v", f, err)
	}
	return ids(rs)
}

func testRoundTrip(t *testing.T, s Stores) {
	ctx := context.Background()
	in := requests.Request{
		TenantID: tenantA, ServiceCode: "streetlight_out", Description: "Dark since Monday.\nCorner « Main ».",
		Status: requests.New, StatusNotes: "", Point: orb.Point{-73.0662321234567, 46.0300619876543},
		Address: "12 rue Principale", WardID: "7",
		AssetLayer: "streetlight", AssetID: "SL-000001", AssetDistanceM: 12.34,
		Department: "contractor", RequestedAt: t0, UpdatedAt: t0.Add(time.Nanosecond), DueAt: t0.Add(24*time.Hour + 999),
		Attributes: map[string]string{"problem": "out", "lanes": "left,right", "notes": "multi\nline é"},
		MediaURL:   "https://example.ca/p.jpg", Token: "tok-roundtrip", Lang: i18n.Fr, Channel: requests.ChannelPhone,
	}
	nr := newRequest(in)
	nr.Reporter = &requests.Reporter{FirstName: "Émilie", LastName: "Tremblay", Email: "emilie@example.ca", Phone: "+1 819 555 0100", DeviceID: "dev-1"}
	got := create(t, s, nr)

	want := in
	want.ID, want.ServiceRequestID, want.ClusterID = got.ID, requests.FormatServiceRequestID(got.ID), requests.FormatServiceRequestID(got.ID)
	want.RequestedAt, want.UpdatedAt, want.DueAt = utc(in.RequestedAt), utc(in.UpdatedAt), utc(in.DueAt)
	if got.ID <= 0 {
		t.Errorf("ID %d, want > 0", got.ID)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CreateRequest =\n%+v\nwant\n%+v", got, want)
	}
	for _, loc := range []*time.Location{got.RequestedAt.Location(), got.UpdatedAt.Location(), got.DueAt.Location()} {
		if loc != time.UTC {
			t.Errorf("time in %v, want UTC", loc)
		}
	}
	if r, err := s.GetRequest(ctx, tenantA, got.ServiceRequestID); err != nil || !reflect.DeepEqual(r, want) {
		t.Errorf("GetRequest =\n%+v, %v\nwant\n%+v", r, err, want)
	}
	if r, err := s.GetRequestByToken(ctx, tenantA, "tok-roundtrip"); err != nil || !reflect.DeepEqual(r, want) {
		t.Errorf("GetRequestByToken =\n%+v, %v\nwant\n%+v", r, err, want)
	}
	if rs, err := s.ListRequests(ctx, requests.Filter{Tenant: tenantA}); err != nil || len(rs) != 1 || !reflect.DeepEqual(rs[0], want) {
		t.Errorf("ListRequests = %+v, %v; want [%+v]", rs, err, want)
	}
	// The request never carries personal information.
	if s := fmt.Sprintf("%+v", got); strings.Contains(s, "emilie") || strings.Contains(s, "555") {
		t.Errorf("the request holds reporter data: %s", s)
	}

	// No attributes read back as nil (not an empty map); no SLA as the zero time.
	bare := newReq(tenantA, origin, t0.Add(time.Minute))
	bare.Attributes = map[string]string{}
	b := create(t, s, newRequest(bare))
	if b.ID == got.ID || b.ServiceRequestID != requests.FormatServiceRequestID(b.ID) || b.ClusterID != b.ServiceRequestID {
		t.Errorf("second request: ID %d, public ID %q, cluster %q", b.ID, b.ServiceRequestID, b.ClusterID)
	}
	r, err := s.GetRequest(ctx, tenantA, b.ServiceRequestID)
	if err != nil || r.Attributes != nil || b.Attributes != nil || !r.DueAt.IsZero() || r.Description != "" {
		t.Errorf("bare request = %+v, %v; want nil Attributes, zero DueAt", r, err)
	}
	if !reflect.DeepEqual(r, b) {
		t.Errorf("GetRequest = %+v, CreateRequest returned %+v", r, b)
	}

	// The created event carries the request and tenant.
	evs, err := s.ListEvents(ctx, tenantA, got.ServiceRequestID)
	wantEv := requests.Event{TenantID: tenantA, RequestID: got.ID, At: utc(t0), Actor: "resident", Kind: requests.EventCreated, To: requests.New}
	if err != nil || len(evs) != 1 {
		t.Fatalf("ListEvents = %+v, %v; want one created event", evs, err)
	}
	if evs[0].ID <= 0 {
		t.Errorf("event ID %d, want > 0", evs[0].ID)
	}
	wantEv.ID = evs[0].ID
	if !reflect.DeepEqual(evs[0], wantEv) {
		t.Errorf("event = %+v, want %+v", evs[0], wantEv)
	}
}

func testNotFound(t *testing.T, s Stores) {
	ctx := context.Background()
	r := create(t, s, newRequest(newReq(tenantA, origin, t0)))
	for _, id := range []string{"999999", "0", "-1", "abc", "", "01", "99999999999999999999", r.ServiceRequestID + "0"} {
		_, err := s.GetRequest(ctx, tenantA, id)
		wantKind(t, "GetRequest "+id, err, i18n.NotFound)
		_, err = s.ListEvents(ctx, tenantA, id)
		wantKind(t, "ListEvents "+id, err, i18n.NotFound)
		_, err = s.UpdateStatus(ctx, requests.StatusChange{Tenant: tenantA, ServiceRequestID: id, To: requests.Closed, Note: "x", Actor: "a", At: t0})
		wantKind(t, "UpdateStatus "+id, err, i18n.NotFound)
		_, err = s.GetReporter(ctx, requests.ReporterAccess{Tenant: tenantA, ServiceRequestID: id, Actor: "a", At: t0})
		wantKind(t, "GetReporter "+id, err, i18n.NotFound)
	}
	for _, tok := range []string{"nope", "", r.Token + "x"} {
		_, err := s.GetRequestByToken(ctx, tenantA, tok)
		wantKind(t, "GetRequestByToken "+tok, err, i18n.NotFound)
	}
	if got := list(t, s, requests.Filter{Tenant: tenantA, ServiceRequestIDs: []string{"abc", "999999"}}); len(got) != 0 {
		t.Errorf("ListRequests by unknown IDs = %v", got)
	}
	if got := list(t, s, requests.Filter{Tenant: tenantA}); !slices.Equal(got, []string{r.ServiceRequestID}) {
		t.Errorf("failed calls changed the requests: %v", got)
	}
	if evs, _ := s.ListEvents(ctx, tenantA, r.ServiceRequestID); len(evs) != 1 {
		t.Errorf("failed calls wrote events: %+v", evs)
	}
}

func testReporter(t *testing.T, s Stores) {
	ctx := context.Background()
	rep := requests.Reporter{FirstName: "Jean", LastName: "Roy", Email: "jean@example.ca", Phone: "819-555-0199"}
	nr := newRequest(newReq(tenantA, origin, t0))
	nr.Reporter = &rep
	r := create(t, s, nr)
	anon := create(t, s, newRequest(newReq(tenantA, east(100), t0)))
	zero := newRequest(newReq(tenantA, east(200), t0))
	zero.Reporter = &requests.Reporter{}
	z := create(t, s, zero)

	at := t0.Add(time.Hour)
	got, err := s.GetReporter(ctx, requests.ReporterAccess{Tenant: tenantA, ServiceRequestID: r.ServiceRequestID, Actor: "clerk@city", At: at})
	if err != nil || got != rep {
		t.Errorf("GetReporter = %+v, %v; want %+v", got, err, rep)
	}
	for _, id := range []string{anon.ServiceRequestID, z.ServiceRequestID} {
		if got, err := s.GetReporter(ctx, requests.ReporterAccess{Tenant: tenantA, ServiceRequestID: id, Actor: "clerk@city", At: at}); err != nil || !got.IsZero() {
			t.Errorf("GetReporter of an anonymous request = %+v, %v; want zero", got, err)
		}
	}
	evs, err := s.ListEvents(ctx, tenantA, r.ServiceRequestID)
	if err != nil || len(evs) != 2 {
		t.Fatalf("ListEvents = %+v, %v; want created and reporter_read", evs, err)
	}
	want := requests.Event{ID: evs[1].ID, TenantID: tenantA, RequestID: r.ID, At: utc(at), Actor: "clerk@city", Kind: requests.EventReporterRead}
	if !reflect.DeepEqual(evs[1], want) {
		t.Errorf("read event = %+v, want %+v", evs[1], want)
	}
	if evs, _ := s.ListEvents(ctx, tenantA, anon.ServiceRequestID); len(evs) != 2 || evs[1].Kind != requests.EventReporterRead {
		t.Errorf("reading an anonymous reporter was not logged: %+v", evs)
	}
	// Another tenant cannot read it, and the attempt leaves no event.
	_, err = s.GetReporter(ctx, requests.ReporterAccess{Tenant: tenantB, ServiceRequestID: r.ServiceRequestID, Actor: "x", At: at})
	wantKind(t, "GetReporter of another tenant", err, i18n.NotFound)
	if evs, _ := s.ListEvents(ctx, tenantA, r.ServiceRequestID); len(evs) != 2 {
		t.Errorf("a refused read was logged: %+v", evs)
	}
}

func testIdempotency(t *testing.T, s Stores) {
	ctx := context.Background()
	nr := newRequest(newReq(tenantA, origin, t0))
	nr.IdempotencyKey, nr.Fingerprint = "key-1", "fp-1"
	nr.Reporter = &requests.Reporter{Email: "a@example.ca"}
	first := create(t, s, nr)

	// A retry, even with later times and another token, gets the first back.
	retry := nr
	retry.Request.RequestedAt = t0.Add(time.Minute)
	retry.Request.Token = "tok-other"
	again := create(t, s, retry)
	if !reflect.DeepEqual(again, first) {
		t.Errorf("retry =\n%+v\nwant\n%+v", again, first)
	}
	other := nr
	other.Fingerprint = "fp-2"
	other.Request.Token = "tok-other-2"
	_, err := s.CreateRequest(ctx, other)
	wantKind(t, "same key, other fingerprint", err, requests.KindIdempotencyReused)

	if got := list(t, s, requests.Filter{Tenant: tenantA}); len(got) != 1 {
		t.Errorf("requests after retries: %v, want one", got)
	}
	if evs, _ := s.ListEvents(ctx, tenantA, first.ServiceRequestID); len(evs) != 1 {
		t.Errorf("events after retries: %+v, want one", evs)
	}

	// Keys are per tenant; no key never deduplicates.
	b := nr
	b.Request = newReq(tenantB, origin, t0)
	if rb := create(t, s, b); rb.TenantID != tenantB || rb.ID == first.ID {
		t.Errorf("tenant B with tenant A's key got %+v", rb)
	}
	plain := newRequest(newReq(tenantA, origin, t0.Add(time.Second)))
	p1 := create(t, s, plain)
	plain.Request.Token += "-2"
	p2 := create(t, s, plain)
	if p1.ID == p2.ID {
		t.Error("two creations without a key returned the same request")
	}
	if got := list(t, s, requests.Filter{Tenant: tenantA}); len(got) != 3 {
		t.Errorf("tenant A has %v, want 3 requests", got)
	}
}

func testIdempotencyConcurrent(t *testing.T, s Stores) {
	const n = 8
	var wg sync.WaitGroup
	got := make([]requests.Request, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			nr := newRequest(newReq(tenantA, origin, t0))
			nr.Request.Token = fmt.Sprintf("tok-%d", i)
			nr.IdempotencyKey, nr.Fingerprint = "same-key", "same-fp"
			got[i], errs[i] = s.CreateRequest(context.Background(), nr)
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("creation %d: %v", i, errs[i])
		} else if got[i].ID != got[0].ID {
			t.Errorf("creation %d got request %d, creation 0 got %d", i, got[i].ID, got[0].ID)
		}
	}
	if ids := list(t, s, requests.Filter{Tenant: tenantA}); len(ids) != 1 {
		t.Errorf("%d concurrent creations with one key stored %v, want one request", n, ids)
	}
}

// cq is the duplicate rule for potholes at p: 30 m, since t0 - 1 h.
func cq(tenant string, p orb.Point) *requests.ClusterQuery {
	return &requests.ClusterQuery{
		Tenant: tenant, ServiceCodes: []string{"pothole", "road_damage"}, Point: p, DistanceM: 30,
		Bound: geo.NewRuler(p[1]).Buffer(p, 30), Since: t0.Add(-time.Hour),
	}
}

func testCluster(t *testing.T, s Stores) {
	ctx := context.Background()
	mk := func(r requests.Request, q *requests.ClusterQuery) requests.Request {
		r.Token = fmt.Sprintf("tok-%d", tokens.Add(1))
		nr := newRequest(r)
		nr.Cluster = q
		return create(t, s, nr)
	}
	first := mk(newReq(tenantA, origin, t0), cq(tenantA, origin))
	if first.ClusterID != first.ServiceRequestID {
		t.Errorf("a first request is in cluster %q, want its own %q", first.ClusterID, first.ServiceRequestID)
	}
	near := mk(newReq(tenantA, east(20), t0.Add(time.Minute)), cq(tenantA, east(20)))
	if near.ClusterID != first.ServiceRequestID {
		t.Errorf("a pothole 20 m away is in cluster %q, want %q", near.ClusterID, first.ServiceRequestID)
	}
	// 45 m from the first, 25 m from near: joins near's cluster (the first's).
	chain := mk(newReq(tenantA, east(45), t0.Add(2*time.Minute)), cq(tenantA, east(45)))
	if chain.ClusterID != first.ServiceRequestID {
		t.Errorf("a pothole 25 m from a clustered one is in %q, want %q", chain.ClusterID, first.ServiceRequestID)
	}
	equiv := newReq(tenantA, east(-10), t0.Add(3*time.Minute))
	equiv.ServiceCode = "road_damage"
	if r := mk(equiv, cq(tenantA, east(-10))); r.ClusterID != first.ServiceRequestID {
		t.Errorf("an equivalent category is in %q, want %q", r.ClusterID, first.ServiceRequestID)
	}
	if r := mk(newReq(tenantA, east(200), t0), cq(tenantA, east(200))); r.ClusterID != r.ServiceRequestID {
		t.Errorf("a pothole 200 m away joined %q", r.ClusterID)
	}
	// No cluster query: a cluster of its own even right next to one.
	if r := mk(newReq(tenantA, origin, t0), nil); r.ClusterID != r.ServiceRequestID {
		t.Errorf("a request without a cluster query joined %q", r.ClusterID)
	}
	// Another category is not joined.
	graffiti := newReq(tenantA, east(300), t0)
	graffiti.ServiceCode = "graffiti"
	g := mk(graffiti, nil)
	if r := mk(newReq(tenantA, east(301), t0), cq(tenantA, east(301))); r.ClusterID == g.ClusterID {
		t.Error("a pothole joined a graffiti cluster")
	}
	// Before the window: not joined.
	old := mk(newReq(tenantA, east(600), t0.Add(-2*time.Hour)), nil)
	if r := mk(newReq(tenantA, east(601), t0), cq(tenantA, east(601))); r.ClusterID == old.ClusterID {
		t.Error("a pothole joined a request older than the window")
	}
	// Closed: not joined.
	closed := mk(newReq(tenantA, east(900), t0), nil)
	if _, err := s.UpdateStatus(ctx, requests.StatusChange{Tenant: tenantA, ServiceRequestID: closed.ServiceRequestID,
		To: requests.Closed, Note: "fixed", Actor: "crew", At: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if r := mk(newReq(tenantA, east(901), t0.Add(2*time.Minute)), cq(tenantA, east(901))); r.ClusterID == closed.ClusterID {
		t.Error("a pothole joined a closed request")
	}
	// Same asset: joined whatever the distance.
	sl := newReq(tenantA, east(2000), t0)
	sl.ServiceCode, sl.AssetLayer, sl.AssetID = "streetlight_out", "streetlight", "SL-9"
	a := mk(sl, nil)
	far := sl
	far.Point = east(2500)
	q := &requests.ClusterQuery{Tenant: tenantA, ServiceCodes: []string{"streetlight_out"}, Point: far.Point, DistanceM: 30,
		Bound: geo.NewRuler(far.Point[1]).Buffer(far.Point, 30), AssetLayer: "streetlight", AssetID: "SL-9"}
	if r := mk(far, q); r.ClusterID != a.ServiceRequestID {
		t.Errorf("a report naming the same asset 500 m away is in %q, want %q", r.ClusterID, a.ServiceRequestID)
	}
	// Asset only (no distance rule), other layer: not joined.
	q2 := *q
	q2.DistanceM, q2.AssetLayer = 0, "hydrant"
	if r := mk(far, &q2); r.ClusterID != r.ServiceRequestID {
		t.Errorf("a report naming another layer's asset joined %q", r.ClusterID)
	}
	// Another tenant's cluster is never joined.
	if r := mk(newReq(tenantB, origin, t0), cq(tenantB, origin)); r.ClusterID != r.ServiceRequestID {
		t.Errorf("tenant B joined %q", r.ClusterID)
	}
	// The tie rule: equidistant candidates go to the earliest request, not
	// the first stored.
	later := mk(newReq(tenantA, east(5000), t0.Add(time.Minute)), nil)
	earlier := mk(newReq(tenantA, east(5000), t0), nil)
	if r := mk(newReq(tenantA, east(5010), t0.Add(time.Hour)), cq(tenantA, east(5010))); r.ClusterID != earlier.ServiceRequestID {
		t.Errorf("between two equidistant requests joined %q, want the earlier %q (not %q)", r.ClusterID, earlier.ServiceRequestID, later.ServiceRequestID)
	}
	if got := list(t, s, requests.Filter{Tenant: tenantA, ClusterID: first.ServiceRequestID}); len(got) != 4 {
		t.Errorf("cluster %s holds %v, want 4 requests", first.ServiceRequestID, got)
	}
}

// testClusterConcurrent is the serialisation contract: near-identical
// requests created at once end up in one cluster, not one cluster each.
func testClusterConcurrent(t *testing.T, s Stores) {
	const n, rounds = 8, 3
	for round := range rounds {
		var wg sync.WaitGroup
		got := make([]requests.Request, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				// 0..7 m apart, so all within 30 m of each other; each
				// round 1 km from the last.
				p := east(float64(1000*round + i))
				nr := newRequest(newReq(tenantA, p, t0))
				nr.Cluster = cq(tenantA, p)
				got[i], errs[i] = s.CreateRequest(context.Background(), nr)
			})
		}
		wg.Wait()
		clusters := map[string]int{}
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d, creation %d: %v", round, i, errs[i])
			}
			clusters[got[i].ClusterID]++
		}
		if len(clusters) != 1 {
			t.Errorf("round %d: %d concurrent near-identical requests made clusters %v, want one", round, n, clusters)
		}
		for c := range clusters {
			if rs := list(t, s, requests.Filter{Tenant: tenantA, ClusterID: c}); len(rs) != n {
				t.Errorf("round %d: cluster %s stored %v", round, c, rs)
			}
		}
	}
}

func testList(t *testing.T, s Stores) {
	ctx := context.Background()
	type spec struct {
		code   string
		ward   string
		p      orb.Point
		at     time.Time
		status requests.Status
	}
	base := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	specs := []spec{
		{"pothole", "1", orb.Point{-73.10, 46.05}, base, requests.New},                                     // 1
		{"graffiti", "1", orb.Point{-73.09, 46.05}, base.Add(time.Hour), requests.Closed},                  // 2
		{"pothole", "2", orb.Point{-73.08, 46.06}, base.Add(2 * time.Hour), requests.Acknowledged},         // 3
		{"noise_bylaw", "2", orb.Point{-73.07, 46.07}, base.Add(2 * time.Hour), requests.InProgress},       // 4: same time as 3
		{"pothole", "3", orb.Point{-73.06, 46.08}, base.Add(3*time.Hour + time.Microsecond), requests.New}, // 5
	}
	var rs []requests.Request
	for _, sp := range specs {
		r := newReq(tenantA, sp.p, sp.at)
		r.ServiceCode, r.WardID = sp.code, sp.ward
		c := create(t, s, newRequest(r))
		if sp.status != requests.New {
			path := map[requests.Status][]requests.Status{
				requests.Acknowledged: {requests.Acknowledged},
				requests.InProgress:   {requests.InProgress},
				requests.Closed:       {requests.Closed},
			}[sp.status]
			for _, to := range path {
				var err error
				if c, err = s.UpdateStatus(ctx, requests.StatusChange{Tenant: tenantA, ServiceRequestID: c.ServiceRequestID,
					To: to, Note: "n", Actor: "staff", At: sp.at.Add(time.Minute)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		rs = append(rs, c)
	}
	// Another tenant's request in the same place and time is never listed.
	create(t, s, newRequest(newReq(tenantB, specs[0].p, base)))
	id := func(i ...int) []string {
		var out []string
		for _, k := range i {
			out = append(out, rs[k-1].ServiceRequestID)
		}
		return out
	}
	bb := func(minX, minY, maxX, maxY float64) *orb.Bound {
		return &orb.Bound{Min: orb.Point{minX, minY}, Max: orb.Point{maxX, maxY}}
	}
	for _, tc := range []struct {
		name string
		f    requests.Filter
		want []string
	}{
		{"all, newest first, ties by ID", requests.Filter{}, id(5, 4, 3, 2, 1)},
		{"ids", requests.Filter{ServiceRequestIDs: append(id(1, 3), "999999", "x")}, id(3, 1)},
		{"service codes", requests.Filter{ServiceCodes: []string{"pothole", "graffiti"}}, id(5, 3, 2, 1)},
		{"one service code", requests.Filter{ServiceCodes: []string{"noise_bylaw"}}, id(4)},
		{"unknown service code", requests.Filter{ServiceCodes: []string{"nope"}}, nil},
		{"statuses", requests.Filter{Statuses: []requests.Status{requests.New, requests.Acknowledged, requests.InProgress}}, id(5, 4, 3, 1)},
		{"closed", requests.Filter{Statuses: []requests.Status{requests.Closed}}, id(2)},
		{"start inclusive", requests.Filter{Start: base.Add(2 * time.Hour)}, id(5, 4, 3)},
		{"end inclusive", requests.Filter{End: base.Add(2 * time.Hour)}, id(4, 3, 2, 1)},
		{"start and end, other zone", requests.Filter{Start: base.Add(time.Hour).In(zone), End: base.Add(2 * time.Hour).In(zone)}, id(4, 3, 2)},
		{"end a microsecond short", requests.Filter{Start: base.Add(3 * time.Hour), End: base.Add(3 * time.Hour)}, nil},
		{"exact microsecond", requests.Filter{Start: base.Add(3*time.Hour + time.Microsecond), End: base.Add(3*time.Hour + time.Microsecond)}, id(5)},
		{"ward", requests.Filter{WardID: "2"}, id(4, 3)},
		{"cluster", requests.Filter{ClusterID: rs[2].ClusterID}, id(3)},
		{"bbox", requests.Filter{BBox: bb(-73.095, 46.04, -73.065, 46.075)}, id(4, 3, 2)},
		{"bbox edges included", requests.Filter{BBox: bb(-73.10, 46.05, -73.08, 46.06)}, id(3, 2, 1)},
		{"bbox point", requests.Filter{BBox: bb(-73.06, 46.08, -73.06, 46.08)}, id(5)},
		{"bbox empty", requests.Filter{BBox: bb(-74, 45, -73.9, 45.1)}, nil},
		{"combined", requests.Filter{ServiceCodes: []string{"pothole"}, Statuses: []requests.Status{requests.New}, WardID: "3"}, id(5)},
		{"limit", requests.Filter{Limit: 2}, id(5, 4)},
		{"offset", requests.Filter{Limit: 2, Offset: 2}, id(3, 2)},
		{"offset past the end", requests.Filter{Limit: 2, Offset: 10}, nil},
		{"offset without limit", requests.Filter{Offset: 3}, id(2, 1)},
	} {
		tc.f.Tenant = tenantA
		got := list(t, s, tc.f)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: ListRequests = %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := list(t, s, requests.Filter{Tenant: "nobody"}); len(got) != 0 {
		t.Errorf("unknown tenant lists %v", got)
	}
	// Listed requests equal what GetRequest returns.
	all, err := s.ListRequests(ctx, requests.Filter{Tenant: tenantA})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		if g, err := s.GetRequest(ctx, tenantA, r.ServiceRequestID); err != nil || !reflect.DeepEqual(g, r) {
			t.Errorf("listed %+v, GetRequest %+v, %v", r, g, err)
		}
	}
}

func testListPaging(t *testing.T, s Stores) {
	if testing.Short() {
		t.Skip("stores more than MaxListLimit requests")
	}
	ctx := context.Background()
	// More than MaxListLimit requests: a zero Limit returns MaxListLimit.
	n := requests.MaxListLimit + 5
	const batch = 50
	var wg sync.WaitGroup
	errs := make([]error, n)
	for g := 0; g < n; g += batch {
		wg.Go(func() {
			for i := g; i < min(g+batch, n); i++ {
				r := newReq(tenantA, east(float64(i)), t0.Add(time.Duration(i%7)*time.Second))
				r.Token = fmt.Sprintf("tok-%d", i)
				_, errs[i] = s.CreateRequest(ctx, newRequest(r))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListRequests(ctx, requests.Filter{Tenant: tenantA})
	if err != nil || len(all) != requests.MaxListLimit {
		t.Fatalf("ListRequests without a limit: %d requests, %v; want %d", len(all), err, requests.MaxListLimit)
	}
	rest, err := s.ListRequests(ctx, requests.Filter{Tenant: tenantA, Offset: requests.MaxListLimit})
	if err != nil || len(rest) != 5 {
		t.Fatalf("the last page: %d requests, %v; want 5", len(rest), err)
	}
	seen := map[int64]bool{}
	all = append(all, rest...)
	for i, r := range all {
		if seen[r.ID] {
			t.Fatalf("request %d listed twice", r.ID)
		}
		seen[r.ID] = true
		if i > 0 {
			p := all[i-1]
			if r.RequestedAt.After(p.RequestedAt) || r.RequestedAt.Equal(p.RequestedAt) && r.ID > p.ID {
				t.Fatalf("not newest first: %d (%v) after %d (%v)", r.ID, r.RequestedAt, p.ID, p.RequestedAt)
			}
		}
	}
}

func testUpdateStatus(t *testing.T, s Stores) {
	ctx := context.Background()
	r := create(t, s, newRequest(newReq(tenantA, origin, t0)))
	change := func(to requests.Status, note string, at time.Time) (requests.Request, error) {
		return s.UpdateStatus(ctx, requests.StatusChange{Tenant: tenantA, ServiceRequestID: r.ServiceRequestID, To: to, Note: note, Actor: "crew-7", At: at})
	}
	at := t0.Add(time.Hour + 999)
	got, err := change(requests.Acknowledged, "on our list", at)
	want := r
	want.Status, want.StatusNotes, want.UpdatedAt = requests.Acknowledged, "on our list", utc(at)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("UpdateStatus =\n%+v, %v\nwant\n%+v", got, err, want)
	}
	if g, err := s.GetRequest(ctx, tenantA, r.ServiceRequestID); err != nil || !reflect.DeepEqual(g, want) {
		t.Errorf("GetRequest after UpdateStatus =\n%+v, %v\nwant\n%+v", g, err, want)
	}
	for _, to := range []requests.Status{requests.Acknowledged, requests.New} {
		_, err := change(to, "", at)
		wantKind(t, "acknowledged → "+string(to), err, i18n.Conflict)
	}
	if _, err := change(requests.Closed, "filled", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err = change(requests.InProgress, "", at)
	wantKind(t, "closed → in_progress", err, i18n.Conflict)
	reopened, err := change(requests.Reopened, "came back", at.Add(2*time.Hour))
	if err != nil || reopened.Status != requests.Reopened || reopened.StatusNotes != "came back" || reopened.CloseReason != "" {
		t.Errorf("reopen = %+v, %v", reopened, err)
	}
	_, err = s.UpdateStatus(ctx, requests.StatusChange{Tenant: tenantB, ServiceRequestID: r.ServiceRequestID, To: requests.Closed, Note: "x", Actor: "b", At: at})
	wantKind(t, "UpdateStatus of another tenant's request", err, i18n.NotFound)

	evs, err := s.ListEvents(ctx, tenantA, r.ServiceRequestID)
	if err != nil {
		t.Fatal(err)
	}
	var got2 []string
	for _, e := range evs {
		got2 = append(got2, fmt.Sprintf("%s %s>%s %q %s", e.Kind, e.From, e.To, e.Note, e.Actor))
	}
	want2 := []string{
		`created >new "" resident`,
		`status new>acknowledged "on our list" crew-7`,
		`status acknowledged>closed "filled" crew-7`,
		`status closed>reopened "came back" crew-7`,
	}
	if !slices.Equal(got2, want2) {
		t.Errorf("events =\n%s\nwant\n%s", strings.Join(got2, "\n"), strings.Join(want2, "\n"))
	}
	if len(evs) == 4 && (!evs[1].At.Equal(utc(at)) || evs[1].RequestID != r.ID || evs[1].TenantID != tenantA) {
		t.Errorf("status event = %+v", evs[1])
	}
}

func testEvents(t *testing.T, s Stores) {
	ctx := context.Background()
	r := create(t, s, newRequest(newReq(tenantA, origin, t0)))
	other := create(t, s, newRequest(newReq(tenantA, east(100), t0)))
	// Written out of time order: listed by At, then by ID.
	read := func(at time.Time, actor string) {
		if _, err := s.GetReporter(ctx, requests.ReporterAccess{Tenant: tenantA, ServiceRequestID: r.ServiceRequestID, Actor: actor, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	read(t0.Add(2*time.Hour), "late")
	read(t0.Add(time.Hour), "early-1")
	read(t0.Add(time.Hour), "early-2")
	read(t0.Add(-time.Hour), "before-creation")
	evs, err := s.ListEvents(ctx, tenantA, r.ServiceRequestID)
	if err != nil {
		t.Fatal(err)
	}
	var actors []string
	for i, e := range evs {
		actors = append(actors, e.Actor)
		if e.RequestID != r.ID || e.TenantID != tenantA {
			t.Errorf("event %+v of another request", e)
		}
		if i > 0 && (e.At.Before(evs[i-1].At) || e.At.Equal(evs[i-1].At) && e.ID < evs[i-1].ID) {
			t.Errorf("events out of order: %+v after %+v", e, evs[i-1])
		}
	}
	if want := []string{"before-creation", "resident", "early-1", "early-2", "late"}; !slices.Equal(actors, want) {
		t.Errorf("event actors %v, want %v", actors, want)
	}
	if evs, err := s.ListEvents(ctx, tenantA, other.ServiceRequestID); err != nil || len(evs) != 1 {
		t.Errorf("other request's events = %+v, %v", evs, err)
	}
}

func testTenants(t *testing.T, s Stores) {
	ctx := context.Background()
	a := create(t, s, newRequest(newReq(tenantA, origin, t0)))
	if _, err := s.GetRequest(ctx, tenantB, a.ServiceRequestID); i18n.KindOf(err) != i18n.NotFound {
		t.Errorf("tenant B got tenant A's request: %v", err)
	}
	if _, err := s.GetRequestByToken(ctx, tenantB, a.Token); i18n.KindOf(err) != i18n.NotFound {
		t.Errorf("tenant B got tenant A's request by token: %v", err)
	}
	if _, err := s.ListEvents(ctx, tenantB, a.ServiceRequestID); i18n.KindOf(err) != i18n.NotFound {
		t.Errorf("tenant B listed tenant A's events: %v", err)
	}
	for _, f := range []requests.Filter{
		{Tenant: tenantB},
		{Tenant: tenantB, ServiceRequestIDs: []string{a.ServiceRequestID}},
		{Tenant: tenantB, ClusterID: a.ClusterID},
		{Tenant: tenantB, BBox: &orb.Bound{Min: origin, Max: origin}},
		{Tenant: ""},
	} {
		if got := list(t, s, f); len(got) != 0 {
			t.Errorf("ListRequests(%+v) = %v, want none of tenant A's", f, got)
		}
	}
	// The same token in two tenants is two requests.
	b := newReq(tenantB, origin, t0)
	b.Token = a.Token
	rb := create(t, s, newRequest(b))
	if got, err := s.GetRequestByToken(ctx, tenantB, a.Token); err != nil || got.ID != rb.ID {
		t.Errorf("tenant B by token = %+v, %v; want %d", got, err, rb.ID)
	}
	if got, err := s.GetRequestByToken(ctx, tenantA, a.Token); err != nil || got.ID != a.ID {
		t.Errorf("tenant A by token = %+v, %v; want %d", got, err, a.ID)
	}
}

func testAPIKeys(t *testing.T, s Stores) {
	ctx := context.Background()
	_, hash := requests.NewAPIKey()
	in := requests.Key{TenantID: tenantA, Role: requests.RoleStaff, Label: "phone agents' app", Hash: hash, CreatedAt: t0}
	k, err := s.CreateAPIKey(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.ID, want.CreatedAt = k.ID, utc(t0)
	if k.ID <= 0 || !reflect.DeepEqual(k, want) {
		t.Errorf("CreateAPIKey = %+v, want %+v with an ID", k, want)
	}
	if got, err := s.LookupAPIKey(ctx, hash); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("LookupAPIKey = %+v, %v; want %+v", got, err, want)
	}
	// A hash is global: a duplicate is refused whatever the tenant.
	dup := in
	dup.TenantID, dup.Role = tenantB, requests.RoleAdmin
	_, err = s.CreateAPIKey(ctx, dup)
	wantKind(t, "duplicate hash", err, i18n.Conflict)
	if got, _ := s.LookupAPIKey(ctx, hash); got.TenantID != tenantA || got.Role != requests.RoleStaff {
		t.Errorf("the refused duplicate changed the key: %+v", got)
	}
	_, hash2 := requests.NewAPIKey()
	k2, err := s.CreateAPIKey(ctx, requests.Key{TenantID: tenantB, Role: requests.RoleIntegrator, Hash: hash2, CreatedAt: t0})
	if err != nil || k2.ID == k.ID {
		t.Errorf("second key = %+v, %v", k2, err)
	}
	if got, err := s.LookupAPIKey(ctx, hash2); err != nil || got.TenantID != tenantB || got.Role != requests.RoleIntegrator {
		t.Errorf("LookupAPIKey of tenant B's key = %+v, %v", got, err)
	}
	for _, h := range []string{"", "nope", requests.HashAPIKey("pw_unknown")} {
		_, err := s.LookupAPIKey(ctx, h)
		wantKind(t, "LookupAPIKey "+h, err, i18n.NotFound)
	}
}

func testCanceled(t *testing.T, s Stores) {
	r := create(t, s, newRequest(newReq(tenantA, origin, t0)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: %v, want an error wrapping context.Canceled", what, err)
		}
	}
	nr := newRequest(newReq(tenantA, east(100), t0))
	nr.IdempotencyKey, nr.Fingerprint = "k", "f"
	_, err := s.CreateRequest(ctx, nr)
	check("CreateRequest", err)
	_, err = s.GetRequest(ctx, tenantA, r.ServiceRequestID)
	check("GetRequest", err)
	_, err = s.GetRequestByToken(ctx, tenantA, r.Token)
	check("GetRequestByToken", err)
	_, err = s.ListRequests(ctx, requests.Filter{Tenant: tenantA})
	check("ListRequests", err)
	_, err = s.UpdateStatus(ctx, requests.StatusChange{Tenant: tenantA, ServiceRequestID: r.ServiceRequestID, To: requests.Closed, Note: "x", Actor: "a", At: t0})
	check("UpdateStatus", err)
	_, err = s.ListEvents(ctx, tenantA, r.ServiceRequestID)
	check("ListEvents", err)
	_, err = s.GetReporter(ctx, requests.ReporterAccess{Tenant: tenantA, ServiceRequestID: r.ServiceRequestID, Actor: "a", At: t0})
	check("GetReporter", err)
	_, hash := requests.NewAPIKey()
	_, err = s.CreateAPIKey(ctx, requests.Key{TenantID: tenantA, Role: requests.RoleAdmin, Hash: hash})
	check("CreateAPIKey", err)
	_, err = s.LookupAPIKey(ctx, hash)
	check("LookupAPIKey", err)

	// Nothing was written.
	bg := context.Background()
	if got := list(t, s, requests.Filter{Tenant: tenantA}); !slices.Equal(got, []string{r.ServiceRequestID}) {
		t.Errorf("requests after canceled calls: %v", got)
	}
	if g, err := s.GetRequest(bg, tenantA, r.ServiceRequestID); err != nil || g.Status != requests.New {
		t.Errorf("request after a canceled UpdateStatus: %+v, %v", g, err)
	}
	if evs, err := s.ListEvents(bg, tenantA, r.ServiceRequestID); err != nil || len(evs) != 1 {
		t.Errorf("events after canceled calls: %+v, %v", evs, err)
	}
	if _, err := s.LookupAPIKey(bg, hash); i18n.KindOf(err) != i18n.NotFound {
		t.Errorf("a key created with a canceled context exists: %v", err)
	}
	// The store still works.
	if _, err := s.CreateRequest(bg, nr); err != nil {
		t.Errorf("CreateRequest after cancellations: %v", err)
	}
}

// testService drives the real requests.Service over the bundled sample
// town, so the store is checked with what intake really stores.
func testService(t *testing.T, s Stores) {
	ctx := context.Background()
	cat, err := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
	if err != nil {
		t.Fatal(err)
	}
	set, err := data.SampleWards()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := data.SampleAssets()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2026, 3, 3, 14, 0, 0, 987654321, time.UTC)
	svc, err := requests.NewService(requests.ServiceConfig{
		Tenant: tenantA, Catalog: cat, Wards: set, Assets: ix, Store: s.Store,
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	pt := func(p orb.Point) *orb.Point { return &p }
	pothole := func(p orb.Point) requests.Submission {
		return requests.Submission{ServiceCode: "pothole", Point: pt(p), Attributes: map[string][]string{"size": {"large"}},
			Description: "Deep one", Actor: "key:1"}
	}

	sub := pothole(origin)
	sub.Reporter = requests.Reporter{FirstName: "Marie", LastName: "Gagnon", Email: "marie@example.ca", Phone: "819-555-0142"}
	sub.IdempotencyKey = "idem-1"
	sub.Lang = i18n.Fr
	first, err := svc.Submit(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	if first.WardID == "" || first.Department == "" || first.DueAt.IsZero() || first.ClusterID != first.ServiceRequestID {
		t.Errorf("Submit = %+v; want a ward, a department, a due time and its own cluster", first)
	}
	if got, err := svc.Get(ctx, first.ServiceRequestID); err != nil || !reflect.DeepEqual(got, first) {
		t.Errorf("Get =\n%+v, %v\nwant what Submit returned\n%+v", got, err, first)
	}
	// A retry gets the same request; a reused key for another report is refused.
	advance(time.Minute)
	if again, err := svc.Submit(ctx, sub); err != nil || !reflect.DeepEqual(again, first) {
		t.Errorf("retried Submit = %+v, %v; want the first", again, err)
	}
	reused := pothole(east(500))
	reused.IdempotencyKey = "idem-1"
	_, err = svc.Submit(ctx, reused)
	wantKind(t, "reused Idempotency-Key", err, requests.KindIdempotencyReused)

	// A duplicate 10 m away joins the cluster; so does a concurrent burst.
	dup, err := svc.Submit(ctx, pothole(east(10)))
	if err != nil || dup.ClusterID != first.ServiceRequestID {
		t.Errorf("duplicate = %+v, %v; want cluster %s", dup, err, first.ServiceRequestID)
	}
	var wg sync.WaitGroup
	burst := make([]requests.Request, 6)
	errs := make([]error, len(burst))
	for i := range burst {
		wg.Go(func() { burst[i], errs[i] = svc.Submit(ctx, pothole(east(200+float64(i)))) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, r := range burst {
		if r.ClusterID != burst[0].ClusterID || r.ClusterID == first.ClusterID {
			t.Errorf("burst request %s in cluster %s, want all in one new cluster (first %s)", r.ServiceRequestID, r.ClusterID, burst[0].ClusterID)
		}
	}

	// A streetlight report snaps to the asset; a second one at it joins.
	var sl assets.Asset
	ix.Scan(func(a assets.Asset) bool {
		if a.Layer != "streetlight" {
			return true
		}
		sl = a
		return false
	})
	light := func() requests.Submission {
		return requests.Submission{ServiceCode: "streetlight_out", Point: pt(sl.Point), Attributes: map[string][]string{"problem": {"out"}}}
	}
	l1, err := svc.Submit(ctx, light())
	if err != nil || l1.AssetLayer != "streetlight" || l1.AssetID != sl.ID {
		t.Fatalf("streetlight report = %+v, %v; want asset %s", l1, err, sl.ID)
	}
	if l2, err := svc.Submit(ctx, light()); err != nil || l2.ClusterID != l1.ServiceRequestID || l2.AssetID != sl.ID {
		t.Errorf("second streetlight report = %+v, %v; want cluster %s", l2, err, l1.ServiceRequestID)
	}

	// Outside the municipality: refused, nothing stored.
	before := list(t, s, requests.Filter{Tenant: tenantA})
	_, err = svc.Submit(ctx, pothole(orb.Point{-72.0, 46.05}))
	wantKind(t, "outside", err, i18n.Outside)
	if after := list(t, s, requests.Filter{Tenant: tenantA}); !slices.Equal(after, before) {
		t.Errorf("a refused submission was stored: %v, before %v", after, before)
	}

	// Status changes, the audit trail, the reporter (logged), listing.
	if _, err := svc.UpdateStatus(ctx, requests.StatusUpdate{ServiceRequestID: first.ServiceRequestID, To: requests.Closed, Note: "Filled", Actor: "crew"}); err != nil {
		t.Fatal(err)
	}
	if rep, err := svc.ReporterFor(ctx, first.ServiceRequestID, "clerk"); err != nil || rep.Email != "marie@example.ca" {
		t.Errorf("ReporterFor = %+v, %v", rep, err)
	}
	evs, err := svc.Events(ctx, first.ServiceRequestID)
	if err != nil || len(evs) != 3 || evs[0].Kind != requests.EventCreated || evs[0].Actor != "key:1" ||
		evs[1].Kind != requests.EventStatus || evs[2].Kind != requests.EventReporterRead {
		t.Errorf("Events = %+v, %v; want created, status, reporter_read", evs, err)
	}
	open, _ := requests.Open311Statuses("open")
	rs, err := svc.List(ctx, requests.Filter{Statuses: open, ServiceCodes: []string{"pothole"}})
	if err != nil || len(rs) != 1+len(burst) {
		t.Errorf("open potholes = %v, %v; want %d", ids(rs), err, 1+len(burst))
	}
	for _, r := range rs {
		if r.ServiceRequestID == first.ServiceRequestID {
			t.Error("the closed request is listed as open")
		}
	}
	// A new report next to the closed first one joins dup's open cluster
	// (the first's ID), since dup is still open.
	advance(time.Minute)
	if r, err := svc.Submit(ctx, pothole(east(5))); err != nil || r.ClusterID != first.ServiceRequestID {
		t.Errorf("report next to a closed and an open duplicate = %+v, %v; want cluster %s", r, err, first.ServiceRequestID)
	}
}
