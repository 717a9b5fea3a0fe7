package api_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/tiles"
	"github.com/pinward/pinward/web"
	"github.com/prometheus/client_golang/prometheus"
)

// fullServer is every route api mounts (work orders, assets, tiles,
// pages) over w's store, on loopback, with an admin key and the handler.
type fullServer struct {
	srv      *httptest.Server
	h        http.Handler
	adminKey string
	reg      *prometheus.Registry
}

func newService(t *testing.T, st store) *requests.Service {
	t.Helper()
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
	return svc
}

func newFullServer(t *testing.T, w *world, log *slog.Logger) *fullServer {
	t.Helper()
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ob, _ := w.store.(requests.OutboxStore)
	as, _ := w.store.(requests.AssetStore)
	pages, err := web.Handler(web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fs := &fullServer{reg: prometheus.NewRegistry()}
	bm, ad := mapSources(t)
	fs.h = api.New(api.Config{
		Service: newService(t, w.store), Keys: w.store, Logger: log, Metrics: fs.reg, MaxBody: maxBody,
		WorkOrders: ob, Assets: api.AssetAPI{Store: as}, Tiles: tiles.New(tiles.Options{}), Web: pages,
		Basemap: bm, Addresses: ad,
	})
	fs.srv = httptest.NewServer(fs.h)
	t.Cleanup(fs.srv.Close)
	fs.adminKey = newKey(t, w.store, requests.RoleAdmin)
	return fs
}

func (fs *fullServer) do(t *testing.T, method, path string, body io.Reader, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, fs.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := fs.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

// queryParams are every query parameter a route of api reads.
var queryParams = []string{"jurisdiction_id", "locale", "start_date", "end_date", "service_request_id", "service_code",
	"status", "page", "page_size", "department", "state", "since", "limit", "cursor", "lat", "long", "api_key", "t",
	"radius", "bbox", "layer", "q"}

var patternParam = regexp.MustCompile(`\{[a-z]+\}|\*`)

// TestNoNULOrBadUTF8 sends, to every route of the README's table that
// the server mounts, a NUL (and invalid UTF-8) in each path parameter and
// a NUL in each query parameter: every one is a bilingual 400 naming the
// value, never a 500 or a stored NUL, on both stores. Before the check
// (issue 16) PostGIS answered 500 and SQLite stored the value.
func TestNoNULOrBadUTF8(t *testing.T) {
	table := readRoleTable(t)
	forEachStore(t, func(t *testing.T, w *world) {
		fs := newFullServer(t, w, nil)
		mounted := map[string]bool{}
		if err := chi.Walk(fs.h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
			mounted[method+" "+route] = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		n := 0
		for rt := range table {
			if !mounted[rt] {
				continue
			}
			method, route, _ := strings.Cut(rt, " ")
			var paths []string
			for _, loc := range patternParam.FindAllStringIndex(route, -1) {
				for _, bad := range []string{"%00", "a%00b", "%FF"} {
					p := route[:loc[0]] + bad + route[loc[1]:]
					paths = append(paths, routeParam.Replace(p))
				}
			}
			base := routeParam.Replace(route)
			for _, q := range queryParams {
				paths = append(paths, base+"?"+q+"=a%00")
			}
			paths = append(paths, base+"?service_code=%C3", base+"?%00=1")
			for _, p := range paths {
				n++
				var body io.Reader
				h := map[string]string{"X-Api-Key": fs.adminKey}
				if method == http.MethodPost || method == http.MethodPut {
					body, h["Content-Type"] = strings.NewReader("{}"), "application/json"
				}
				res := fs.do(t, method, p, body, h)
				if method == http.MethodHead {
					if res.status != http.StatusBadRequest {
						t.Errorf("%s %s: %d, want 400", method, p, res.status)
					}
					continue
				}
				if res.status != http.StatusBadRequest {
					t.Errorf("%s %s: %d %s, want 400", method, p, res.status, clipBody(res.body))
					continue
				}
				if e := checkError(t, res, http.StatusBadRequest); e.Kind != "invalid" || strings.ContainsRune(e.Field, 0) {
					t.Errorf("%s %s: %+v", method, p, e)
				}
			}
		}
		if n < 500 {
			t.Fatalf("only %d cases: the table or the server lost its routes", n)
		}
		// An Idempotency-Key header with invalid UTF-8 (net/http refuses
		// NUL in headers itself).
		f := w.pothole()
		res := w.postForm("/open311/v2/requests.json", f, map[string]string{"Idempotency-Key": "k\xff"})
		if e := checkError(t, res, 400); e.Field != "Idempotency-Key" {
			t.Errorf("Idempotency-Key: field %q", e.Field)
		}
	})
}

// TestBodiesMustBeText: what the form body refused, the JSON body refused
// too (it turned invalid UTF-8 and lone surrogates into U+FFFD and
// answered 201), and so do the status and asset bodies; nothing stored.
func TestBodiesMustBeText(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		fs := newFullServer(t, w, nil)
		lat, long := ftoa(w.inside[1]), ftoa(w.inside[0])
		jsonPost := func(desc string) string {
			return `{"api_key":"` + w.key + `","service_code":"pothole","lat":` + lat + `,"long":` + long +
				`,"attributes":{"size":"large"},"description":"` + desc + `"}`
		}
		// The control: a valid JSON body with escapes is accepted.
		res := w.do("POST", "/open311/v2/requests.json", strings.NewReader(jsonPost(`Nid \u00e9norme \ud83d\udea7`)),
			map[string]string{"Content-Type": "application/json"})
		if res.status != http.StatusCreated {
			t.Fatalf("valid JSON: %d %s", res.status, res.body)
		}
		before := w.count()
		for name, body := range map[string]string{
			"invalid UTF-8":          jsonPost("trou \xff profond"),
			"cut UTF-8":              jsonPost("trou \xc3"),
			"lone high surrogate":    jsonPost(`trou \ud83d profond`),
			"lone low surrogate":     jsonPost(`trou \udea7 profond`),
			"NUL escape":             jsonPost(`trou \u0000 profond`),
			"NUL escape in api_key":  strings.Replace(jsonPost("x"), `"api_key":"`, `"api_key":"\u0000`, 1),
			"surrogate in a key":     strings.Replace(jsonPost("x"), `"service_code"`, `"service\udc00_code"`, 1),
			"invalid UTF-8 in attrs": strings.Replace(jsonPost("x"), `"large"`, "\"lar\xe9ge\"", 1),
		} {
			for _, ct := range []string{"application/json"} {
				res := w.do("POST", "/open311/v2/requests.json", strings.NewReader(body), map[string]string{"Content-Type": ct})
				if e := checkError(t, res, 400); e.Kind != "invalid" {
					t.Errorf("%s: %+v", name, e)
				}
			}
		}
		for name, f := range map[string]url.Values{
			"form NUL in locale":      {"locale": {"fr\x00"}},
			"form bad UTF-8 attr key": {"attribute[\xff]": {"1"}},
		} {
			form := w.pothole()
			for k, v := range f {
				form[k] = v
			}
			res := w.postForm("/open311/v2/requests.json", form, nil)
			checkError(t, res, 400)
			_ = name
		}
		if after := w.count(); after != before {
			t.Errorf("%d requests stored from refused bodies", after-before)
		}

		// Asset bodies: a NUL in an ID or a property; nothing stored.
		admin := map[string]string{"X-Api-Key": fs.adminKey, "Content-Type": "application/geo+json"}
		feature := func(id, prop string) string {
			return `{"type":"FeatureCollection","features":[{"type":"Feature","id":"` + id +
				`","geometry":{"type":"Point","coordinates":[` + long + `,` + lat + `]},"properties":{"name":"` + prop + `"}}]}`
		}
		for name, body := range map[string]string{
			"NUL in ID":         feature(`nul\u0000id`, "ok"),
			"NUL in a property": feature("ok-id", `a\u0000b`),
			"bad UTF-8 in ID":   feature("bad\xffid", "ok"),
			"surrogate in prop": feature("ok-id", `\ud800`),
		} {
			res := fs.do(t, "PUT", "/api/v1/assets/streetlight", strings.NewReader(body), admin)
			if e := checkError(t, res, 400); e.Kind != "invalid" {
				t.Errorf("asset %s: %+v", name, e)
			}
		}
		as, ok := w.store.(requests.AssetStore)
		if !ok {
			t.Fatalf("%T keeps no assets", w.store)
		}
		cs, err := as.AssetChanges(context.Background(), tenant, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 0 {
			t.Errorf("refused asset bodies stored %d changes: %+v", len(cs), cs)
		}
		res = fs.do(t, "PUT", "/api/v1/assets/streetlight", strings.NewReader(feature("ok-id", "Montréal")), admin)
		if res.status != http.StatusOK {
			t.Errorf("valid asset: %d %s", res.status, res.body)
		}

		// The status body, JSON and form.
		res = fs.do(t, "POST", "/api/v1/workorders/1/status", strings.NewReader(`{"status":"closed","status_notes":"\u0000"}`),
			map[string]string{"X-Api-Key": fs.adminKey, "Content-Type": "application/json"})
		checkError(t, res, 400)
		res = fs.do(t, "POST", "/api/v1/workorders/1/status", strings.NewReader("status=closed&status_notes=%FF"),
			map[string]string{"X-Api-Key": fs.adminKey, "Content-Type": "application/x-www-form-urlencoded"})
		checkError(t, res, 400)
	})
}

// TestDatesOutOfRange: dates the stores or JSON cannot hold were a 500
// "encoding failed" in reports; every date parameter refuses them.
func TestDatesOutOfRange(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		staff := map[string]string{"X-Api-Key": newKey(t, w.store, requests.RoleStaff)}
		for _, path := range []string{
			"/api/v1/reports/ward.json?end_date=9999-12-31",
			"/api/v1/reports/ward.json?start_date=0000-01-01T00:00:00%2B14:00",
			"/api/v1/reports/department.csv?start_date=0001-01-01",
			"/api/v1/reports/ward.json?end_date=3000-01-01",
			"/open311/v2/requests.json?end_date=9999-12-31",
			"/open311/v2/requests.xml?start_date=0000-01-01T00:00:00%2B14:00",
			"/open311/v2/requests.json?start_date=1899-12-31",
		} {
			res := w.do("GET", path, nil, staff)
			e := checkError(t, res, 400)
			if e.Field != "start_date" && e.Field != "end_date" {
				t.Errorf("%s: field %q", path, e.Field)
			}
		}
		for _, path := range []string{"/api/v1/reports/ward.json?start_date=1900-01-01&end_date=2999-12-31",
			"/open311/v2/requests.json?start_date=1900-01-01&end_date=2999-12-31"} {
			if res := w.do("GET", path, nil, staff); res.status != 200 {
				t.Errorf("%s: %d %s", path, res.status, res.body)
			}
		}
	})
}

