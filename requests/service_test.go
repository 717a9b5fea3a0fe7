package requests

import (
	"cmp"
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/wards"
)

// memStore is the smallest Store that keeps the contract, for testing the
// Service. The real stores are tested by store/storetest.
type memStore struct {
	mu        sync.Mutex
	reqs      []Request
	reporters map[int64]Reporter
	events    []Event
	idem      map[string]idemEntry
	creates   int
}

type idemEntry struct {
	id int64
	fp string
}

func newMemStore() *memStore {
	return &memStore{reporters: map[int64]Reporter{}, idem: map[string]idemEntry{}}
}

func (m *memStore) CreateRequest(_ context.Context, nr NewRequest) (Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.creates++
	r := nr.Request
	key := r.TenantID + "\x00" + nr.IdempotencyKey
	if e, ok := m.idem[key]; ok && nr.IdempotencyKey != "" {
		if e.fp != nr.Fingerprint {
			return Request{}, IdempotencyConflictError()
		}
		return m.reqs[e.id-1], nil
	}
	if nr.Cluster != nil {
		r.ClusterID = nr.Cluster.Pick(m.reqs)
	}
	r.ID = int64(len(m.reqs) + 1)
	r.ServiceRequestID = FormatServiceRequestID(r.ID)
	if r.ClusterID == "" {
		r.ClusterID = r.ServiceRequestID
	}
	m.reqs = append(m.reqs, r)
	if nr.Reporter != nil && !nr.Reporter.IsZero() {
		m.reporters[r.ID] = *nr.Reporter
	}
	ev := nr.Event
	ev.RequestID, ev.TenantID = r.ID, r.TenantID
	m.addEvent(ev)
	if nr.IdempotencyKey != "" {
		m.idem[key] = idemEntry{r.ID, nr.Fingerprint}
	}
	return r, nil
}

func (m *memStore) addEvent(ev Event) {
	ev.ID = int64(len(m.events) + 1)
	m.events = append(m.events, ev)
}

func (m *memStore) find(tenant, id string) (*Request, error) {
	for i := range m.reqs {
		if r := &m.reqs[i]; r.TenantID == tenant && r.ServiceRequestID == id {
			return r, nil
		}
	}
	return nil, RequestNotFoundError(id)
}

func (m *memStore) GetRequest(_ context.Context, tenant, id string) (Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.find(tenant, id)
	if err != nil {
		return Request{}, err
	}
	return *r, nil
}

func (m *memStore) GetRequestByToken(_ context.Context, tenant, token string) (Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.reqs {
		if r.TenantID == tenant && r.Token == token {
			return r, nil
		}
	}
	return Request{}, TokenNotFoundError()
}

func (m *memStore) ListRequests(_ context.Context, f Filter) ([]Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Request
	for _, r := range m.reqs {
		if r.TenantID == f.Tenant && (len(f.Statuses) == 0 || slices.Contains(f.Statuses, r.Status)) &&
			(len(f.ServiceCodes) == 0 || slices.Contains(f.ServiceCodes, r.ServiceCode)) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Request) int {
		return cmp.Or(b.RequestedAt.Compare(a.RequestedAt), cmp.Compare(b.ID, a.ID))
	})
	return out[min(f.Offset, len(out)):min(f.Offset+f.Limit, len(out))], nil
}

func (m *memStore) UpdateStatus(ctx context.Context, c StatusChange) (Request, error) {
	return m.TransitionRequest(ctx, c.Transition())
}

func (m *memStore) ListEvents(_ context.Context, tenant, id string) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.find(tenant, id)
	if err != nil {
		return nil, err
	}
	var out []Event
	for _, e := range m.events {
		if e.RequestID == r.ID {
			out = append(out, e)
		}
	}
	return out, nil
}

// ReportRows: reports are tested on the real stores (store/storetest).
func (m *memStore) ReportRows(context.Context, string, ReportQuery) ([]ReportRow, ReportRow, error) {
	return nil, ReportRow{}, errors.New("memStore: no reports")
}

