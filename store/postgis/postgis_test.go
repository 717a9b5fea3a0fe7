package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
	"github.com/pinward/pinward/store/storetest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// open returns a Store on a fresh database, closed when the test ends.
func open(t *testing.T) *postgis.Store {
	t.Helper()
	url := pgtest.URL(t)
	s, err := postgis.Open(ctxT(t), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close) // before pgtest drops the database
	return s
}

var (
	t0     = time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)
	centre = orb.Point{-73.55, 45.5}
)

func newReq(tenant, code string, p orb.Point, at time.Time, token string) requests.NewRequest {
	return requests.NewRequest{
		Request: requests.Request{
			TenantID: tenant, ServiceCode: code, Description: "broken", Status: requests.New,
			Point: p, Address: "1 Main St", WardID: "w1", Department: "roads",
			RequestedAt: at, UpdatedAt: at, Token: token, Lang: i18n.Fr, Channel: requests.ChannelAPI,
		},
		Event: requests.Event{At: at, Actor: "resident", Kind: requests.EventCreated, To: requests.New},
	}
}

func kindOf(t *testing.T, err error, want i18n.Kind) {
	t.Helper()
	var ie *i18n.Error
	if !errors.As(err, &ie) || ie.Kind != want {
		t.Fatalf("error %v (%T), want *i18n.Error of kind %s", err, err, want)
	}
}