// TestSecurityHeaders: pages cannot be framed and say where scripts come
// from; the status page sends no referrer; every answer is nosniff.
func TestSecurityHeaders(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		fs := newFullServer(t, w, nil)
		for _, path := range []string{"/", "/staff", "/staff/reports", "/r/1", "/open311/v2/services.json",
			"/api/v1/clusters", "/nowhere", "/healthz"} {
			res := fs.do(t, "GET", path, nil, nil)
			h := res.header
			if h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: X-Content-Type-Options %q", path, h.Get("X-Content-Type-Options"))
			}
			if h.Get("X-Frame-Options") != "DENY" {
				t.Errorf("%s: X-Frame-Options %q", path, h.Get("X-Frame-Options"))
			}
			csp := h.Get("Content-Security-Policy")
			for _, want := range []string{"frame-ancestors 'none'", "script-src 'self';", "object-src 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("%s: CSP %q lacks %q", path, csp, want)
				}
			}
			wantRef := "strict-origin-when-cross-origin"
			if strings.HasPrefix(path, "/r/") {
				wantRef = "no-referrer"
			}
			if got := h.Get("Referrer-Policy"); got != wantRef {
				t.Errorf("%s: Referrer-Policy %q, want %q", path, got, wantRef)
			}
		}
	})
}