func (m *memStore) GetReporter(_ context.Context, a ReporterAccess) (Reporter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.find(a.Tenant, a.ServiceRequestID)
	if err != nil {
		return Reporter{}, err
	}
	m.addEvent(Event{TenantID: a.Tenant, RequestID: r.ID, At: a.At, Actor: a.Actor, Kind: EventReporterRead})
	return m.reporters[r.ID], nil
}

// The test town: ward 1 west of -73.1, ward 2 east of it, a streetlight in
// ward 2 (whose streetlights a contractor maintains).
var (
	inWard1     = orb.Point{-73.15, 46.05}
	streetlight = orb.Point{-73.05, 46.05}
)

func box(minX, minY, maxX, maxY float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{minX, minY}, {maxX, minY}, {maxX, maxY}, {minX, maxY}, {minX, minY}}}}
}

// offset moves p by metres east and north.
func offset(p orb.Point, east, north float64) orb.Point {
	b := geo.NewRuler(p[1]).Buffer(p, 1)
	return orb.Point{p[0] + east*(b.Max[0]-p[0]), p[1] + north*(b.Max[1]-p[1])}
}

type world struct {
	svc   *Service
	store *memStore
	now   time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	gen, err := wards.NewGeneration([]wards.Ward{
		{ID: "1", Name: i18n.T("West", "Ouest"), Geometry: box(-73.2, 46.0, -73.1, 46.1)},
		{ID: "2", Name: i18n.T("East", "Est"), Geometry: box(-73.1, 46.0, -73.0, 46.1)},
	}, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	set, err := wards.NewSet(gen)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := assets.NewIndex([]assets.Asset{
		{Layer: "streetlight", ID: "SL-1", Point: streetlight},
		{Layer: "hydrant", ID: "HY-1", Point: offset(streetlight, 2, 0)}, // nearer, but not a streetlight
	})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{store: newMemStore(), now: time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)} // Tue 09:00 in Toronto
	w.svc, err = NewService(ServiceConfig{
		Tenant: "sample", Catalog: loadTest(t), Wards: set, Assets: ix, Store: w.store,
		Now: func() time.Time { return w.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func pt(p orb.Point) *orb.Point { return &p }

func pothole(p orb.Point) Submission {
	return Submission{ServiceCode: "pothole", Point: pt(p), Attributes: map[string][]string{"size": {"large"}}}
}

func (w *world) submit(t *testing.T, sub Submission) Request {
	t.Helper()
	r, err := w.svc.Submit(context.Background(), sub)
	if err != nil {
		t.Fatalf("Submit(%+v): %v", sub, err)
	}
	return r
}

func TestSubmit(t *testing.T) {
	w := newWorld(t)
	sub := Submission{
		ServiceCode: "pothole",
		Point:       pt(inWard1),
		Address:     " 12 Main St ",
		Description: "Deep one.\nNear the school.",
		Attributes: map[string][]string{
			"size": {"small"}, "depth": {"12.50"}, "seen_at": {"2026-03-02 21:30"},
			"lanes": {"right", "left", "right"}, "plate": {""}, "notes": {"multi\nline"},
		},
		Reporter: Reporter{FirstName: "Émilie ", LastName: "Tremblay", Email: " emilie@example.ca", Phone: "+1 (819) 555-0100"},
		MediaURL: "https://example.ca/p.jpg",
		Lang:     i18n.Fr,
		Actor:    "key:7",
	}
	r := w.submit(t, sub)
	want := Request{
		ID: 1, ServiceRequestID: "1", TenantID: "sample", ServiceCode: "pothole",
		Description: "Deep one.\nNear the school.", Status: New, Point: inWard1, Address: "12 Main St",
		WardID: "1", ClusterID: "1", Department: "public_works",
		RequestedAt: w.now, UpdatedAt: w.now,
		DueAt: time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC), // 40 business hours, see TestDueAtTimeZone
		Attributes: map[string]string{
			"size": "small", "depth": "12.5", "seen_at": "2026-03-02T21:30:00-05:00",
			"lanes": "right,left", "notes": "multi\nline",
		},
		MediaURL: "https://example.ca/p.jpg", Token: r.Token, Lang: i18n.Fr, Channel: ChannelAPI,
	}
	if len(r.Token) != 26 {
		t.Errorf("token %q, want 26 base32 characters", r.Token)
	}
	if !equalRequest(r, want) {
		t.Errorf("Submit =\n%+v\nwant\n%+v", r, want)
	}
	ctx := context.Background()
	if got, err := w.svc.Get(ctx, "1"); err != nil || !equalRequest(got, want) {
		t.Errorf("Get = %+v, %v", got, err)
	}
	if got, err := w.svc.GetByToken(ctx, r.Token); err != nil || got.ID != 1 {
		t.Errorf("GetByToken = %+v, %v", got, err)
	}
	evs, err := w.svc.Events(ctx, "1")
	if err != nil || len(evs) != 1 || evs[0].Kind != EventCreated || evs[0].Actor != "key:7" || evs[0].To != New || !evs[0].At.Equal(w.now) {
		t.Errorf("Events = %+v, %v; want one created event by key:7", evs, err)
	}
	rep, err := w.svc.ReporterFor(ctx, "1", "clerk@city")
	if err != nil || rep != (Reporter{FirstName: "Émilie", LastName: "Tremblay", Email: "emilie@example.ca", Phone: "+1 (819) 555-0100"}) {
		t.Errorf("ReporterFor = %+v, %v", rep, err)
	}
	if evs, _ := w.svc.Events(ctx, "1"); len(evs) != 2 || evs[1].Kind != EventReporterRead || evs[1].Actor != "clerk@city" {
		t.Errorf("the reporter read was not logged: %+v", evs)
	}
	if _, err := w.svc.ReporterFor(ctx, "1", ""); i18n.KindOf(err) != i18n.Invalid {
		t.Errorf("ReporterFor without an actor: %v", err)
	}
}

func equalRequest(a, b Request) bool { return reflect.DeepEqual(a, b) }

func TestSubmitAssetAndWardRouting(t *testing.T) {
	w := newWorld(t)
	r := w.submit(t, Submission{ServiceCode: "streetlight_out", Point: pt(offset(streetlight, -12, 5))})
	if r.AssetLayer != "streetlight" || r.AssetID != "SL-1" || math.Abs(r.AssetDistanceM-13) > 0.01 {
		t.Errorf("asset %s/%s at %g m, want streetlight/SL-1 at 13 m", r.AssetLayer, r.AssetID, r.AssetDistanceM)
	}
	if r.WardID != "2" || r.Department != "contractor" {
		t.Errorf("ward %s department %s, want ward 2's override contractor", r.WardID, r.Department)
	}
	if want := w.now.Add(24 * time.Hour); !r.DueAt.Equal(want) {
		t.Errorf("due %v, want calendar 24 h %v", r.DueAt, want)
	}
	far := w.submit(t, Submission{ServiceCode: "streetlight_out", Point: pt(offset(streetlight, 0, 31))})
	if far.AssetID != "" || far.AssetDistanceM != 0 {
		t.Errorf("a report 31 m from the only streetlight snapped to %q at %g m", far.AssetID, far.AssetDistanceM)
	}
	if p := w.submit(t, pothole(streetlight)); p.AssetID != "" {
		t.Errorf("a pothole (no asset layers) snapped to %q", p.AssetID)
	}
}

func TestSubmitClusters(t *testing.T) {
	w := newWorld(t)
	first := w.submit(t, pothole(inWard1))
	w.now = w.now.Add(time.Hour)
	dup := w.submit(t, pothole(offset(inWard1, 10, 10)))
	equiv := w.submit(t, Submission{ServiceCode: "road_damage", Point: pt(offset(inWard1, -20, 0)),
		Attributes: nil})
	apart := w.submit(t, pothole(offset(inWard1, 100, 0)))
	if dup.ClusterID != first.ServiceRequestID || equiv.ClusterID != first.ServiceRequestID {
		t.Errorf("duplicate in cluster %s, equivalent in %s; want both in %s", dup.ClusterID, equiv.ClusterID, first.ServiceRequestID)
	}
	if apart.ClusterID != apart.ServiceRequestID {
		t.Errorf("a pothole 100 m away joined cluster %s", apart.ClusterID)
	}

	// Past the 14-day window the old cluster is no longer joinable.
	w.now = w.now.Add(15 * 24 * time.Hour)
	late := w.submit(t, pothole(offset(inWard1, 5, 0)))
	if late.ClusterID != late.ServiceRequestID {
		t.Errorf("a pothole after the window joined cluster %s", late.ClusterID)
	}
	// A closed request is not joined either.
	ctx := context.Background()
	if _, err := w.svc.UpdateStatus(ctx, StatusUpdate{ServiceRequestID: late.ServiceRequestID, To: Closed, Note: "Filled", Actor: "crew"}); err != nil {
		t.Fatal(err)
	}
	if again := w.submit(t, pothole(offset(inWard1, 5, 0))); again.ClusterID != again.ServiceRequestID {
		t.Errorf("a pothole next to a closed one joined cluster %s", again.ClusterID)
	}

	// Two reports naming the same streetlight from opposite sides, 50 m
	// apart, are one issue.
	a := w.submit(t, Submission{ServiceCode: "streetlight_out", Point: pt(offset(streetlight, -25, 0))})
	b := w.submit(t, Submission{ServiceCode: "streetlight_out", Point: pt(offset(streetlight, 25, 0))})
	if a.AssetID != "SL-1" || b.ClusterID != a.ServiceRequestID {
		t.Errorf("same-asset reports: %s in cluster %s, want %s", b.ServiceRequestID, b.ClusterID, a.ServiceRequestID)
	}
}

func TestSubmitOutside(t *testing.T) {
	w := newWorld(t)
	_, err := w.svc.Submit(context.Background(), pothole(orb.Point{-72.5, 46.05}))
	if i18n.KindOf(err) != i18n.Outside || !strings.Contains(i18n.MessageOf(err).Fr, "extérieur") {
		t.Errorf("outside: %v (kind %s), want wards.OutsideError", err, i18n.KindOf(err))
	}
	// Lat and long exchanged: (46.05, -73.15) is in range but in no ward;
	// the other way round it is in ward 1.
	_, err = w.svc.Submit(context.Background(), pothole(orb.Point{inWard1[1], inWard1[0]}))
	var e *i18n.Error
	if !errors.As(err, &e) || e.Kind != i18n.Invalid || e.Field != "lat" || !strings.Contains(e.Message.En, "swapped") {
		t.Errorf("swapped: %v, want an invalid lat error saying swapped", err)
	}
	if w.store.creates != 0 {
		t.Errorf("%d creates for refused submissions", w.store.creates)
	}
}

func TestSubmitInvalid(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) }
	attrs := func(kv ...string) map[string][]string {
		m := map[string][]string{"size": {"large"}}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = append(m[kv[i]], kv[i+1])
		}
		return m
	}
	for _, tc := range []struct {
		name  string
		edit  func(*Submission)
		field string
	}{
		{"no service_code", func(s *Submission) { s.ServiceCode = "" }, "service_code"},
		{"unknown service_code", func(s *Submission) { s.ServiceCode = "potholes" }, "service_code"},
		{"no location", func(s *Submission) { s.Point = nil }, "lat"},
		{"NaN lat", func(s *Submission) { s.Point = pt(orb.Point{-73.15, math.NaN()}) }, "lat"},
		{"NaN long", func(s *Submission) { s.Point = pt(orb.Point{math.NaN(), 46.05}) }, "long"},
		{"infinite long", func(s *Submission) { s.Point = pt(orb.Point{math.Inf(-1), 46.05}) }, "long"},
		{"lat out of range", func(s *Submission) { s.Point = pt(orb.Point{-73.15, 91}) }, "lat"},
		{"long out of range", func(s *Submission) { s.Point = pt(orb.Point{-181, 46.05}) }, "long"},
		{"lat out of range, swapped", func(s *Submission) { s.Point = pt(orb.Point{46.05, -173.15}) }, "lat"},
		{"description too long", func(s *Submission) { s.Description = long(MaxDescriptionLen + 1) }, "description"},
		{"description with NUL", func(s *Submission) { s.Description = "a\x00b" }, "description"},
		{"description not UTF-8", func(s *Submission) { s.Description = "caf\xe9" }, "description"},
		{"address too long", func(s *Submission) { s.Address = long(MaxAddressLen + 1) }, "address_string"},
		{"address with a line break", func(s *Submission) { s.Address = "12 Main\nSt" }, "address_string"},
		{"unknown attribute", func(s *Submission) { s.Attributes = attrs("colour", "red") }, "attribute[colour]"},
		{"missing required attribute", func(s *Submission) { s.Attributes = nil }, "attribute[size]"},
		{"blank required attribute", func(s *Submission) { s.Attributes = map[string][]string{"size": {"  "}} }, "attribute[size]"},
		{"value not in the list", func(s *Submission) { s.Attributes = map[string][]string{"size": {"huge"}} }, "attribute[size]"},
		{"two values for a single list", func(s *Submission) { s.Attributes = map[string][]string{"size": {"small", "large"}} }, "attribute[size]"},
		{"number not a number", func(s *Submission) { s.Attributes = attrs("depth", "deep") }, "attribute[depth]"},
		{"number NaN", func(s *Submission) { s.Attributes = attrs("depth", "NaN") }, "attribute[depth]"},
		{"number infinite", func(s *Submission) { s.Attributes = attrs("depth", "1e999") }, "attribute[depth]"},
		{"datetime not a date", func(s *Submission) { s.Attributes = attrs("seen_at", "yesterday") }, "attribute[seen_at]"},
		{"multivalue not in the list", func(s *Submission) { s.Attributes = attrs("lanes", "left", "lanes", "middle") }, "attribute[lanes]"},
		{"string too long", func(s *Submission) { s.Attributes = attrs("plate", long(MaxStringLen+1)) }, "attribute[plate]"},
		{"string with a line break", func(s *Submission) { s.Attributes = attrs("plate", "AB\nC") }, "attribute[plate]"},
		{"text too long", func(s *Submission) { s.Attributes = attrs("notes", long(MaxTextLen+1)) }, "attribute[notes]"},
		{"informational with a value", func(s *Submission) { s.Attributes = attrs("warning", "ok") }, "attribute[warning]"},
		{"media_url not http", func(s *Submission) { s.MediaURL = "ftp://example.ca/p.jpg" }, "media_url"},
		{"media_url not a URL", func(s *Submission) { s.MediaURL = "photo.jpg" }, "media_url"},
		{"email without @", func(s *Submission) { s.Reporter.Email = "emilie" }, "email"},
		{"email with a name", func(s *Submission) { s.Reporter.Email = "Émilie <emilie@example.ca>" }, "email"},
		{"email without a domain dot", func(s *Submission) { s.Reporter.Email = "emilie@localhost" }, "email"},
		{"phone too short", func(s *Submission) { s.Reporter.Phone = "555-01" }, "phone"},
		{"phone in words", func(s *Submission) { s.Reporter.Phone = "call me maybe" }, "phone"},
		{"phone too long", func(s *Submission) { s.Reporter.Phone = "+1 819 555 0100 1234 5678" }, "phone"},
		{"first name too long", func(s *Submission) { s.Reporter.FirstName = long(MaxNameLen + 1) }, "first_name"},
		{"last name with a tab", func(s *Submission) { s.Reporter.LastName = "A\tB" }, "last_name"},
		{"device ID too long", func(s *Submission) { s.Reporter.DeviceID = long(MaxKeyLen + 1) }, "device_id"},
		{"unknown language", func(s *Submission) { s.Lang = "de" }, "locale"},
		{"idempotency key too long", func(s *Submission) { s.IdempotencyKey = long(MaxKeyLen + 1) }, "Idempotency-Key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			sub := pothole(inWard1)
			tc.edit(&sub)
			_, err := w.svc.Submit(context.Background(), sub)
			var e *i18n.Error
			if !errors.As(err, &e) {
				t.Fatalf("Submit error = %v, want an *i18n.Error", err)
			}
			if e.Kind != i18n.Invalid || e.Field != tc.field {
				t.Errorf("kind %s field %q (%v); want invalid, field %q", e.Kind, e.Field, err, tc.field)
			}
			if e.Message.En == "" || e.Message.Fr == "" || e.Message.En == e.Message.Fr {
				t.Errorf("message not bilingual: %+v", e.Message)
			}
			if w.store.creates != 0 {
				t.Error("an invalid submission reached the store")
			}
		})
	}
}

