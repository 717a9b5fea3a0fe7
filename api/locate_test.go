package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/web"
	"github.com/prometheus/client_golang/prometheus"
)

type locateAnswer struct {
	Ward *struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		NameEn string `json:"name_en"`
		NameFr string `json:"name_fr"`
	} `json:"ward"`
	Asset *struct {
		ID        string  `json:"id"`
		Layer     string  `json:"layer"`
		DistanceM float64 `json:"distance_m"`
	} `json:"asset"`
	Nearby []struct {
		ClusterID   string  `json:"cluster_id"`
		ServiceCode string  `json:"service_code"`
		ServiceName string  `json:"service_name"`
		Status      string  `json:"status"`
		Count       int     `json:"count"`
		DistanceM   float64 `json:"distance_m"`
	} `json:"nearby"`
	Joins string `json:"joins"`
}

func (w *world) locate(q string) locateAnswer {
	w.t.Helper()
	res := w.get("/api/v1/locate?" + q)
	if res.status != http.StatusOK {
		w.t.Fatalf("locate %s: %d %s", q, res.status, res.body)
	}
	var a locateAnswer
	mustJSON(w.t, res.body, &a)
	return a
}

func TestLocate(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		at := fmt.Sprintf("lat=%s&long=%s", ftoa(w.inside[1]), ftoa(w.inside[0]))

		a := w.locate(at)
		if a.Ward == nil || a.Ward.ID == "" || a.Asset != nil || len(a.Nearby) != 0 || a.Joins != "" {
			t.Fatalf("without a category: %+v", a)
		}
		fr := w.locate(at + "&locale=fr")
		if fr.Ward.Name != fr.Ward.NameFr || a.Ward.Name != a.Ward.NameEn {
			t.Errorf("ward names: en %+v, fr %+v", a.Ward, fr.Ward)
		}

		a = w.locate(at + "&service_code=streetlight_out")
		if a.Asset == nil || a.Asset.Layer != "streetlight" || a.Asset.DistanceM != 0 || len(a.Nearby) != 0 {
			t.Fatalf("streetlight_out at a streetlight: %+v", a)
		}
		light := url.Values{"api_key": {w.key}, "service_code": {"streetlight_out"}, "lat": {ftoa(w.inside[1])},
			"long": {ftoa(w.inside[0] + 0.0002)}, "attribute[problem]": {"out"}, "description": {"dark"}}
		first := w.submit(light)
		a = w.locate(at + "&service_code=streetlight_out&locale=fr")
		if len(a.Nearby) != 1 || a.Nearby[0].ClusterID != first || a.Nearby[0].Count != 1 || a.Joins != first ||
			a.Nearby[0].Status != "new" || a.Nearby[0].ServiceName != "Lampadaire défectueux" || a.Nearby[0].DistanceM < 10 {
			t.Fatalf("after one report 15 m away: %+v", a)
		}
		w.submit(light)
		if a = w.locate(at + "&service_code=streetlight_out"); len(a.Nearby) != 1 || a.Nearby[0].Count != 2 {
			t.Errorf("after two reports: %+v", a)
		}
		// Another category is another issue.
		if a = w.locate(at + "&service_code=pothole"); len(a.Nearby) != 0 || a.Asset != nil || a.Joins != "" {
			t.Errorf("pothole where streetlights were reported: %+v", a)
		}
		// Far away (in the same ward), nothing is offered.
		if a = w.locate(fmt.Sprintf("lat=%s&long=%s&service_code=streetlight_out", ftoa(w.inside[1]+0.003), ftoa(w.inside[0]))); len(a.Nearby) != 0 {
			t.Errorf("330 m away: %+v", a)
		}
	})
}

func TestLocateBadInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		before := w.count()
		at := fmt.Sprintf("lat=%s&long=%s", ftoa(w.inside[1]), ftoa(w.inside[0]))
		for _, c := range []struct{ q, kind, field string }{
			{"", "invalid", "lat"},
			{"lat=46", "invalid", "long"},
			{"lat=abc&long=-73", "invalid", "lat"},
			{"lat=NaN&long=-73", "invalid", "lat"},
			{"lat=95&long=-73", "invalid", "lat"},
			{fmt.Sprintf("lat=%s&long=%s", ftoa(w.outside[1]), ftoa(w.outside[0])), "outside", ""},
			{fmt.Sprintf("lat=%s&long=%s", ftoa(w.inside[0]), ftoa(w.inside[1])), "invalid", ""},
			{at + "&service_code=nope", "invalid", "service_code"},
		} {
			e := checkError(t, w.get("/api/v1/locate?"+c.q), http.StatusBadRequest)
			if e.Kind != c.kind || (c.field != "" && e.Field != c.field) {
				t.Errorf("locate?%s: %+v, want kind %s field %s", c.q, e, c.kind, c.field)
			}
		}
		if w.count() != before {
			t.Errorf("locate stored something")
		}
	})
}