// TestEchoCapped: a 60 KB phone number was quoted whole three times in
// the 400 (description, description_en, description_fr).
func TestEchoCapped(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		for _, field := range []string{"phone", "email", "attribute[" + strings.Repeat("x", 60_000) + "]"} {
			f := w.pothole()
			if strings.HasPrefix(field, "attribute[") {
				f.Set(field, "1")
			} else {
				f.Set(field, strings.Repeat("5", 60_000))
			}
			res := w.postForm("/open311/v2/requests.json", f, nil)
			checkError(t, res, 400)
			if len(res.body) > 4000 {
				t.Errorf("%.20s: a %d-byte error body", field, len(res.body))
			}
		}
	})
}

// TestClientClosedIs499: a request whose client hung up while the store
// worked was logged as ERROR and counted as a 500. It is counted as 499
// and logged at debug.
func TestClientClosedIs499(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		var logs bytes.Buffer
		var mu sync.Mutex
		log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		fs := newFullServer(t, w, log)
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // the client is gone before the store is asked
		req := httptest.NewRequest("GET", "/open311/v2/requests.json", nil).WithContext(ctx)
		rec := httptest.NewRecorder()
		fs.h.ServeHTTP(rec, req)
		if rec.Code != api.StatusClientClosed {
			t.Errorf("status %d, want 499", rec.Code)
		}
		mfs, err := fs.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, mf := range mfs {
			if mf.GetName() != "pinward_http_requests_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "code" {
						codes = append(codes, l.GetValue())
					}
				}
			}
		}
		if len(codes) != 1 || codes[0] != "499" {
			t.Errorf("counted codes %v, want [499]", codes)
		}
		mu.Lock()
		out := logs.String()
		mu.Unlock()
		if strings.Contains(out, "level=ERROR") || !strings.Contains(out, "client closed") {
			t.Errorf("log:\n%s", out)
		}
	})
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestOversizedUploadGets413: a client that sends its whole body before
// reading the answer, far over the limit, reads the bilingual 413; the
// server closed the connection under it, and the reset lost the answer.
func TestOversizedUploadGets413(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		big := bytes.Repeat([]byte("x"), 8<<20)
		addr := strings.TrimPrefix(w.srv.URL, "http://")
		for i := range 3 {
			for _, ct := range []string{"application/x-www-form-urlencoded", "application/json"} {
				body := append([]byte("description="), big...)
				if ct == "application/json" {
					body = append(append([]byte(`{"description":"`), big...), '"', '}')
				}
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				conn.SetDeadline(time.Now().Add(20 * time.Second))
				head := "POST /open311/v2/requests.json HTTP/1.1\r\nHost: x\r\nContent-Type: " + ct +
					"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
				if _, err := conn.Write(append([]byte(head), body...)); err != nil {
					conn.Close()
					t.Fatalf("round %d, %s: sending: %v (the server stopped reading)", i, ct, err)
				}
				res, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					conn.Close()
					t.Fatalf("round %d, %s: %v (want the 413)", i, ct, err)
				}
				b, err := io.ReadAll(res.Body)
				conn.Close()
				if err != nil {
					t.Fatalf("round %d: reading the 413: %v", i, err)
				}
				checkError(t, response{res.StatusCode, res.Header, b}, http.StatusRequestEntityTooLarge)
			}
		}
	})
}