func TestSubmitAcceptsCommonForms(t *testing.T) {
	w := newWorld(t)
	for _, phone := range []string{"+1 (819) 555-0100", "819.555.0100", "8195550100", "555-0100 poste 12", "819-555-0100 ext. 3", "819 555 0100 x12"} {
		sub := pothole(inWard1)
		sub.Reporter.Phone = phone
		if _, err := w.svc.Submit(context.Background(), sub); err != nil {
			t.Errorf("phone %q refused: %v", phone, err)
		}
	}
	for _, dt := range []string{"2026-03-02T21:30:00Z", "2026-03-02T21:30:00.5-05:00", "2026-03-02T21:30", "2026-03-02 21:30:15", "2026-03-02"} {
		sub := pothole(inWard1)
		sub.Attributes["seen_at"] = []string{dt}
		if _, err := w.svc.Submit(context.Background(), sub); err != nil {
			t.Errorf("datetime %q refused: %v", dt, err)
		}
	}
}

func TestSubmitIdempotent(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	sub := pothole(inWard1)
	sub.IdempotencyKey = "retry-1"
	a := w.submit(t, sub)
	w.now = w.now.Add(time.Second)
	b := w.submit(t, sub)
	if !equalRequest(a, b) || len(w.store.reqs) != 1 {
		t.Errorf("retry gave %+v, first %+v; %d stored", b, a, len(w.store.reqs))
	}
	sub.Description = "another one"
	if _, err := w.svc.Submit(ctx, sub); i18n.KindOf(err) != KindIdempotencyReused {
		t.Errorf("key reused for another submission: %v, want a conflict", err)
	}
	sub.IdempotencyKey = "retry-2"
	if c := w.submit(t, sub); c.ID == a.ID {
		t.Error("a new key returned the old request")
	}
}

