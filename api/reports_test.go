package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/requests"
)

// TestCouncilReports: volumes, response times and SLA compliance by ward,
// department and category, over requests with known times stored in a
// real store, read through the staff API in JSON and CSV.
func TestCouncilReports(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		set, err := data.SampleWards()
		if err != nil {
			t.Fatal(err)
		}
		gen := set.Current(time.Now())
		wardA, _ := gen.Locate(w.inside)
		var wardB string
		for _, id := range []string{"1", "2", "3", "4", "5", "6"} {
			if _, ok := gen.Ward(id); ok && id != wardA.ID {
				wardB = id
				break
			}
		}
		if wardA == nil || wardB == "" {
			t.Fatal("the sample town needs two wards")
		}
		base := time.Date(2026, 1, 5, 15, 0, 0, 0, time.UTC)
		// store creates a request received at `at`, due `due` later (0: no
		// SLA), closed `closed` after it (0: still open).
		store := func(code, ward, dept string, at time.Time, due, closed time.Duration) {
			t.Helper()
			r := requests.Request{TenantID: tenant, ServiceCode: code, Status: requests.New, Point: w.inside,
				WardID: ward, Department: dept, RequestedAt: at, UpdatedAt: at, Lang: "en"}
			if due > 0 {
				r.DueAt = at.Add(due)
			}
			got, err := w.store.CreateRequest(ctx, requests.NewRequest{Request: r,
				Event: requests.Event{TenantID: tenant, At: at, Actor: "test", Kind: requests.EventCreated, To: requests.New}})
			if err != nil {
				t.Fatal(err)
			}
			if closed > 0 {
				if _, err := w.store.UpdateStatus(ctx, requests.StatusChange{Tenant: tenant, ServiceRequestID: got.ServiceRequestID,
					To: requests.Closed, Note: "done", Actor: "test", At: at.Add(closed)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		store("pothole", wardA.ID, "roads", base, 72*time.Hour, 2*time.Hour)                  // on time
		store("pothole", wardA.ID, "roads", base.Add(time.Hour), 24*time.Hour, 48*time.Hour)  // late
		store("graffiti", wardB, "bylaw", base.Add(2*time.Hour), 24*time.Hour, 0)             // open, overdue
		store("graffiti", wardB, "bylaw", base.Add(3*time.Hour), 0, 0)                        // open, no SLA
		store("pothole", wardA.ID, "roads", base.AddDate(0, 0, -10), 24*time.Hour, time.Hour) // before the period
		store("pothole", wardA.ID, "roads", base.AddDate(0, 0, 30), 24*time.Hour, time.Hour)  // after it
		staff := map[string]string{"X-Api-Key": newKey(t, w.store, requests.RoleStaff)}
		period := "start_date=2026-01-05&end_date=2026-01-31"

		var out struct {
			By    string
			Rows  []map[string]any
			Total map[string]any
		}
		res := w.do("GET", "/api/v1/reports/ward.json?"+period, nil, staff)
		if res.status != http.StatusOK {
			t.Fatalf("ward report: %d %s", res.status, res.body)
		}
		mustJSON(t, res.body, &out)
		if out.By != "ward" || len(out.Rows) != 2 {
			t.Fatalf("ward report: %s", res.body)
		}
		a, b := out.Rows[0], out.Rows[1]
		if a["key"] != wardA.ID {
			a, b = b, a
		}
		want := func(what string, m map[string]any, k string, v any) {
			t.Helper()
			got := m[k]
			if f, ok := v.(float64); ok && got != nil {
				if g, _ := got.(float64); math.Abs(g-f) < 1e-9 {
					return
				}
			}
			if got != v {
				t.Errorf("%s: %s = %v, want %v (%s)", what, k, got, v, res.body)
			}
		}
		want("ward A", a, "name_en", wardA.Name.En)
		want("ward A", a, "name_fr", wardA.Name.Fr)
		for k, v := range map[string]any{"received": 2.0, "open": 0.0, "closed": 2.0, "closed_on_time": 1.0, "closed_late": 1.0,
			"open_overdue": 0.0, "no_sla": 0.0, "sla_compliance": 0.5, "median_hours_to_close": 25.0, "p90_hours_to_close": 43.4} {
			want("ward A", a, k, v)
		}
		for k, v := range map[string]any{"key": wardB, "received": 2.0, "open": 2.0, "closed": 0.0, "open_overdue": 1.0, "no_sla": 1.0,
			"sla_compliance": 0.0, "median_hours_to_close": nil} {
			want("ward B", b, k, v)
		}
		for k, v := range map[string]any{"key": "*", "received": 4.0, "closed": 2.0, "sla_compliance": 1.0 / 3} {
			want("total", out.Total, k, v)
		}

		// By category, in French CSV: the catalog's French names, a stable
		// header, the total last.
		res = w.do("GET", "/api/v1/reports/category.csv?locale=fr&"+period, nil, staff)
		if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("category CSV: %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
		}
		recs, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		catalog, err := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
		if err != nil {
			t.Fatal(err)
		}
		graffiti, _ := catalog.Category("graffiti")
		pothole, _ := catalog.Category("pothole")
		wantCSV := [][]string{
			{"key", "name", "received", "open", "closed", "closed_on_time", "closed_late", "open_overdue", "no_sla", "sla_compliance", "median_hours_to_close", "p90_hours_to_close"},
			{"graffiti", graffiti.Name.Fr, "2", "2", "0", "0", "0", "1", "1", "0.0000", "", ""},
			{"pothole", pothole.Name.Fr, "2", "0", "2", "1", "1", "0", "0", "0.5000", "25.00", "43.40"},
			{"*", "Total", "4", "2", "2", "1", "1", "1", "1", "0.3333", "25.00", "43.40"},
		}
		if got, want := strings.Join(flatten(recs), "|"), strings.Join(flatten(wantCSV), "|"); got != want {
			t.Errorf("category CSV:\n%s\nwant\n%s", res.body, want)
		}

		res = w.do("GET", "/api/v1/reports/department.json?"+period, nil, staff)
		mustJSON(t, res.body, &out)
		if len(out.Rows) != 2 || out.Rows[0]["key"] != "bylaw" || out.Rows[1]["key"] != "roads" || out.Rows[1]["received"] != 2.0 {
			t.Errorf("department report: %s", res.body)
		}

		// Without a key, the answer says what the key is for.
		if res := w.do("GET", "/api/v1/reports/ward.json", nil, nil); !strings.Contains(string(res.body), "X-Api-Key") ||
			strings.Contains(string(res.body), "submit a request") {
			t.Errorf("no key: %s", res.body)
		}

		// Bad inputs: a bilingual 4xx each.
		integrator := map[string]string{"X-Api-Key": w.key}
		for _, c := range []struct {
			path   string
			header map[string]string
			want   int
		}{
			{"/api/v1/reports/ward.json", nil, http.StatusUnauthorized},
			{"/api/v1/reports/ward.json", integrator, http.StatusForbidden},
			{"/api/v1/reports/street.json", staff, http.StatusBadRequest},
			{"/api/v1/reports/ward.xml", staff, http.StatusNotFound},
			{"/api/v1/reports/ward.json?start_date=yesterday", staff, http.StatusBadRequest},
			{"/api/v1/reports/ward.json?start_date=2026-02-01&end_date=2026-01-01", staff, http.StatusBadRequest},
		} {
			res := w.do("GET", c.path, nil, c.header)
			if res.status != c.want || !strings.Contains(string(res.body), "description_fr") {
				t.Errorf("GET %s: %d %s, want %d with a bilingual body", c.path, res.status, res.body, c.want)
			}
		}
	})
}

func flatten(recs [][]string) []string {
	var out []string
	for _, r := range recs {
		out = append(out, strings.Join(r, ","))
	}
	return out
}