// TestIdempotencyScopedToKey: another client (here the public reporter
// key) replaying a key and body got the first client's request and token;
// now each API key has its own keys. The same key with another body is a
// 422; parallel posts with one key make one request, each answer being
// that request or a 409 while it is in flight.
func TestIdempotencyScopedToKey(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		reporter := newKey(t, w.store, requests.RoleReporter)
		h := map[string]string{"Idempotency-Key": "shared-0001"}
		a := w.postForm("/open311/v2/requests.json", w.pothole(), h)
		f := w.pothole()
		f.Set("api_key", reporter)
		b := w.postForm("/open311/v2/requests.json", f, h)
		if a.status != 201 || b.status != 201 {
			t.Fatalf("statuses %d, %d: %s %s", a.status, b.status, a.body, b.body)
		}
		var ra, rb []map[string]any
		mustJSON(t, a.body, &ra)
		mustJSON(t, b.body, &rb)
		if ra[0]["service_request_id"] == rb[0]["service_request_id"] || ra[0]["token"] == rb[0]["token"] {
			t.Errorf("another key replaying the key got the first client's request: %s / %s", a.body, b.body)
		}
		if n := w.count(); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
		other := w.pothole()
		other.Set("description", "another hole")
		if e := checkError(t, w.postForm("/open311/v2/requests.json", other, h), http.StatusUnprocessableEntity); e.Field != "Idempotency-Key" {
			t.Errorf("422 names %q", e.Field)
		}

		for round := range 4 {
			const n = 12
			key := map[string]string{"Idempotency-Key": "burst-" + strconv.Itoa(round)}
			res := make([]response, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { res[i] = w.postForm("/open311/v2/requests.json", w.pothole(), key) })
			}
			wg.Wait()
			ids := map[any]bool{}
			for _, r := range res {
				switch r.status {
				case http.StatusCreated:
					var out []map[string]any
					mustJSON(t, r.body, &out)
					ids[out[0]["service_request_id"]] = true
				case http.StatusConflict:
					if e := checkError(t, r, http.StatusConflict); e.Field != "Idempotency-Key" || r.header.Get("Retry-After") == "" {
						t.Errorf("409 %+v, Retry-After %q", e, r.header.Get("Retry-After"))
					}
				default:
					t.Errorf("round %d: %d %s", round, r.status, r.body)
				}
			}
			if len(ids) != 1 {
				t.Errorf("round %d: %d requests answered, want 1: %v", round, len(ids), ids)
			}
		}
		if n := w.count(); n != 6 {
			t.Errorf("%d requests after the bursts, want 6", n)
		}
	})
}

