package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/tiles"
)

// TestStaffScope calls every staff route of the README's "Who may call
// what" table with a staff key limited to another department (and one
// limited to the right department but another ward): whatever names a
// request, cluster or work order of public_works or transportation is a
// bilingual 404, as if it did not exist, and lists and reports leave them
// out. The same call with a key scoped to those departments (and an admin
// key) finds them, so each check can fail. A staff route added to the
// table without a case here fails the test.
func TestStaffScope(t *testing.T) {
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
		svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: cat, Wards: set, Assets: ix, Store: w.store,
			SendsWorkOrders: func(string) bool { return true }})
		if err != nil {
			t.Fatal(err)
		}
		h := api.New(api.Config{
			Service: svc, Keys: w.store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			WorkOrders: w.store, Assets: api.AssetAPI{Store: w.store}, Tiles: tiles.New(tiles.Options{}), Incidents: w.store,
			Queue: w.store.(requests.QueueStore),
		})
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)

		submit := func(code string, p orb.Point, attrs map[string][]string, photos ...requests.Photo) requests.Request {
			t.Helper()
			r, err := svc.Submit(ctx, requests.Submission{ServiceCode: code, Point: &p, Description: "scope test " + code,
				Attributes: attrs, Reporter: requests.Reporter{Email: "resident@example.org"}, Photos: photos})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		size := map[string][]string{"size": {"large"}}
		// Potholes 110 m or more apart (potholes cluster within 30 m) and
		// from the streetlight, in the streetlight's ward: the "another
		// ward" key must see none of the four (w.inside varies by run).
		home, ok := set.Locate(w.inside, time.Now())
		if !ok {
			t.Fatal("w.inside is in no ward")
		}
		var spots []orb.Point
		for r := 1; len(spots) < 3 && r < 40; r++ { // rings of a 0.0015° grid around it
			for dx := -r; dx <= r && len(spots) < 3; dx++ {
				for dy := -r; dy <= r && len(spots) < 3; dy++ {
					if max(dx, -dx, dy, -dy) != r {
						continue
					}
					p := orb.Point{w.inside[0] + float64(dx)*0.0015, w.inside[1] + float64(dy)*0.0015}
					if wd, ok := set.Locate(p, time.Now()); ok && wd.ID == home.ID {
						spots = append(spots, p)
					}
				}
			}
		}
		if len(spots) < 3 {
			t.Fatal("no room for three potholes near the streetlight in its ward")
		}
		hole := submit("pothole", spots[0], size, requests.Photo{JPEG: []byte("jpeg"), Thumb: []byte("thumb"), Width: 1, Height: 1}) // public_works: the object read
		merged := submit("pothole", spots[1], size)                                                                                  // merged by the own key
		closed := submit("pothole", spots[2], size)                                                                                  // closed by the own key
		light := submit("streetlight_out", w.inside, map[string][]string{"problem": {"out"}})                                        // transportation, on a streetlight
		if light.AssetID == "" {
			t.Fatal("the streetlight report names no asset")
		}
		a, ok := ix.Get(light.AssetLayer, light.AssetID)
		if !ok {
			t.Fatalf("asset %s not in the index", light.AssetID)
		}
		a.Version = 1
		if _, err := w.store.UpsertAssets(ctx, requests.AssetUpsert{Tenant: tenant, Assets: []assets.Asset{a}, At: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.store.RetireAsset(ctx, requests.AssetRetire{Tenant: tenant, Layer: light.AssetLayer, ID: light.AssetID,
			Actor: "test", At: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		if err := svc.FlagRequest(ctx, hole.ServiceRequestID, "rude"); err != nil {
			t.Fatal(err)
		}
		photos, err := svc.Photos(ctx, hole.ServiceRequestID)
		if err != nil || len(photos) != 1 {
			t.Fatalf("the pothole's photos: %v, %v", photos, err)
		}
		otherWard := ""
		for _, wd := range set.Current(time.Now()).Wards {
			if wd.ID != hole.WardID {
				otherWard = wd.ID
				break
			}
		}
		wo, err := w.store.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenant})
		if err != nil {
			t.Fatal(err)
		}
		woOf := map[string]string{}
		for _, o := range wo {
			woOf[o.ClusterID] = requests.FormatServiceRequestID(o.ID)
		}
		if woOf[hole.ClusterID] == "" {
			t.Fatalf("no work order for cluster %s", hole.ClusterID)
		}

		key := func(role requests.Role, scope requests.Scope) string {
			k, hash := requests.NewAPIKey()
			if _, err := w.store.CreateAPIKey(ctx, requests.Key{TenantID: tenant, Role: role, Label: "scope test", Hash: hash,
				CreatedAt: time.Now().UTC(), Scope: scope}); err != nil {
				t.Fatal(err)
			}
			return k
		}
		parks := key(requests.RoleStaff, requests.Scope{Departments: []string{"parks"}})
		elsewhere := key(requests.RoleStaff, requests.Scope{Departments: []string{"public_works", "transportation"}, Wards: []string{otherWard}})
		own := key(requests.RoleStaff, requests.Scope{Departments: []string{"public_works", "transportation"}})
		admin := key(requests.RoleAdmin, requests.Scope{})

		call := func(method, path, key, body string) response {
			t.Helper()
			var rd io.Reader
			if body != "" {
				rd = strings.NewReader(body)
			}
			req, err := http.NewRequest(method, srv.URL+path, rd)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Api-Key", key)
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
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
		notFound := func(method, path, body string) {
			t.Helper()
			for name, k := range map[string]string{"parks": parks, "another ward": elsewhere} {
				res := call(method, path, k, body)
				if res.status != http.StatusNotFound {
					t.Errorf("%s %s with a %s key: %d %s, want 404", method, path, name, res.status, clipBody(res.body))
					continue
				}
				checkError(t, res, http.StatusNotFound)
			}
		}
		found := func(method, path, key, body string, want int) []byte {
			t.Helper()
			res := call(method, path, key, body)
			if res.status != want {
				t.Errorf("%s %s in scope: %d %s, want %d", method, path, res.status, clipBody(res.body), want)
			}
			return res.body
		}
		// lists says whether a list answer (at the JSON path, "" for the
		// top) names id under field.
		lists := func(body []byte, path, field, id string) bool {
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("%v: %s", err, clipBody(body))
			}
			if path != "" {
				v = v.(map[string]any)[path]
			}
			for _, it := range v.([]any) {
				if it.(map[string]any)[field] == id {
					return true
				}
			}
			return false
		}
		absentFromList := func(path, jsonPath, field, id string) {
			t.Helper()
			for name, k := range map[string]string{"parks": parks, "another ward": elsewhere} {
				if lists(found(http.MethodGet, path, k, "", http.StatusOK), jsonPath, field, id) {
					t.Errorf("GET %s with a %s key lists %s", path, name, id)
				}
			}
			if !lists(found(http.MethodGet, path, own, "", http.StatusOK), jsonPath, field, id) {
				t.Errorf("GET %s in scope does not list %s", path, id)
			}
		}
		id, cl, woID, mediaID := hole.ServiceRequestID, hole.ClusterID, woOf[hole.ClusterID], photos[0].ID
		// intake is a staff entry of a pothole at the hole's spot: in the
		// own key's scope, out of the others'.
		intake := `{"service_code": "pothole", "lat": ` + strconv.FormatFloat(hole.Point[1], 'f', -1, 64) +
			`, "long": ` + strconv.FormatFloat(hole.Point[0], 'f', -1, 64) +
			`, "description": "a caller's pothole", "attributes": {"size": "large"}, "channel": "phone"}`

		// The block list is the whole municipality's: only unscoped staff
		// (and admins) manage it; its stopped submissions are listed by scope.
		unscoped := key(requests.RoleStaff, requests.Scope{})
		if _, err := svc.AddBlock(ctx, requests.BlockEmail, "blocked@example.org", "scope test", "staff:test"); err != nil {
			t.Fatal(err)
		}
		gone, err := svc.AddBlock(ctx, requests.BlockDevice, "scope-device", "scope test", "staff:test")
		if err != nil {
			t.Fatal(err)
		}
		blocked, err := svc.Submit(ctx, requests.Submission{ServiceCode: "pothole", Point: &hole.Point, Description: "blocked",
			Attributes: size, Reporter: requests.Reporter{Email: "blocked@example.org"}})
		if err != nil {
			t.Fatal(err)
		}
		forbidden := func(method, path, body string) {
			t.Helper()
			for name, k := range map[string]string{"parks": parks, "another ward": elsewhere, "own department": own} {
				res := call(method, path, k, body)
				if res.status != http.StatusForbidden {
					t.Errorf("%s %s with a %s key: %d %s, want 403", method, path, name, res.status, clipBody(res.body))
					continue
				}
				checkError(t, res, http.StatusForbidden)
			}
		}
		cases := map[string]func(){
			"POST /api/v1/workorders/{id}/status": func() {
				notFound(http.MethodPost, "/api/v1/workorders/"+woID+"/status", `{"status": "acknowledged"}`)
				found(http.MethodPost, "/api/v1/workorders/"+woID+"/status", own, `{"status": "acknowledged"}`, http.StatusOK)
			},
			"GET /api/v1/workorders": func() { absentFromList("/api/v1/workorders", "", "work_order_id", woID) },
			"POST /api/v1/workorders/{id}/retry": func() {
				notFound(http.MethodPost, "/api/v1/workorders/"+woID+"/retry", "")
				found(http.MethodPost, "/api/v1/workorders/"+woID+"/retry", own, "", http.StatusConflict) // found; none dead
			},
			"GET /api/v1/assets/retired-open": func() {
				absentFromList("/api/v1/assets/retired-open", "requests", "service_request_id", light.ServiceRequestID)
			},
			"GET /api/v1/clusters": func() { absentFromList("/api/v1/clusters", "", "cluster_id", cl) },
			"GET /api/v1/clusters/{id}": func() {
				notFound(http.MethodGet, "/api/v1/clusters/"+cl, "")
				found(http.MethodGet, "/api/v1/clusters/"+cl, own, "", http.StatusOK)
			},
			"POST /api/v1/clusters/{id}/merge": func() {
				body := `{"into": "` + cl + `", "note": "same hole"}`
				notFound(http.MethodPost, "/api/v1/clusters/"+merged.ClusterID+"/merge", body)
				found(http.MethodPost, "/api/v1/clusters/"+merged.ClusterID+"/merge", own, body, http.StatusOK)
			},
			"POST /api/v1/clusters/{id}/split": func() { // after merge (sorted order): merged is in cl
				body := `{"requests": ["` + merged.ServiceRequestID + `"]}`
				notFound(http.MethodPost, "/api/v1/clusters/"+cl+"/split", body)
				notFound(http.MethodPost, "/api/v1/clusters/"+cl+"/split", `{"requests": ["`+id+`"]}`) // even the anchor: 404 first
				found(http.MethodPost, "/api/v1/clusters/"+cl+"/split", own, body, http.StatusCreated)
			},
			"POST /api/v1/clusters/{id}/close": func() {
				body := `{"note": "fixed", "reason": "resolved"}`
				notFound(http.MethodPost, "/api/v1/clusters/"+closed.ClusterID+"/close", body)
				found(http.MethodPost, "/api/v1/clusters/"+closed.ClusterID+"/close", own, body, http.StatusOK)
			},
			"GET /api/v1/requests/{id}/events": func() {
				notFound(http.MethodGet, "/api/v1/requests/"+id+"/events", "")
				found(http.MethodGet, "/api/v1/requests/"+id+"/events", own, "", http.StatusOK)
			},
			"GET /api/v1/requests/{id}/reporter": func() {
				notFound(http.MethodGet, "/api/v1/requests/"+id+"/reporter", "")
				// The refused reads were not reads: no event records them.
				if b := found(http.MethodGet, "/api/v1/requests/"+id+"/events", admin, "", http.StatusOK); lists(b, "", "kind", "reporter_read") {
					t.Errorf("a refused reporter read left an event: %s", b)
				}
				if b := found(http.MethodGet, "/api/v1/requests/"+id+"/reporter", own, "", http.StatusOK); !bytes.Contains(b, []byte("resident@example.org")) {
					t.Errorf("reporter in scope: %s", b)
				}
			},
			"GET /api/v1/blocked": func() { absentFromList("/api/v1/blocked", "", "service_request_id", blocked.ServiceRequestID) },
			"GET /api/v1/blocks": func() {
				forbidden(http.MethodGet, "/api/v1/blocks", "")
				if !lists(found(http.MethodGet, "/api/v1/blocks", unscoped, "", http.StatusOK), "", "value", "blocked@example.org") {
					t.Error("GET /api/v1/blocks with an unscoped staff key does not list the entry")
				}
			},
			"POST /api/v1/blocks": func() {
				body := `{"kind": "device", "value": "scope-2", "reason": "spam"}`
				forbidden(http.MethodPost, "/api/v1/blocks", body)
				found(http.MethodPost, "/api/v1/blocks", unscoped, body, http.StatusCreated)
			},
			"DELETE /api/v1/blocks/{id}": func() {
				path := "/api/v1/blocks/" + strconv.FormatInt(gone.ID, 10)
				forbidden(http.MethodDelete, path, "")
				found(http.MethodDelete, path, unscoped, "", http.StatusNoContent)
			},
			"GET /api/v1/flags": func() { absentFromList("/api/v1/flags", "", "service_request_id", id) },
			"GET /api/v1/queue": func() {
				absentFromList("/api/v1/queue", "requests", "service_request_id", id)
				// The query's filters narrow the scope, never widen it.
				if lists(found(http.MethodGet, "/api/v1/queue?ward="+hole.WardID, elsewhere, "", http.StatusOK), "requests", "service_request_id", id) {
					t.Errorf("another ward's key asking for ward %s lists %s", hole.WardID, id)
				}
				if lists(found(http.MethodGet, "/api/v1/queue?department=public_works", parks, "", http.StatusOK), "requests", "service_request_id", id) {
					t.Errorf("a parks key asking for public_works lists %s", id)
				}
				if !lists(found(http.MethodGet, "/api/v1/queue?department=public_works&ward="+hole.WardID, own, "", http.StatusOK), "requests", "service_request_id", id) {
					t.Errorf("the own key asking for public_works in ward %s misses %s", hole.WardID, id)
				}
			},
			"GET /api/v1/requests/{id}/media": func() {
				notFound(http.MethodGet, "/api/v1/requests/"+id+"/media", "")
				if !lists(found(http.MethodGet, "/api/v1/requests/"+id+"/media", own, "", http.StatusOK), "", "id", mediaID) {
					t.Errorf("the photos in scope miss %s", mediaID)
				}
				// The pending photo itself (a public route that shows staff
				// more): out of scope, a staff key sees what the public sees.
				notFound(http.MethodGet, requests.MediaPath(mediaID), "")
				found(http.MethodGet, requests.MediaThumbPath(mediaID), own, "", http.StatusOK)
			},
			"GET /api/v1/requests/{id}/moderation": func() {
				notFound(http.MethodGet, "/api/v1/requests/"+id+"/moderation", "")
				found(http.MethodGet, "/api/v1/requests/"+id+"/moderation", own, "", http.StatusOK)
			},
			"GET /api/v1/templates": func() {
				// Canned responses are the catalog's text, not anyone's
				// request: every staff key reads them all (README, Security).
				all := found(http.MethodGet, "/api/v1/templates", admin, "", http.StatusOK)
				if bytes.Equal(all, []byte("[]\n")) || bytes.Equal(all, []byte("[]")) {
					t.Fatalf("the sample catalog has no templates: %s", all)
				}
				for name, k := range map[string]string{"parks": parks, "another ward": elsewhere} {
					if b := found(http.MethodGet, "/api/v1/templates", k, "", http.StatusOK); !bytes.Equal(b, all) {
						t.Errorf("templates with a %s key differ from admin's: %s", name, clipBody(b))
					}
				}
			},
			"POST /api/v1/clusters/{id}/transition": func() {
				body := `{"to": "acknowledged"}`
				notFound(http.MethodPost, "/api/v1/clusters/"+light.ClusterID+"/transition", body)
				found(http.MethodPost, "/api/v1/clusters/"+light.ClusterID+"/transition", own, body, http.StatusOK)
			},
			"POST /api/v1/media/{id}/approve": func() {
				notFound(http.MethodPost, "/api/v1/media/"+mediaID+"/approve", `{"reason": "fine"}`)
				found(http.MethodPost, "/api/v1/media/"+mediaID+"/approve", own, `{"reason": "fine"}`, http.StatusOK)
			},
			"POST /api/v1/media/{id}/hide": func() {
				notFound(http.MethodPost, "/api/v1/media/"+mediaID+"/hide", `{"reason": "a face"}`)
				found(http.MethodPost, "/api/v1/media/"+mediaID+"/hide", own, `{"reason": "a face"}`, http.StatusOK)
			},
			"POST /api/v1/requests": func() {
				// Nothing exists yet to hide: out of scope is a 403 saying why.
				for name, k := range map[string]string{"parks": parks, "another ward": elsewhere} {
					res := call(http.MethodPost, "/api/v1/requests", k, intake)
					if res.status != http.StatusForbidden {
						t.Errorf("staff intake out of scope with a %s key: %d %s, want 403", name, res.status, clipBody(res.body))
						continue
					}
					checkError(t, res, http.StatusForbidden)
				}
				found(http.MethodPost, "/api/v1/requests", own, intake, http.StatusCreated)
			},
			"POST /api/v1/requests/{id}/assign": func() {
				notFound(http.MethodPost, "/api/v1/requests/"+id+"/assign", `{"assignee": "crew-7"}`)
				found(http.MethodPost, "/api/v1/requests/"+id+"/assign", own, `{"assignee": "crew-7"}`, http.StatusOK)
			},
			"POST /api/v1/requests/{id}/description/hide": func() {
				notFound(http.MethodPost, "/api/v1/requests/"+id+"/description/hide", `{"reason": "a name"}`)
				found(http.MethodPost, "/api/v1/requests/"+id+"/description/hide", own, `{"reason": "a name"}`, http.StatusOK)
			},
			"POST /api/v1/requests/{id}/description/show": func() {
				notFound(http.MethodPost, "/api/v1/requests/"+id+"/description/show", "")
				found(http.MethodPost, "/api/v1/requests/"+id+"/description/show", own, "", http.StatusOK)
			},
			"POST /api/v1/requests/{id}/notes": func() {
				notFound(http.MethodPost, "/api/v1/requests/"+id+"/notes", `{"internal_note": "deep"}`)
				found(http.MethodPost, "/api/v1/requests/"+id+"/notes", own, `{"internal_note": "deep"}`, http.StatusCreated)
			},
			"POST /api/v1/requests/{id}/transition": func() {
				notFound(http.MethodPost, "/api/v1/requests/"+id+"/transition", `{"to": "in_progress"}`)
				found(http.MethodPost, "/api/v1/requests/"+id+"/transition", own, `{"to": "in_progress"}`, http.StatusOK)
			},
			"GET /api/v1/reports/{by}.{format}": func() {
				received := func(key string) float64 {
					var rep struct {
						Total struct {
							Received float64 `json:"received"`
						} `json:"total"`
					}
					if err := json.Unmarshal(found(http.MethodGet, "/api/v1/reports/department.json", key, "", http.StatusOK), &rep); err != nil {
						t.Fatal(err)
					}
					return rep.Total.Received
				}
				if n := received(parks); n != 0 {
					t.Errorf("a parks key's report counts %v requests, want 0", n)
				}
				if n := received(elsewhere); n != 0 {
					t.Errorf("another ward's report counts %v requests, want 0", n)
				}
				if n, all := received(own), received(admin); n != 4 || all != 4 {
					t.Errorf("report in scope counts %v, admin %v; want 4", n, all)
				}
			},
		}
		order := []string{}
		for rt, cells := range table {
			if cells[1] == "403" && cells[3] == "yes" { // a staff route (not a resident's submission)
				order = append(order, rt)
			}
		}
		slices.Sort(order)
		for _, rt := range order {
			c, ok := cases[rt]
			if !ok {
				t.Errorf("staff route %s has no scope case in TestStaffScope", rt)
				continue
			}
			c()
		}
		if len(order) != len(cases) {
			t.Errorf("%d staff routes in the README, %d scope cases", len(order), len(cases))
		}
	})
}
