package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/requests"
)

type queueDoc struct {
	Requests []struct {
		ID                       string  `json:"service_request_id"`
		ServiceCode              string  `json:"service_code"`
		ServiceNameFr            string  `json:"service_name_fr"`
		Status                   string  `json:"status"`
		DetailedStatus           string  `json:"detailed_status"`
		Department               string  `json:"department"`
		Channel                  string  `json:"channel"`
		DueAt                    *string `json:"due_at"`
		BusinessSecondsRemaining *int64  `json:"business_seconds_remaining"`
		BusinessSecondsOverdue   *int64  `json:"business_seconds_overdue"`
		Overdue                  bool    `json:"overdue"`
		EscalationLevel          int     `json:"escalation_level"`
	} `json:"requests"`
	NextCursor string `json:"next_cursor"`
}

// TestQueueAPI: the staff queue over each store, on a loopback server
// whose clock is set: SLA state from the catalog, the due order, paging
// by cursor to the same list, the overdue filter a week later, and a
// bilingual 400 for every bad parameter.
func TestQueueAPI(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			st := b.open(t)
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
			// Received on Monday 2 March 2026, 09:00 in the sample town.
			received := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
			now := received
			svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: cat, Wards: set, Assets: ix, Store: st,
				Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			var places []orb.Point
			ix.Scan(func(a assets.Asset) bool {
				if _, ok := set.Locate(a.Point, received); ok {
					places = append(places, a.Point)
				}
				return len(places) < 5
			})
			var ids []string
			for i, p := range places {
				sub := requests.Submission{ServiceCode: "pothole", Point: &p, Description: "trou",
					Attributes: map[string][]string{"size": {"large"}}}
				if i == 4 {
					sub = requests.Submission{ServiceCode: "illegal_dumping", Point: &p}
				}
				r, err := svc.Submit(ctx, sub)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, r.ServiceRequestID)
				now = now.Add(time.Minute)
			}
			key, hash := requests.NewAPIKey()
			if _, err := st.CreateAPIKey(ctx, requests.Key{TenantID: tenant, Role: requests.RoleStaff, Label: "t", Hash: hash, CreatedAt: received}); err != nil {
				t.Fatal(err)
			}
			srvNow := received.Add(2 * time.Hour)
			h := api.New(api.Config{Service: svc, Keys: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Queue: st,
				Now: func() time.Time { return srvNow }})
			srv := httptest.NewServer(h)
			defer srv.Close()
			get := func(query string) (int, queueDoc, map[string]any) {
				t.Helper()
				req, _ := http.NewRequest("GET", srv.URL+"/api/v1/queue?"+query, nil)
				req.Header.Set("X-Api-Key", key)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				body, _ := io.ReadAll(res.Body)
				var doc queueDoc
				var raw map[string]any
				if res.StatusCode == 200 {
					if err := json.Unmarshal(body, &doc); err != nil {
						t.Fatalf("%s: %v", body, err)
					}
				} else {
					var errs []map[string]any
					json.Unmarshal(body, &errs)
					if len(errs) == 1 {
						raw = errs[0]
					}
				}
				return res.StatusCode, doc, raw
			}

			code, doc, _ := get("department=public_works")
			if code != 200 || len(doc.Requests) != 4 || doc.NextCursor != "" {
				t.Fatalf("public works queue: %d, %+v", code, doc)
			}
			for i, r := range doc.Requests {
				// Same SLA, received a minute apart: the due order is the order received.
				if r.ID != ids[i] || r.ServiceCode != "pothole" || r.ServiceNameFr != "Nid-de-poule" || r.Status != "open" ||
					r.DetailedStatus != "new" || r.Channel != "api" || r.DueAt == nil || r.Overdue || r.EscalationLevel != 0 {
					t.Errorf("request %d: %+v", i, r)
				}
				// 40 business hours, 2 h of them gone, less the minutes
				// between submissions.
				if want := int64(38*3600 + i*60); r.BusinessSecondsRemaining == nil || *r.BusinessSecondsRemaining != want ||
					*r.BusinessSecondsOverdue != 0 {
					t.Errorf("request %d: remaining %v, want %d", i, r.BusinessSecondsRemaining, want)
				}
			}
			// Page by two: the same list.
			var paged []string
			q := "limit=2&sort=due"
			for range 5 {
				code, page, _ := get(q)
				if code != 200 {
					t.Fatalf("page: %d", code)
				}
				for _, r := range page.Requests {
					paged = append(paged, r.ID)
				}
				if page.NextCursor == "" {
					break
				}
				q = "limit=2&sort=due&cursor=" + url.QueryEscape(page.NextCursor)
			}
			if len(paged) != 5 {
				t.Errorf("paged by two: %v, want all 5 of %v", paged, ids)
			}
			// A week later every pothole is overdue (due Friday 16:30).
			srvNow = received.Add(7 * 24 * time.Hour)
			code, doc, _ = get("overdue=true&service_code=pothole&sort=received")
			if code != 200 || len(doc.Requests) != 4 {
				t.Fatalf("overdue: %d, %+v", code, doc)
			}
			for _, r := range doc.Requests {
				if !r.Overdue || r.BusinessSecondsOverdue == nil || *r.BusinessSecondsOverdue <= 0 || *r.BusinessSecondsRemaining != 0 {
					t.Errorf("overdue request %+v", r)
				}
			}

			_, first, _ := get("limit=1&sort=received")
			for _, tc := range []struct{ query, field string }{
				{"sort=soonest", "sort"},
				{"limit=0", "limit"},
				{"limit=201", "limit"},
				{"cursor=zzz", "cursor"},
				{"sort=due&cursor=" + url.QueryEscape(first.NextCursor), "cursor"},
				{"department=nope", "department"},
				{"service_code=nope", "service_code"},
				{"overdue=maybe", "overdue"},
				{"status=closed", "status"},
				{"channel=fax", "channel"},
				{"colour=red", "colour"},
			} {
				code, _, e := get(tc.query)
				if code != 400 || e["field"] != tc.field || e["description_en"] == "" || e["description_fr"] == "" ||
					e["description_en"] == e["description_fr"] {
					t.Errorf("%s: %d %v, want a bilingual 400 on %s", tc.query, code, e, tc.field)
				}
			}
		})
	}
}