// TestWorkOrdersPaging: GET /api/v1/workorders pages with limit and
// cursor (X-Next-Cursor, Link rel=next), each work order once.
func TestWorkOrdersPaging(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		fs := newFullServer(t, w, nil)
		for i := range 5 {
			nr := requests.NewRequest{Request: requests.Request{TenantID: tenant, ServiceCode: "pothole", Status: requests.New,
				Point: w.inside, RequestedAt: time.Now().UTC().Truncate(time.Microsecond), UpdatedAt: time.Now().UTC().Truncate(time.Microsecond),
				Token: "tok-page-" + strconv.Itoa(i), Department: "roads"}, WorkOrder: true}
			nr.Event = requests.Event{TenantID: tenant, At: nr.Request.RequestedAt, Actor: "test", Kind: requests.EventCreated, To: requests.New}
			if _, err := w.store.CreateRequest(ctx, nr); err != nil {
				t.Fatal(err)
			}
		}
		staff := map[string]string{"X-Api-Key": fs.adminKey}
		seen := map[string]bool{}
		path := "/api/v1/workorders?limit=2"
		pages := 0
		for path != "" && pages < 10 {
			pages++
			res := fs.do(t, "GET", path, nil, staff)
			if res.status != 200 {
				t.Fatalf("%s: %d %s", path, res.status, res.body)
			}
			var list []map[string]any
			mustJSON(t, res.body, &list)
			for _, wo := range list {
				id := wo["work_order_id"].(string)
				if seen[id] {
					t.Errorf("work order %s twice", id)
				}
				seen[id] = true
			}
			path = ""
			if next := res.header.Get("X-Next-Cursor"); next != "" {
				path = "/api/v1/workorders?limit=2&cursor=" + next
				if !strings.Contains(res.header.Get("Link"), `rel="next"`) {
					t.Errorf("no Link: %q", res.header.Get("Link"))
				}
			}
		}
		if len(seen) != 5 || pages != 3 {
			t.Errorf("%d work orders in %d pages, want 5 in 3", len(seen), pages)
		}
		for _, q := range []string{"limit=0", "limit=x", "cursor=zz", "cursor=w-1"} {
			checkError(t, fs.do(t, "GET", "/api/v1/workorders?"+q, nil, staff), 400)
		}
	})
}

// TestPlainErrorsBilingual: errors the pages' file server wrote in plain
// text, and the router's own, come in the bilingual body.
func TestPlainErrorsBilingual(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		fs := newFullServer(t, w, nil)
		for _, c := range []struct {
			method, path string
			status       int
		}{
			{"GET", "/static/no-such-file.js", 404},
			{"GET", "/static/.stamp", 404},
			{"GET", "/static/index.html", 404},
			{"DELETE", "/open311/v2/services.json", 405},
			{"GET", "/nowhere", 404},
		} {
			res := fs.do(t, c.method, c.path, nil, map[string]string{"Accept-Encoding": "gzip"})
			checkError(t, res, c.status)
		}
		// A malformed multipart body.
		res := w.do("POST", "/open311/v2/requests.json", strings.NewReader("--x\r\nnot a part"),
			map[string]string{"Content-Type": "multipart/form-data; boundary=x"})
		checkError(t, res, 400)
	})
}
