package api_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/requests"
	"github.com/prometheus/client_golang/prometheus"
)

// clusterWorld is the staff cluster API over a real store, with work
// orders for every department and a recorder in place of the tiles.
type clusterWorld struct {
	*world
	staffKey, integratorKey, otherKey string
	staffID                           int64
	outbox                            requests.OutboxStore
	a, b                              orb.Point // two places in wards, far apart
}

func newClusterWorld(t *testing.T, st store) *clusterWorld {
	t.Helper()
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
	ob, ok := st.(requests.OutboxStore)
	if !ok {
		t.Fatalf("%T keeps no work orders", st)
	}
	w := &clusterWorld{world: &world{t: t, store: st, reg: prometheus.NewRegistry()}, outbox: ob}
	// Two points in wards 1 km apart: two clusters.
	ix.Scan(func(a assets.Asset) bool {
		if _, ok := set.Locate(a.Point, time.Now()); !ok {
			return true
		}
		if w.a == (orb.Point{}) {
			w.a = a.Point
		} else if geo.Distance(w.a, a.Point) > 1000 {
			w.b = a.Point
			return false
		}
		return true
	})
	w.inside = w.a
	svc, err := requests.NewService(requests.ServiceConfig{
		Tenant: tenant, Catalog: cat, Wards: set, Assets: ix,
		Store: st, SendsWorkOrders: func(string) bool { return true },
	})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(ten string, role requests.Role) (string, int64) {
		key, hash := requests.NewAPIKey()
		k, err := st.CreateAPIKey(ctx, requests.Key{TenantID: ten, Role: role, Label: "test", Hash: hash, CreatedAt: time.Now().UTC()})
		if err != nil {
			t.Fatal(err)
		}
		return key, k.ID
	}
	w.staffKey, w.staffID = mk(tenant, requests.RoleStaff)
	w.integratorKey, _ = mk(tenant, requests.RoleIntegrator)
	w.otherKey, _ = mk("other-town", requests.RoleStaff)
	w.key = w.integratorKey
	h := api.New(api.Config{
		Service: svc, Keys: st, Jurisdiction: "sample.example",
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: w.reg, MaxBody: maxBody, WorkOrders: ob,
	})
	w.srv = httptest.NewServer(h)
	t.Cleanup(w.srv.Close)
	return w
}

// staff sends a request with the staff key (or key, when given).
func (w *clusterWorld) staff(method, path, body string, key ...string) response {
	w.t.Helper()
	k := w.staffKey
	if len(key) > 0 {
		k = key[0]
	}
	h := map[string]string{"X-Api-Key": k}
	var r io.Reader
	if body != "" {
		h["Content-Type"] = "application/json"
		r = strings.NewReader(body)
	}
	return w.do(method, path, r, h)
}

// report submits a pothole at p through Open311.
func (w *clusterWorld) report(p orb.Point, email string) string {
	w.t.Helper()
	f := w.pothole()
	f.Set("lat", ftoa(p[1]))
	f.Set("long", ftoa(p[0]))
	if email != "" {
		f.Set("email", email)
	}
	return w.submit(f)
}

type clusterDoc struct {
	ClusterID        string  `json:"cluster_id"`
	Category         string  `json:"category"`
	Ward             string  `json:"ward"`
	Status           string  `json:"status"`
	Lon              float64 `json:"lon"`
	Lat              float64 `json:"lat"`
	RequestCount     int     `json:"request_count"`
	OpenRequestCount int     `json:"open_request_count"`
	ReporterCount    int     `json:"reporter_count"`
	CreatedAt        string  `json:"created_at"`
	UpdatedAt        string  `json:"updated_at"`
	WorkOrderID      string  `json:"work_order_id"`
	Requests         []struct {
		ID     string `json:"service_request_id"`
		Status string `json:"status"`
	} `json:"requests"`
}

type changeDoc struct {
	Cluster          clusterDoc  `json:"cluster"`
	New              *clusterDoc `json:"new_cluster"`
	Merged           string      `json:"merged_cluster"`
	Changed          []string    `json:"changed_requests"`
	WorkOrderUpdated bool        `json:"work_order_updated"`
}