func TestUpdateStatus(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := w.submit(t, pothole(inWard1))
	w.now = w.now.Add(time.Hour)
	up, err := w.svc.UpdateStatus(ctx, StatusUpdate{ServiceRequestID: r.ServiceRequestID, To: Acknowledged, Note: " Crew booked ", Actor: "dispatch"})
	if err != nil || up.Status != Acknowledged || up.StatusNotes != "Crew booked" || !up.UpdatedAt.Equal(w.now) {
		t.Fatalf("UpdateStatus = %+v, %v", up, err)
	}
	evs, _ := w.svc.Events(ctx, r.ServiceRequestID)
	if len(evs) != 2 || evs[1].Kind != EventStatus || evs[1].From != New || evs[1].To != Acknowledged || evs[1].Actor != "dispatch" {
		t.Errorf("events %+v", evs)
	}
	for _, tc := range []struct {
		name string
		u    StatusUpdate
		kind i18n.Kind
	}{
		{"backwards", StatusUpdate{To: New, Actor: "x"}, i18n.Conflict},
		{"same status", StatusUpdate{To: Acknowledged, Actor: "x"}, i18n.Conflict},
		{"close without a reason", StatusUpdate{To: Closed, Actor: "x"}, i18n.Invalid},
		{"unknown status", StatusUpdate{To: "done", Actor: "x"}, i18n.Invalid},
		{"no actor", StatusUpdate{To: InProgress}, i18n.Invalid},
		{"note too long", StatusUpdate{To: Closed, Note: strings.Repeat("x", MaxTextLen+1), Actor: "x"}, i18n.Invalid},
		{"unknown request", StatusUpdate{ServiceRequestID: "999", To: InProgress, Actor: "x"}, i18n.NotFound},
		{"malformed ID", StatusUpdate{ServiceRequestID: "PW-1", To: InProgress, Actor: "x"}, i18n.NotFound},
	} {
		if tc.u.ServiceRequestID == "" {
			tc.u.ServiceRequestID = r.ServiceRequestID
		}
		if _, err := w.svc.UpdateStatus(ctx, tc.u); i18n.KindOf(err) != tc.kind {
			t.Errorf("%s: %v, want kind %s", tc.name, err, tc.kind)
		}
	}
	if got, _ := w.svc.Get(ctx, r.ServiceRequestID); got.Status != Acknowledged {
		t.Errorf("refused changes moved the request to %s", got.Status)
	}
}