func TestMigrationsIdempotentAndRaceSafe(t *testing.T) {
	url := pgtest.URL(t)
	ctx := ctxT(t)
	// Several servers starting together on an empty database.
	const n = 6
	stores := make([]*postgis.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = postgis.Open(ctx, url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	s := stores[0]
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	files, err := fs.Glob(os.DirFS("migrations"), "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var got int
	// goose records each version once (and its own version 0).
	if err := s.Pool().QueryRow(ctx, "SELECT count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0 AND is_applied").Scan(&got); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := s.Pool().QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if got != len(files) || got == 0 || rows != got {
		t.Errorf("goose_db_version has %d versions in %d rows, want %d once each", got, rows, len(files))
	}
}

func TestGeometryColumnForQGIS(t *testing.T) {
	s := open(t)
	ctx := ctxT(t)
	var srid int
	var typ string
	err := s.Pool().QueryRow(ctx, `SELECT srid, type FROM geometry_columns
		WHERE f_table_name = 'requests' AND f_geometry_column = 'geom'`).Scan(&srid, &typ)
	if err != nil {
		t.Fatalf("requests.geom not in geometry_columns: %v", err)
	}
	if srid != 4326 || typ != "POINT" {
		t.Errorf("requests.geom is %s SRID %d, want POINT 4326", typ, srid)
	}
	var gist bool
	err = s.Pool().QueryRow(ctx, `SELECT EXISTS (
		SELECT 1 FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid
		JOIN pg_am am ON am.oid = c.relam
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = 'requests'::regclass AND am.amname = 'gist' AND a.attname = 'geom')`).Scan(&gist)
	if err != nil || !gist {
		t.Errorf("no GiST index on requests.geom (err %v)", err)
	}
	// Every table holds a tenant_id, for Citus distribution later.
	var missing []string
	rows, err := s.Pool().Query(ctx, `SELECT t.table_name FROM information_schema.tables t
		WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE'
		  AND t.table_name NOT IN ('goose_db_version', 'spatial_ref_sys')
		  AND NOT EXISTS (SELECT 1 FROM information_schema.columns c
			WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name AND c.column_name = 'tenant_id')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		missing = append(missing, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("tables without tenant_id: %v", missing)
	}
}

func TestCreateGetList(t *testing.T) {
	s := open(t)
	ctx := ctxT(t)
	nr := newReq("a", "pothole", centre, t0, "tok1")
	nr.Request.Attributes = map[string]string{"depth": "12"}
	nr.Request.DueAt = t0.Add(48 * time.Hour)
	nr.Request.AssetLayer, nr.Request.AssetID, nr.Request.AssetDistanceM = "lights", "L-1", 3.25
	nr.Reporter = &requests.Reporter{FirstName: "Ada", Email: "ada@example.org"}
	r, err := s.CreateRequest(ctx, nr)
	if err != nil {
		t.Fatal(err)
	}
	if r.ServiceRequestID != requests.FormatServiceRequestID(r.ID) || r.ClusterID != r.ServiceRequestID {
		t.Errorf("ids: %+v", r)
	}
	want := nr.Request
	want.ID, want.ServiceRequestID, want.ClusterID = r.ID, r.ServiceRequestID, r.ServiceRequestID
	got, err := s.GetRequest(ctx, "a", r.ServiceRequestID)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []requests.Request{r, got} {
		if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", want) {
			t.Errorf("stored\n%+v\nwant\n%+v", g, want)
		}
	}
	if got, err := s.GetRequestByToken(ctx, "a", "tok1"); err != nil || got.ID != r.ID {
		t.Errorf("by token: %v %v", got.ID, err)
	}
	_, err = s.GetRequest(ctx, "b", r.ServiceRequestID) // another tenant
	kindOf(t, err, i18n.NotFound)
	_, err = s.GetRequest(ctx, "a", "x'; DROP TABLE requests")
	kindOf(t, err, i18n.NotFound)
	_, err = s.GetRequestByToken(ctx, "b", "tok1")
	kindOf(t, err, i18n.NotFound)

	// Two more, one later and one outside a bbox.
	far := orb.Point{centre[0] + 1, centre[1]}
	r2, err := s.CreateRequest(ctx, newReq("a", "graffiti", far, t0.Add(time.Hour), "tok2"))
	if err != nil {
		t.Fatal(err)
	}
	r3, err := s.CreateRequest(ctx, newReq("a", "pothole", centre, t0.Add(time.Hour), "tok3"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRequest(ctx, newReq("b", "pothole", centre, t0, "tok1")); err != nil {
		t.Fatal(err) // same token, other tenant
	}
	ids := func(rs []requests.Request) []int64 {
		var out []int64
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	edge := orb.Bound{Min: centre, Max: orb.Point{centre[0] + 0.5, centre[1] + 0.5}} // centre on its corner
	for name, tc := range map[string]struct {
		f    requests.Filter
		want []int64
	}{
		"all newest first": {requests.Filter{}, []int64{r3.ID, r2.ID, r.ID}},
		"limit offset":     {requests.Filter{Limit: 1, Offset: 1}, []int64{r2.ID}},
		"codes":            {requests.Filter{ServiceCodes: []string{"pothole"}}, []int64{r3.ID, r.ID}},
		"ids":              {requests.Filter{ServiceRequestIDs: []string{r.ServiceRequestID, "bogus"}}, []int64{r.ID}},
		"bad ids":          {requests.Filter{ServiceRequestIDs: []string{"bogus"}}, nil},
		"start inclusive":  {requests.Filter{Start: t0.Add(time.Hour)}, []int64{r3.ID, r2.ID}},
		"end inclusive":    {requests.Filter{End: t0}, []int64{r.ID}},
		"bbox edge":        {requests.Filter{BBox: &edge}, []int64{r3.ID, r.ID}},
		"status":           {requests.Filter{Statuses: []requests.Status{requests.Closed}}, nil},
		"ward":             {requests.Filter{WardID: "w1", ClusterID: r2.ClusterID}, []int64{r2.ID}},
	} {
		tc.f.Tenant = "a"
		got, err := s.ListRequests(ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(ids(got), tc.want) {
			t.Errorf("%s: got %v, want %v", name, ids(got), tc.want)
		}
	}
}

func TestIdempotency(t *testing.T) {
	s := open(t)
	ctx := ctxT(t)
	nr := newReq("a", "pothole", centre, t0, "tok")
	nr.IdempotencyKey, nr.Fingerprint = "k1", "fp1"
	first, err := s.CreateRequest(ctx, nr)
	if err != nil {
		t.Fatal(err)
	}
	nr.Request.Token = "tok-retry"
	again, err := s.CreateRequest(ctx, nr)
	if err != nil || again.ID != first.ID {
		t.Fatalf("retry: %v, id %d want %d", err, again.ID, first.ID)
	}
	nr.Fingerprint = "other"
	_, err = s.CreateRequest(ctx, nr)
	kindOf(t, err, requests.KindIdempotencyReused)

	// Concurrent submissions with one key make one request.
	const n = 8
	var wg sync.WaitGroup
	got := make([]requests.Request, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			nr := newReq("a", "graffiti", centre, t0, fmt.Sprint("race", i))
			nr.IdempotencyKey, nr.Fingerprint = "k2", "fp2"
			nr.Cluster = &requests.ClusterQuery{Tenant: "a", ServiceCodes: []string{"graffiti"}, Point: centre,
				DistanceM: 50, Bound: geo.NewRuler(centre[1]).Buffer(centre, 50)}
			got[i], errs[i] = s.CreateRequest(ctx, nr)
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("create %d: %v", i, errs[i])
		}
		if got[i].ID != got[0].ID {
			t.Errorf("create %d made request %d, another made %d", i, got[i].ID, got[0].ID)
		}
	}
	var count, events int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*), (SELECT count(*) FROM events WHERE request_id = $1)
		FROM requests WHERE idempotency_key = 'k2'`, got[0].ID).Scan(&count, &events); err != nil {
		t.Fatal(err)
	}
	if count != 1 || events != 1 {
		t.Errorf("%d requests and %d events for one key", count, events)
	}
}

// TestClusterSerialised submits many nearby duplicates at once, half
// through a second Store (a second server): they must all join one cluster.
func TestClusterSerialised(t *testing.T) {
	url := pgtest.URL(t)
	ctx := ctxT(t)
	var servers [2]*postgis.Store
	for i := range servers {
		s, err := postgis.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		servers[i] = s
	}
	ruler := geo.NewRuler(centre[1])
	const n = 16
	got := make([]requests.Request, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			p := orb.Point{centre[0] + float64(i)*1e-6, centre[1]}
			nr := newReq("a", "pothole", p, t0.Add(time.Duration(i)*time.Second), fmt.Sprint("t", i))
			nr.Cluster = &requests.ClusterQuery{Tenant: "a", ServiceCodes: []string{"pothole", "sinkhole"}, Point: p,
				DistanceM: 30, Bound: ruler.Buffer(p, 30), Since: t0.Add(-time.Hour)}
			got[i], errs[i] = servers[i%2].CreateRequest(ctx, nr)
		})
	}
	wg.Wait()
	clusters := map[string]int{}
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		clusters[got[i].ClusterID]++
	}
	if len(clusters) != 1 {
		t.Errorf("%d concurrent duplicates formed clusters %v, want one", n, clusters)
	}

	s := servers[0]
	base := got[0]
	p := base.Point
	q := func(p orb.Point) *requests.ClusterQuery {
		return &requests.ClusterQuery{Tenant: "a", ServiceCodes: []string{"pothole", "sinkhole"}, Point: p,
			DistanceM: 30, Bound: ruler.Buffer(p, 30), AssetLayer: "lights", AssetID: "L-9"}
	}
	// An equivalent code within the distance joins; far away starts anew.
	nr := newReq("a", "sinkhole", p, t0.Add(time.Hour), "near")
	nr.Cluster = q(p)
	near, err := s.CreateRequest(ctx, nr)
	if err != nil || near.ClusterID != base.ClusterID {
		t.Errorf("nearby sinkhole: cluster %q (err %v), want %q", near.ClusterID, err, base.ClusterID)
	}
	farP := orb.Point{p[0] + 0.01, p[1]}
	nr = newReq("a", "pothole", farP, t0.Add(time.Hour), "far")
	nr.Request.AssetLayer, nr.Request.AssetID = "lights", "L-9"
	nr.Cluster = q(farP)
	far, err := s.CreateRequest(ctx, nr)
	if err != nil || far.ClusterID != far.ServiceRequestID {
		t.Errorf("far pothole: cluster %q (err %v), want its own", far.ClusterID, err)
	}
	// Same asset joins whatever the distance.
	nr = newReq("a", "pothole", p, t0.Add(2*time.Hour), "asset")
	nr.Cluster = q(p)
	asset, err := s.CreateRequest(ctx, nr)
	if err != nil || asset.ClusterID != far.ClusterID {
		t.Errorf("same asset: cluster %q (err %v), want %q", asset.ClusterID, err, far.ClusterID)
	}
	// Closed requests are not candidates.
	if _, err := s.UpdateStatus(ctx, requests.StatusChange{Tenant: "a", ServiceRequestID: far.ServiceRequestID,
		To: requests.Closed, At: t0.Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateStatus(ctx, requests.StatusChange{Tenant: "a", ServiceRequestID: asset.ServiceRequestID,
		To: requests.Closed, At: t0.Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	nr = newReq("a", "pothole", farP, t0.Add(4*time.Hour), "after")
	nr.Cluster = q(farP)
	after, err := s.CreateRequest(ctx, nr)
	if err != nil || after.ClusterID != after.ServiceRequestID {
		t.Errorf("after close: cluster %q (err %v), want its own", after.ClusterID, err)
	}
}

func TestStatusEventsReporter(t *testing.T) {
	s := open(t)
	ctx := ctxT(t)
	nr := newReq("a", "pothole", centre, t0, "tok")
	nr.Reporter = &requests.Reporter{FirstName: "Ada", LastName: "L", Email: "a@x", Phone: "555", DeviceID: "d"}
	r, err := s.CreateRequest(ctx, nr)
	if err != nil {
		t.Fatal(err)
	}
	anon, err := s.CreateRequest(ctx, newReq("a", "pothole", centre, t0, "tok2"))
	if err != nil {
		t.Fatal(err)
	}
	id := r.ServiceRequestID

	// Racing changes from open: exactly one acknowledges, the others see
	// the new status and are refused.
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.UpdateStatus(ctx, requests.StatusChange{Tenant: "a", ServiceRequestID: id,
				To: requests.Acknowledged, Note: "seen", Actor: "staff", At: t0.Add(time.Minute)})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			kindOf(t, err, i18n.Conflict)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent open→acknowledged succeeded, want 1", ok)
	}
	up, err := s.UpdateStatus(ctx, requests.StatusChange{Tenant: "a", ServiceRequestID: id,
		To: requests.Closed, Note: "fixed", Actor: "crew", At: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if up.Status != requests.Closed || up.StatusNotes != "fixed" || !up.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("updated: %+v", up)
	}
	_, err = s.UpdateStatus(ctx, requests.StatusChange{Tenant: "a", ServiceRequestID: id, To: requests.InProgress, At: t0})
	kindOf(t, err, i18n.Conflict)
	_, err = s.UpdateStatus(ctx, requests.StatusChange{Tenant: "b", ServiceRequestID: id, To: requests.Closed, At: t0})
	kindOf(t, err, i18n.NotFound)

	rep, err := s.GetReporter(ctx, requests.ReporterAccess{Tenant: "a", ServiceRequestID: id, Actor: "clerk", At: t0.Add(2 * time.Hour)})
	if err != nil || rep != *nr.Reporter {
		t.Errorf("reporter %+v (err %v)", rep, err)
	}
	if rep, err := s.GetReporter(ctx, requests.ReporterAccess{Tenant: "a", ServiceRequestID: anon.ServiceRequestID,
		Actor: "clerk", At: t0}); err != nil || !rep.IsZero() {
		t.Errorf("anonymous reporter %+v (err %v)", rep, err)
	}
	_, err = s.GetReporter(ctx, requests.ReporterAccess{Tenant: "b", ServiceRequestID: id, Actor: "clerk", At: t0})
	kindOf(t, err, i18n.NotFound)

	evs, err := s.ListEvents(ctx, "a", id)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range evs {
		if e.TenantID != "a" || e.RequestID != r.ID {
			t.Errorf("event %+v", e)
		}
		kinds = append(kinds, fmt.Sprintf("%s:%s>%s:%s", e.Kind, e.From, e.To, e.Actor))
	}
	want := []string{"created:>new:resident", "status:new>acknowledged:staff", "status:acknowledged>closed:crew", "reporter_read:>:clerk"}
	if !slices.Equal(kinds, want) {
		t.Errorf("events %v, want %v", kinds, want)
	}
	_, err = s.ListEvents(ctx, "a", "999999")
	kindOf(t, err, i18n.NotFound)
}

func TestAPIKeys(t *testing.T) {
	s := open(t)
	ctx := ctxT(t)
	_, hash := requests.NewAPIKey()
	k, err := s.CreateAPIKey(ctx, requests.Key{TenantID: "a", Role: requests.RoleStaff, Label: "desk", Hash: hash, CreatedAt: t0})
	if err != nil || k.ID == 0 {
		t.Fatalf("create: %+v %v", k, err)
	}
	got, err := s.LookupAPIKey(ctx, hash)
	if err != nil || !reflect.DeepEqual(got, k) {
		t.Errorf("lookup %+v (err %v), want %+v", got, err, k)
	}
	_, err = s.CreateAPIKey(ctx, requests.Key{TenantID: "b", Role: requests.RoleAdmin, Hash: hash, CreatedAt: t0})
	kindOf(t, err, i18n.Conflict)
	_, err = s.LookupAPIKey(ctx, "nope")
	kindOf(t, err, i18n.NotFound)
}

func TestCancelledContext(t *testing.T) {
	s := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.ListRequests(ctx, requests.Filter{Tenant: "a"})
	if err == nil {
		t.Fatal("ListRequests on a cancelled context succeeded")
	}
	kindOf(t, err, i18n.Internal)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
}

// TestContract runs the suite both stores must pass, each subtest on a
// fresh database.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Stores {
		s := open(t)
		return storetest.Stores{Store: s}
	})
}

func TestOutbox(t *testing.T) {
	storetest.RunOutbox(t, func(t *testing.T) storetest.Stores {
		s := open(t)
		return storetest.Stores{Store: s}
	})
}

// TestContractTwoServers runs the suite against two Stores (two servers'
// pools) on one database: writes alternate between them and reads go
// through the other, so serialisation must hold in the database, not in
// one process.
func TestContractTwoServers(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Stores {
		url := pgtest.URL(t)
		var pair [2]*postgis.Store
		for i := range pair {
			s, err := postgis.Open(ctxT(t), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.Close)
			pair[i] = s
		}
		return storetest.Stores{Store: &twoServers{Store: pair[1], w: pair}}
	})
}