// TestWebMounted checks the pages are served next to the API when wired
// in, and that the API's own routes are untouched.
func TestWebMounted(t *testing.T) {
	w := newWorld(t, backends[0].open(t))
	pages, err := web.Handler(web.Options{WebKey: w.key})
	if err != nil {
		t.Fatal(err)
	}
	h := api.New(api.Config{Service: sampleService(t, w.store), Keys: w.store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: prometheus.NewRegistry(), Web: pages})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for path, want := range map[string]string{
		"/":                          "/static/resident-",
		"/r/12":                      "/static/status-",
		"/staff":                     "/static/staff-",
		"/open311/v2/services.json":  "pothole",
		"/api/v1/locate?lat=1&long=": "",
	} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		wantCode := http.StatusOK
		if strings.HasPrefix(path, "/api/v1/locate") {
			wantCode = http.StatusBadRequest
		}
		if res.StatusCode != wantCode || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d, want %d with %q", path, res.StatusCode, wantCode, want)
		}
	}
	if res := w.get("/staff"); res.status != http.StatusNotFound {
		t.Errorf("without Config.Web, /staff is %d", res.status)
	}
}

// sampleService is a Service over the sample town's wards and categories
// (no assets) on st.
func sampleService(t *testing.T, st store) *requests.Service {
	t.Helper()
	cat, err := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
	if err != nil {
		t.Fatal(err)
	}
	set, err := data.SampleWards()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: cat, Wards: set, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestLocateSameAssetAmongMany: a request naming the asset at the pin is
// offered (and joined) however far it lies and however many requests of
// the category are open: here 5,000 newer ones elsewhere, five times the
// most one list returns, which once hid it.
func TestLocateSameAssetAmongMany(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		at := fmt.Sprintf("lat=%s&long=%s&service_code=streetlight_out", ftoa(w.inside[1]), ftoa(w.inside[0]))
		a := w.locate(at)
		if a.Asset == nil {
			t.Fatalf("no streetlight at the inside point: %+v", a)
		}
		now := time.Now().UTC()
		req := func(p orb.Point, when time.Time, token string) requests.NewRequest {
			r := requests.Request{TenantID: tenant, ServiceCode: "streetlight_out", Status: requests.New, Point: p,
				WardID: a.Ward.ID, Department: "transportation", RequestedAt: when, UpdatedAt: when, Lang: "en", Token: token}
			return requests.NewRequest{Request: r, Event: requests.Event{TenantID: tenant, At: when, Actor: "test",
				Kind: requests.EventCreated, To: requests.New}}
		}
		// 550 m north, naming the light: older than all the others.
		onLight := req(orb.Point{w.inside[0], w.inside[1] + 0.005}, now.Add(-2*time.Hour), "tok-on-light")
		onLight.Request.AssetLayer, onLight.Request.AssetID = a.Asset.Layer, a.Asset.ID
		first, err := w.store.CreateRequest(ctx, onLight)
		if err != nil {
			t.Fatal(err)
		}
		const many = 5000
		var wg sync.WaitGroup
		next := make(chan int)
		var failed atomic.Int64
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					p := orb.Point{w.inside[0] + float64(i%100)*1e-4, w.inside[1] + 0.01 + float64(i/100)*1e-4}
					if _, err := w.store.CreateRequest(ctx, req(p, now.Add(-time.Hour+time.Duration(i)*time.Millisecond), fmt.Sprintf("tok-many-%d", i))); err != nil {
						failed.Add(1)
					}
				}
			}()
		}
		for i := range many {
			next <- i
		}
		close(next)
		wg.Wait()
		if n := failed.Load(); n > 0 {
			t.Fatalf("%d of %d creations failed", n, many)
		}
		a = w.locate(at)
		if a.Joins != first.ServiceRequestID || len(a.Nearby) != 1 || a.Nearby[0].ClusterID != first.ServiceRequestID {
			t.Errorf("among %d open requests, the one on the light (%s) is not offered: joins %q, nearby %+v",
				many, first.ServiceRequestID, a.Joins, a.Nearby)
		}
	})
}