func TestGetAndList(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for i := range 3 {
		w.now = w.now.Add(time.Minute)
		w.submit(t, pothole(offset(inWard1, float64(100*i), 0)))
	}
	got, err := w.svc.List(ctx, Filter{Limit: 2, Tenant: "someone else"})
	if err != nil || len(got) != 2 || got[0].ServiceRequestID != "3" || got[1].ServiceRequestID != "2" {
		t.Errorf("List = %+v, %v; want 3, 2 (newest first, the Service's tenant)", got, err)
	}
	if got, _ := w.svc.List(ctx, Filter{}); len(got) != 3 {
		t.Errorf("List without a limit returned %d", len(got))
	}
	for name, f := range map[string]Filter{
		"end before start": {Start: w.now, End: w.now.Add(-time.Second)},
		"unknown status":   {Statuses: []Status{"pending"}},
		"negative offset":  {Offset: -1},
	} {
		if _, err := w.svc.List(ctx, f); i18n.KindOf(err) != i18n.Invalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	for _, id := range []string{"", "abc", "0", "4"} {
		if _, err := w.svc.Get(ctx, id); i18n.KindOf(err) != i18n.NotFound {
			t.Errorf("Get(%q): %v, want not found", id, err)
		}
	}
	if _, err := w.svc.GetByToken(ctx, "nope"); i18n.KindOf(err) != i18n.NotFound {
		t.Errorf("GetByToken: %v, want not found", err)
	}
}

func TestNewService(t *testing.T) {
	c := loadTest(t)
	set := &wards.Set{}
	for name, cfg := range map[string]ServiceConfig{
		"no tenant":  {Catalog: c, Wards: set, Store: newMemStore()},
		"no catalog": {Tenant: "t", Wards: set, Store: newMemStore()},
		"no wards":   {Tenant: "t", Catalog: c, Store: newMemStore()},
		"no store":   {Tenant: "t", Catalog: c, Wards: set},
	} {
		if _, err := NewService(cfg); err == nil {
			t.Errorf("%s: NewService accepted it", name)
		}
	}
}
