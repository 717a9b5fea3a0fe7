package api_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/linktoken"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/tiles"
	"github.com/pinward/pinward/web"
)

// roleColumns are the columns of the README's "Who may call what" table,
// in order: no key, then a key of each role.
var roleColumns = []requests.Role{"", requests.RoleReporter, requests.RoleIntegrator, requests.RoleStaff, requests.RoleAdmin}

// readRoleTable reads the README's table: "METHOD /pattern" to one cell
// per role column ("yes", "401" or "403").
func readRoleTable(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `([A-Z]+ /[^`]*)` \\|(.*)\\|\\s*$")
	table := map[string][]string{}
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "### Who may call what"):
			in = true
		case in && strings.HasPrefix(line, "#"):
			in = false
		case in:
			m := row.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			cells := strings.Split(m[2], "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			if len(cells) != len(roleColumns) {
				t.Fatalf("README row %q has %d role cells, want %d", m[1], len(cells), len(roleColumns))
			}
			if _, dup := table[m[1]]; dup {
				t.Fatalf("README lists %s twice", m[1])
			}
			table[m[1]] = cells
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(table) == 0 {
		t.Fatal(`README.md has no "Who may call what" table`)
	}
	return table
}

// TestRoutesByRole walks every route a fully configured server mounts and
// calls each with no key and with a key of each role, on a real server:
// the answer is a bilingual 401 or 403, or passes, exactly as the README's
// table says. A route mounted without a row (or a row without a route)
// fails, so no route is added without saying who may call it.
func TestRoutesByRole(t *testing.T) {
	table := readRoleTable(t)
	forEachStore(t, func(t *testing.T, w *world) {
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
		svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: cat, Wards: set, Assets: ix, Store: w.store})
		if err != nil {
			t.Fatal(err)
		}
		ob, ok := w.store.(requests.OutboxStore)
		if !ok {
			t.Fatalf("%T keeps no work orders", w.store)
		}
		as, ok := w.store.(requests.AssetStore)
		if !ok {
			t.Fatalf("%T keeps no assets", w.store)
		}
		bm, ad := mapSources(t)
		pages, err := web.Handler(web.Options{})
		if err != nil {
			t.Fatal(err)
		}
		links, err := linktoken.New(bytes.Repeat([]byte("k"), linktoken.MinSecretLen))
		if err != nil {
			t.Fatal(err)
		}
		h := api.New(api.Config{
			Service: svc, Keys: w.store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			WorkOrders: ob, Assets: api.AssetAPI{Store: as}, Tiles: tiles.New(tiles.Options{}), Web: pages, Queue: w.store,
			Mail: api.MailAPI{Store: w.store, Links: links, Feedback: w.store, Rights: w.store}, Incidents: w.store,
			Basemap: bm, Addresses: ad,
		})
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)

		keys := map[requests.Role]string{}
		for _, role := range roleColumns[1:] {
			key, hash := requests.NewAPIKey()
			if _, err := w.store.CreateAPIKey(ctx, requests.Key{TenantID: tenant, Role: role, Label: "routes test",
				Hash: hash, CreatedAt: time.Now().UTC()}); err != nil {
				t.Fatal(err)
			}
			keys[role] = key
		}

		routes, ok := h.(chi.Routes)
		if !ok {
			t.Fatalf("api.New returned %T, not a chi router", h)
		}
		mounted := map[string]bool{}
		err = chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
			mounted[method+" "+route] = true
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for rt := range table {
			if !mounted[rt] {
				t.Errorf("README's table lists %s, which is not mounted", rt)
			}
		}
		for rt := range mounted {
			want, ok := table[rt]
			if !ok {
				t.Errorf("%s is mounted but not in README's \"Who may call what\" table", rt)
				continue
			}
			method, route, _ := strings.Cut(rt, " ")
			for i, role := range roleColumns {
				name := string(role)
				if name == "" {
					name = "none"
				}
				t.Run(rt+"/"+name, func(t *testing.T) {
					res := w.callRoute(t, srv, method, route, keys[role])
					switch want[i] {
					case "yes":
						if res.status == http.StatusUnauthorized || res.status == http.StatusForbidden || res.status >= 500 {
							t.Errorf("%s with %s: %d %s, want it let through", rt, name, res.status, clipBody(res.body))
						}
					case "401":
						if e := checkError(t, res, http.StatusUnauthorized); e.Field != "api_key" {
							t.Errorf("401 names field %q, want api_key", e.Field)
						}
					case "403":
						if e := checkError(t, res, http.StatusForbidden); e.Field != "api_key" {
							t.Errorf("403 names field %q, want api_key", e.Field)
						}
					default:
						t.Fatalf("README cell %q for %s/%s: want yes, 401 or 403", want[i], rt, name)
					}
				})
			}
		}
	})
}

// routeParam fills a route pattern's parameters with plausible values.
var routeParam = strings.NewReplacer(
	"{format}", "json", "{code}", "pothole", "{id}", "1", "{token}", "t1", "{layer}", "streetlight",
	"{z}", "0", "{x}", "0", "{y}", "0", "{ext}", "json", "{by}", "ward", "*", "app.css")

// callRoute sends one request to route with key (none when empty), in
// the header, with a body the route reads: Open311's POST gets a valid
// submission, since it reads its body before the key.
func (w *world) callRoute(t *testing.T, srv *httptest.Server, method, route, key string) response {
	t.Helper()
	path := routeParam.Replace(route)
	header := map[string]string{}
	if key != "" {
		header["X-Api-Key"] = key
	}
	var body io.Reader
	switch {
	case route == "/open311/v2/requests.{format}":
		f := w.pothole()
		f.Del("api_key")
		header["Content-Type"] = "application/x-www-form-urlencoded"
		body = strings.NewReader(f.Encode())
	case method == http.MethodPost || method == http.MethodPut:
		header["Content-Type"] = "application/json"
		body = strings.NewReader("{}")
	}
	req, err := http.NewRequest(method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := srv.Client().Do(req)
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

func clipBody(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