func (w *clusterWorld) list(query string) []clusterDoc {
	w.t.Helper()
	res := w.staff("GET", "/api/v1/clusters"+query, "")
	if res.status != http.StatusOK {
		w.t.Fatalf("GET clusters%s: %d %s", query, res.status, res.body)
	}
	var out []clusterDoc
	mustJSON(w.t, res.body, &out)
	return out
}

func docIDs(cs []clusterDoc) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ClusterID
	}
	return out
}

// open311 reads a request as a resident does.
func (w *clusterWorld) open311(id string) map[string]any {
	w.t.Helper()
	res := w.get("/open311/v2/requests/" + id + ".json")
	var out []map[string]any
	mustJSON(w.t, res.body, &out)
	if res.status != http.StatusOK || len(out) != 1 {
		w.t.Fatalf("GET request %s: %d %s", id, res.status, res.body)
	}
	return out[0]
}

func (w *clusterWorld) workOrders() map[string]requests.WorkOrder {
	w.t.Helper()
	wos, err := w.outbox.ListWorkOrders(context.Background(), requests.WorkOrderFilter{Tenant: tenant})
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string]requests.WorkOrder{}
	for _, o := range wos {
		if _, dup := out[o.ClusterID]; dup {
			w.t.Fatalf("two work orders for cluster %s: %+v", o.ClusterID, wos)
		}
		out[o.ClusterID] = o
	}
	return out
}

func TestClusterAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, base *world) {
		w := newClusterWorld(t, base.store)
		ctx := context.Background()
		r1 := w.report(w.a, "marie@example.ca")
		r2 := w.report(w.a, "")
		r3 := w.report(w.b, "")
		r4 := w.report(w.b, "luc@example.ca")
		A, B := r1, r3
		if got := w.open311(r2)["cluster_id"]; got != A {
			t.Fatalf("setup: %s in cluster %v, want %s", r2, got, A)
		}
		if got := w.open311(r4)["cluster_id"]; got != B {
			t.Fatalf("setup: %s in cluster %v, want %s", r4, got, B)
		}
		// Another municipality's cluster, in the same store.
		other, err := w.store.CreateRequest(ctx, requests.NewRequest{
			Request: requests.Request{TenantID: "other-town", ServiceCode: "pothole", Status: requests.New, Point: w.a,
				RequestedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC(), Token: "other-1"},
			Event: requests.Event{TenantID: "other-town", At: time.Now().UTC(), Actor: "x", Kind: requests.EventCreated, To: requests.New},
		})
		if err != nil {
			t.Fatal(err)
		}

		// Keys: none 401, integrator 403, another municipality's 403,
		// unknown 403; on every route.
		for _, route := range []struct{ method, path, body string }{
			{"GET", "/api/v1/clusters", ""},
			{"GET", "/api/v1/clusters/" + A, ""},
			{"POST", "/api/v1/clusters/" + B + "/merge", `{"into":"` + A + `"}`},
			{"POST", "/api/v1/clusters/" + A + "/split", `{"requests":["` + r2 + `"]}`},
			{"POST", "/api/v1/clusters/" + A + "/close", `{"note":"x"}`},
		} {
			res := w.do(route.method, route.path, strings.NewReader(route.body), map[string]string{"Content-Type": "application/json"})
			if e := checkError(t, res, http.StatusUnauthorized); e.Field != "api_key" {
				t.Errorf("%s %s without a key: %+v", route.method, route.path, e)
			}
			for _, k := range []string{w.integratorKey, w.otherKey, "pw_nope"} {
				checkError(t, w.staff(route.method, route.path, route.body, k), http.StatusForbidden)
			}
		}

		// List and filters.
		all := w.list("")
		if !slices.Equal(docIDs(all), []string{B, A}) {
			t.Fatalf("clusters %v, want newest first [%s %s]", docIDs(all), B, A)
		}
		ca := all[1]
		if ca.Category != "pothole" || ca.Status != "open" || ca.RequestCount != 2 || ca.OpenRequestCount != 2 || ca.ReporterCount != 1 ||
			ca.Lon != w.a[0] || ca.Lat != w.a[1] || ca.Ward == "" || ca.WorkOrderID == "" || ca.CreatedAt == "" || ca.UpdatedAt == "" {
			t.Errorf("cluster A %+v", ca)
		}
		nearA := geo.NewRuler(w.a[1]).Buffer(w.a, 50)
		bbox := "?bbox=" + ftoa(nearA.Min[0]) + "," + ftoa(nearA.Min[1]) + "," + ftoa(nearA.Max[0]) + "," + ftoa(nearA.Max[1])
		for q, want := range map[string][]string{
			bbox:                            {A},
			bbox + "&status=closed":         {},
			"?category=pothole&status=open": {B, A},
			"?category=graffiti":            {},
			"?ward=" + url.QueryEscape(ca.Ward) + "&category=pothole": func() []string {
				if all[0].Ward == ca.Ward {
					return []string{B, A}
				}
				return []string{A}
			}(),
			"?ward=nowhere":          {},
			"?page_size=1&page=2":    {A},
			"?page_size=1&page=3":    {},
			"?page=1&page_size=1000": {B, A},
		} {
			if got := docIDs(w.list(q)); !slices.Equal(got, want) {
				t.Errorf("GET clusters%s = %v, want %v", q, got, want)
			}
		}
		for q, field := range map[string]string{
			"?bbox=1,2,3":             "bbox",
			"?bbox=a,2,3,4":           "bbox",
			"?bbox=-73,46,-74,47":     "bbox",
			"?bbox=-73,46,-72,NaN":    "bbox",
			"?bbox=-200,46,-72,47":    "bbox",
			"?status=in_progress":     "status",
			"?category=nope":          "category",
			"?page=0":                 "page",
			"?page=abc":               "page",
			"?page_size=5000":         "page_size",
			"?page_size=-1":           "page_size",
			"?page=99999999999999999": "page",
		} {
			if e := checkError(t, w.staff("GET", "/api/v1/clusters"+q, ""), http.StatusBadRequest); e.Field != field {
				t.Errorf("GET clusters%s: field %q, want %q", q, e.Field, field)
			}
		}
		res := w.staff("GET", "/api/v1/clusters?status=shut&locale=fr", "")
		if e := checkError(t, res, http.StatusBadRequest); e.Description != e.DescriptionFr {
			t.Errorf("locale=fr answered %q", e.Description)
		}

		// Detail: the requests, no personal information.
		res = w.staff("GET", "/api/v1/clusters/"+A, "")
		if res.status != http.StatusOK || bytes.Contains(res.body, []byte("marie@")) || bytes.Contains(res.body, []byte("email")) {
			t.Fatalf("GET cluster A: %d %s", res.status, res.body)
		}
		var detail clusterDoc
		mustJSON(t, res.body, &detail)
		if detail.ClusterID != A || len(detail.Requests) != 2 || detail.Requests[0].ID != r1 || detail.Requests[1].ID != r2 {
			t.Errorf("cluster A detail %+v", detail)
		}
		for _, id := range []string{r2, "999999", "abc", other.ServiceRequestID} {
			checkError(t, w.staff("GET", "/api/v1/clusters/"+id, ""), http.StatusNotFound)
		}
		evs := func(id string) int {
			t.Helper()
			e, err := w.store.ListEvents(ctx, tenant, id)
			if err != nil {
				t.Fatal(err)
			}
			return len(e)
		}

		// Refused merges.
		for _, tc := range []struct {
			path, body string
			status     int
			field      string
		}{
			{"/api/v1/clusters/" + B + "/merge", `{"into":"` + B + `"}`, 400, "into"},
			{"/api/v1/clusters/" + B + "/merge", `{}`, 400, "into"},
			{"/api/v1/clusters/" + B + "/merge", ``, 400, "into"},
			{"/api/v1/clusters/" + B + "/merge", `{"into":{"id":1}}`, 400, ""},
			{"/api/v1/clusters/" + B + "/merge", `{"into":1.5}`, 400, ""},
			{"/api/v1/clusters/" + B + "/merge", `{"into":"` + A + `","force":true}`, 400, "force"},
			{"/api/v1/clusters/" + B + "/merge", `{"into":"` + A + `"} {}`, 400, ""},
			{"/api/v1/clusters/" + B + "/merge", `[`, 400, ""},
			{"/api/v1/clusters/999999/merge", `{"into":"` + A + `"}`, 404, "cluster_id"},
			{"/api/v1/clusters/" + B + "/merge", `{"into":"999999"}`, 404, "into"},
			{"/api/v1/clusters/" + B + "/merge", `{"into":"` + r2 + `"}`, 404, "into"},
			{"/api/v1/clusters/" + B + "/merge", `{"into":"` + other.ServiceRequestID + `"}`, 404, "into"},
		} {
			if e := checkError(t, w.staff("POST", tc.path, tc.body), tc.status); e.Field != tc.field {
				t.Errorf("POST %s %s: field %q, want %q", tc.path, tc.body, e.Field, tc.field)
			}
		}
		res = w.do("POST", "/api/v1/clusters/"+B+"/merge", strings.NewReader("into="+A),
			map[string]string{"X-Api-Key": w.staffKey, "Content-Type": "application/x-www-form-urlencoded"})
		checkError(t, res, http.StatusUnsupportedMediaType)
		if n := evs(r3); n != 1 {
			t.Errorf("refused merges wrote %d events", n-1)
		}

		// Merge B into A, the body as the staff map sends it.
		woBefore := w.workOrders()
		res = w.staff("POST", "/api/v1/clusters/"+B+"/merge", `{"into":"`+A+`"}`)
		if res.status != http.StatusOK {
			t.Fatalf("merge: %d %s", res.status, res.body)
		}
		var ch changeDoc
		mustJSON(t, res.body, &ch)
		if ch.Cluster.ClusterID != A || ch.Cluster.RequestCount != 4 || ch.Cluster.ReporterCount != 2 || ch.Merged != B ||
			!slices.Equal(ch.Changed, []string{r3, r4}) || !ch.WorkOrderUpdated {
			t.Errorf("merge answered %s", res.body)
		}
		if got := w.open311(r4)["cluster_id"]; got != A {
			t.Errorf("after the merge %s is in cluster %v", r4, got)
		}
		e, _ := w.store.ListEvents(ctx, tenant, r3)
		if last := e[len(e)-1]; last.Kind != requests.EventMerged || last.Actor != "key:"+itoa(w.staffID) {
			t.Errorf("merge event %+v", last)
		}
		wo := w.workOrders()
		if len(wo) != 2 || wo[A].ID != woBefore[A].ID || wo[A].RequestCount != 4 || wo[B].Status != requests.Closed {
			t.Errorf("work orders after the merge: %+v", wo)
		}
		checkError(t, w.staff("GET", "/api/v1/clusters/"+B, ""), http.StatusNotFound)

		// Split B's requests out again (IDs as numbers too).
		for _, tc := range []struct {
			body  string
			field string
		}{
			{`{"requests":[]}`, "requests"},
			{`{}`, "requests"},
			{`{"requests":["` + r1 + `"]}`, "requests"},                     // the anchor
			{`{"requests":["` + other.ServiceRequestID + `"]}`, "requests"}, // another tenant's
			{`{"requests":["999999"]}`, "requests"},
			{`{"requests":["x1"]}`, "requests"},
			{`{"requests":"` + r3 + `"}`, ""},
			{`{"into":"` + r3 + `"}`, "into"},
		} {
			if e := checkError(t, w.staff("POST", "/api/v1/clusters/"+A+"/split", tc.body), http.StatusBadRequest); e.Field != tc.field {
				t.Errorf("split %s: field %q, want %q", tc.body, e.Field, tc.field)
			}
		}
		checkError(t, w.staff("POST", "/api/v1/clusters/999999/split", `{"requests":["`+r3+`"]}`), http.StatusNotFound)
		res = w.staff("POST", "/api/v1/clusters/"+A+"/split", `{"requests":[`+r4+`,"`+r3+`"]}`)
		if res.status != http.StatusCreated || res.header.Get("Location") != "/api/v1/clusters/"+r3 {
			t.Fatalf("split: %d %v %s", res.status, res.header, res.body)
		}
		mustJSON(t, res.body, &ch)
		if ch.Cluster.RequestCount != 2 || ch.New == nil || ch.New.ClusterID != r3 || ch.New.RequestCount != 2 || !slices.Equal(ch.Changed, []string{r3, r4}) {
			t.Errorf("split answered %s", res.body)
		}
		if wo := w.workOrders(); len(wo) != 2 || wo[B].Status != requests.Reopened || wo[B].RequestCount != 2 {
			t.Errorf("work orders after the split: %+v", wo)
		}

		// Close A: the residents see it on their own requests.
		for body, field := range map[string]string{
			`{}`:                               "note",
			`{"note":"  "}`:                    "note",
			`{"note":"Filled","reason":"meh"}`: "reason",
			`{"note":"Filled","reason":""}`:    "reason",
			`{"note":"Filled","into":"1"}`:     "into",
		} {
			if e := checkError(t, w.staff("POST", "/api/v1/clusters/"+A+"/close", body), http.StatusBadRequest); e.Field != field {
				t.Errorf("close %s: field %q, want %q", body, e.Field, field)
			}
		}
		// Past every change committed so far: what comes after is the
		// close's.
		head, err := w.store.ChangesCommitted(context.Background(), tenant)
		if err != nil {
			t.Fatal(err)
		}
		res = w.staff("POST", "/api/v1/clusters/"+A+"/close", `{"note":"Filled on Tuesday","reason":"resolved"}`)
		if res.status != http.StatusOK {
			t.Fatalf("close: %d %s", res.status, res.body)
		}
		mustJSON(t, res.body, &ch)
		if ch.Cluster.Status != "closed" || ch.Cluster.OpenRequestCount != 0 || !slices.Equal(ch.Changed, []string{r1, r2}) || !ch.WorkOrderUpdated {
			t.Errorf("close answered %s", res.body)
		}
		for _, id := range []string{r1, r2} {
			if got := w.open311(id); got["status"] != "closed" || got["status_notes"] != "Filled on Tuesday" {
				t.Errorf("resident's view of %s after the close: %v", id, got)
			}
		}
		// The change stream has them: the closed requests leave every
		// server's map.
		// (PostgreSQL hands a change out once every older transaction has
		// ended: read up to what is committed now.)
		target, err := w.store.ChangesCommitted(context.Background(), tenant)
		if err != nil {
			t.Fatal(err)
		}
		var changed []string
		for deadline := time.Now().Add(10 * time.Second); head.Less(target) && time.Now().Before(deadline); {
			cs, next, err := w.store.Changes(context.Background(), tenant, head, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				if c.Kind == requests.ChangeRequest {
					changed = append(changed, c.Key)
				}
			}
			if head = next; len(cs) == 0 {
				time.Sleep(5 * time.Millisecond)
			}
		}
		slices.Sort(changed)
		want := []string{r1, r2}
		slices.Sort(want)
		if changed = slices.Compact(changed); !slices.Equal(changed, want) {
			t.Errorf("the change stream has %v, want %v", changed, want)
		}
		if wo := w.workOrders(); len(wo) != 2 || wo[A].Status != requests.Closed {
			t.Errorf("work orders after the close: %+v", wo)
		}
		// A closed cluster takes no change.
		checkError(t, w.staff("POST", "/api/v1/clusters/"+A+"/close", `{"note":"again"}`), http.StatusConflict)
		checkError(t, w.staff("POST", "/api/v1/clusters/"+B+"/merge", `{"into":`+A+`}`), http.StatusConflict)
		checkError(t, w.staff("POST", "/api/v1/clusters/"+A+"/merge", `{"into":"`+B+`"}`), http.StatusConflict)
		if got := docIDs(w.list("?status=closed")); !slices.Equal(got, []string{A}) {
			t.Errorf("closed clusters %v", got)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
