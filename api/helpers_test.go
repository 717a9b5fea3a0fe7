package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
	"github.com/pinward/pinward/store/sqlite"
	"github.com/prometheus/client_golang/prometheus"
)

const tenant = "sample"

// store is what the tests need of a real store.
type store interface {
	requests.Store
	requests.KeyStore
}

// backends are the stores every handler test runs against. PostGIS is
// skipped (by pgtest) when no test database is configured.
var backends = []struct {
	name string
	open func(t *testing.T) store
}{
	{"sqlite", func(t *testing.T) store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pinward.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgis", func(t *testing.T) store {
		s, err := postgis.Open(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}},
}

// forEachStore runs fn as a subtest per store.
func forEachStore(t *testing.T, fn func(t *testing.T, w *world)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newWorld(t, b.open(t)))
		})
	}
}

// world is a running pinward API over a real store and the bundled sample
// municipality, on a real loopback HTTP server.
type world struct {
	t       *testing.T
	srv     *httptest.Server
	store   store
	reg     *prometheus.Registry
	key     string    // a valid integrator key
	inside  orb.Point // a point in a ward, next to a streetlight
	outside orb.Point // a valid point in no ward
}

const maxBody = 64 << 10

func newWorld(t *testing.T, st store) *world {
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
	svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: cat, Wards: set, Assets: ix, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, store: st, reg: prometheus.NewRegistry(), outside: orb.Point{-75.70, 45.42}}
	// A streetlight well inside the town: tests report 15 m east of it
	// and up to 1.1 km north of it (every 0.001° of latitude up to 0.011°
	// must be in a ward), and the scan's order is not fixed.
	in := func(p orb.Point) bool { _, ok := set.Locate(p, time.Now()); return ok }
	northIn := func(p orb.Point) bool {
		for k := 1; k <= 11; k++ {
			if !in(orb.Point{p[0], p[1] + float64(k)*0.001}) {
				return false
			}
		}
		return true
	}
	ix.Scan(func(a assets.Asset) bool {
		p := a.Point
		if a.Layer == "streetlight" && in(p) && in(orb.Point{p[0] + 0.0002, p[1]}) && northIn(p) {
			w.inside = a.Point
			return false
		}
		return true
	})
	if w.inside == (orb.Point{}) {
		t.Fatal("no streetlight in the sample town with 1.1 km of wards north of it")
	}
	key, hash := requests.NewAPIKey()
	if _, err := st.CreateAPIKey(ctx, requests.Key{TenantID: tenant, Role: requests.RoleIntegrator, Label: "test", Hash: hash, CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	w.key = key
	h := api.New(api.Config{
		Service: svc, Keys: st, Jurisdiction: "sample.example",
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: w.reg, MaxBody: maxBody,
	})
	w.srv = httptest.NewServer(h)
	t.Cleanup(w.srv.Close)
	return w
}

// count is how many requests the store holds, all dates.
func (w *world) count() int {
	w.t.Helper()
	list, err := w.store.ListRequests(context.Background(), requests.Filter{Tenant: tenant, Limit: requests.MaxListLimit})
	if err != nil {
		w.t.Fatal(err)
	}
	return len(list)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (w *world) do(method, path string, body io.Reader, header map[string]string) response {
	w.t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, body)
	if err != nil {
		w.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := w.srv.Client().Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

func (w *world) get(path string) response { return w.do("GET", path, nil, nil) }

func (w *world) postForm(path string, form url.Values, header map[string]string) response {
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		h[k] = v
	}
	return w.do("POST", path, strings.NewReader(form.Encode()), h)
}

// pothole is a valid form submission at the world's inside point.
func (w *world) pothole() url.Values {
	return url.Values{
		"api_key":         {w.key},
		"service_code":    {"pothole"},
		"lat":             {ftoa(w.inside[1])},
		"long":            {ftoa(w.inside[0])},
		"description":     {"Deep hole in the right lane"},
		"address_string":  {"12 Main St"},
		"attribute[size]": {"large"},
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// submit posts form and returns the new request's ID.
func (w *world) submit(form url.Values) string {
	w.t.Helper()
	res := w.postForm("/open311/v2/requests.json", form, nil)
	if res.status != http.StatusCreated {
		w.t.Fatalf("POST: %d %s", res.status, res.body)
	}
	var out []map[string]any
	mustJSON(w.t, res.body, &out)
	if len(out) != 1 || out[0]["service_request_id"] == "" {
		w.t.Fatalf("POST answer %s", res.body)
	}
	return out[0]["service_request_id"].(string)
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("not JSON (%v): %s", err, b)
	}
}

func mustXML(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := xml.Unmarshal(b, v); err != nil {
		t.Fatalf("not XML (%v): %s", err, b)
	}
}

// apiError is the Open311 error with pinward's bilingual extension.
type apiError struct {
	Code          int    `json:"code" xml:"code"`
	Description   string `json:"description" xml:"description"`
	Kind          string `json:"kind" xml:"kind"`
	Field         string `json:"field" xml:"field"`
	DescriptionEn string `json:"description_en" xml:"description_en"`
	DescriptionFr string `json:"description_fr" xml:"description_fr"`
}

type xmlErrors struct {
	Errors []apiError `xml:"error"`
}

// checkError checks res is one error in the spec's format for its
// content type, with status want, in both languages, and returns it.
func checkError(t *testing.T, res response, want int) apiError {
	t.Helper()
	if res.status != want {
		t.Fatalf("status %d, want %d: %s", res.status, want, res.body)
	}
	var e apiError
	switch ct := res.header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "application/json"):
		var list []apiError
		mustJSON(t, res.body, &list)
		if len(list) != 1 {
			t.Fatalf("want one error, got %s", res.body)
		}
		e = list[0]
	case strings.HasPrefix(ct, "application/xml"):
		var x xmlErrors
		mustXML(t, res.body, &x)
		if len(x.Errors) != 1 {
			t.Fatalf("want one error, got %s", res.body)
		}
		e = x.Errors[0]
	default:
		t.Fatalf("error with Content-Type %q: %s", ct, res.body)
	}
	if e.Code != want || e.Kind == "" || e.DescriptionEn == "" || e.DescriptionFr == "" || e.DescriptionEn == e.DescriptionFr {
		t.Errorf("error not bilingual or incomplete: %+v", e)
	}
	if e.Description != e.DescriptionEn && e.Description != e.DescriptionFr {
		t.Errorf("description %q is neither language", e.Description)
	}
	return e
}