// twoServers reads through the embedded Store and spreads writes over w.
type twoServers struct {
	*postgis.Store
	w [2]*postgis.Store
	n atomic.Int64
}

func (s *twoServers) next() *postgis.Store { return s.w[s.n.Add(1)%2] }

func (s *twoServers) CreateRequest(ctx context.Context, nr requests.NewRequest) (requests.Request, error) {
	return s.next().CreateRequest(ctx, nr)
}

func (s *twoServers) UpdateStatus(ctx context.Context, c requests.StatusChange) (requests.Request, error) {
	return s.next().UpdateStatus(ctx, c)
}

func (s *twoServers) TransitionRequest(ctx context.Context, t requests.Transition) (requests.Request, error) {
	return s.next().TransitionRequest(ctx, t)
}

// BenchmarkCreateRequest measures concurrent intake with an idempotency
// key, a reporter and cluster assignment, as the API submits.
func BenchmarkCreateRequest(b *testing.B) {
	url := pgtest.URL(b)
	ctx := context.Background()
	s, err := postgis.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ruler := geo.NewRuler(centre[1])
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			p := orb.Point{centre[0] + float64(i%1000)*1e-4, centre[1] + float64(i/1000%100)*1e-4}
			nr := newReq("a", []string{"pothole", "graffiti", "streetlight"}[i%3], p, t0.Add(time.Duration(i)*time.Second), fmt.Sprint("t", i))
			nr.IdempotencyKey, nr.Fingerprint = fmt.Sprint("k", i), "fp"
			nr.Reporter = &requests.Reporter{Email: "a@example.org"}
			nr.Cluster = &requests.ClusterQuery{Tenant: "a", ServiceCodes: []string{nr.Request.ServiceCode}, Point: p,
				DistanceM: 30, Bound: ruler.Buffer(p, 30), Since: t0}
			if _, err := s.CreateRequest(ctx, nr); err != nil {
				b.Fatal(err)
			}
		}
	})
}
