package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/wards"
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
		// store creates a request received at `at` by channel ch, due `due`
		// later (0: no SLA), closed `closed` after it (0: still open).
		store := func(code, ward, dept string, ch requests.Channel, at time.Time, due, closed time.Duration) requests.Request {
			t.Helper()
			r := requests.Request{TenantID: tenant, ServiceCode: code, Status: requests.New, Point: w.inside,
				WardID: ward, Department: dept, RequestedAt: at, UpdatedAt: at, Lang: "en", Channel: ch}
			if due > 0 {
				r.DueAt = at.Add(due)
			}
			got, err := w.store.CreateRequest(ctx, requests.NewRequest{Request: r,
				Event: requests.Event{TenantID: tenant, At: at, Actor: "test", Kind: requests.EventCreated, To: requests.New}})
			if err != nil {
				t.Fatal(err)
			}
			if closed > 0 {
				if got, err = w.store.UpdateStatus(ctx, requests.StatusChange{Tenant: tenant, ServiceRequestID: got.ServiceRequestID,
					To: requests.Closed, Note: "done", Actor: "test", At: at.Add(closed)}); err != nil {
					t.Fatal(err)
				}
			}
			return got
		}
		// Monday 5 January 2026, 10:00 in the sample's Toronto time. Closing
		// from new is the first transition out of it: acknowledged then.
		// Business hours (08:30–16:30): 2 for the first; 5.5 + 8 + 2.5 = 16
		// for the second, closed Wednesday 11:00.
		r1 := store("pothole", wardA.ID, "roads", requests.ChannelWeb, base, 72*time.Hour, 2*time.Hour)                 // on time
		r2 := store("pothole", wardA.ID, "roads", requests.ChannelWeb, base.Add(time.Hour), 24*time.Hour, 48*time.Hour) // late
		r3 := store("graffiti", wardB, "bylaw", requests.ChannelPhone, base.Add(2*time.Hour), 24*time.Hour, 0)          // open, overdue
		store("graffiti", wardB, "bylaw", requests.ChannelAPI, base.Add(3*time.Hour), 0, 0)                             // open, no SLA
		store("pothole", wardA.ID, "roads", requests.ChannelWeb, base.AddDate(0, 0, -10), 24*time.Hour, time.Hour)      // before the period
		store("pothole", wardA.ID, "roads", requests.ChannelWeb, base.AddDate(0, 0, 30), 24*time.Hour, time.Hour)       // after it
		// r3 acknowledged half an hour after it came in, then escalated to
		// level 2; residents answered about r1 (4) and r2 (2).
		r3, err = w.store.UpdateStatus(ctx, requests.StatusChange{Tenant: tenant, ServiceRequestID: r3.ServiceRequestID,
			To: requests.Acknowledged, Actor: "clerk", At: r3.RequestedAt.Add(30 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := w.store.SetNextEscalations(ctx, tenant, []requests.NextEscalation{{ID: r3.ID, Status: r3.Status, At: base}}); err != nil || n != 1 {
			t.Fatalf("SetNextEscalations: %d, %v", n, err)
		}
		for range 2 {
			if _, err := w.store.ClaimEscalations(ctx, requests.EscalationClaim{Tenant: tenant, Now: base.Add(24 * time.Hour),
				Plan: func(st requests.EscalationState) (requests.Escalation, bool) {
					e := requests.Escalation{Level: st.EscalationLevel + 1, Notify: "department", Actor: "sweep"}
					if e.Level < 2 {
						e.Next = base
					}
					return e, st.EscalationLevel < 2
				}}); err != nil {
				t.Fatal(err)
			}
		}
		sat, ok := w.store.(requests.FeedbackStore)
		if !ok {
			t.Fatalf("%T cannot record satisfaction", w.store)
		}
		for _, a := range []struct {
			r     requests.Request
			score int
		}{{r1, 4}, {r2, 2}} {
			if err := sat.GiveSatisfaction(ctx, requests.Satisfaction{Tenant: tenant, ServiceRequestID: a.r.ServiceRequestID,
				Score: a.score, At: a.r.UpdatedAt}); err != nil {
				t.Fatal(err)
			}
		}
		staff := map[string]string{"X-Api-Key": newKey(t, w.store, requests.RoleStaff)}
		period := "start_date=2026-01-05&end_date=2026-01-31"

		var out struct {
			By     string
			Levels int `json:"escalation_levels"`
			Rows   []map[string]any
			Total  map[string]any
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
			"open_overdue": 0.0, "no_sla": 0.0, "sla_compliance": 0.5, "median_hours_to_close": 25.0, "p90_hours_to_close": 43.4,
			"median_business_hours_to_close": 9.0, "p90_business_hours_to_close": 14.6, // 2 and 16
			"acknowledged": 2.0, "median_hours_to_acknowledge": 25.0, "p90_hours_to_acknowledge": 43.4, "reopened": 0.0,
			"satisfaction_count": 2.0, "satisfaction_mean": 3.0, "satisfied_share": 0.5} {
			want("ward A", a, k, v)
		}
		for k, v := range map[string]any{"key": wardB, "received": 2.0, "open": 2.0, "closed": 0.0, "open_overdue": 1.0, "no_sla": 1.0,
			"sla_compliance": 0.0, "median_hours_to_close": nil, "median_business_hours_to_close": nil,
			"acknowledged": 1.0, "median_hours_to_acknowledge": 0.5, "satisfaction_count": 0.0, "satisfaction_mean": nil, "satisfied_share": nil} {
			want("ward B", b, k, v)
		}
		for k, v := range map[string]any{"key": "*", "received": 4.0, "closed": 2.0, "sla_compliance": 1.0 / 3, "acknowledged": 3.0,
			"median_hours_to_acknowledge": 2.0, "satisfaction_count": 2.0} {
			want("total", out.Total, k, v)
		}
		if fmt.Sprint(b["escalations"]) != "[1 1]" || fmt.Sprint(a["escalations"]) != "[0 0]" || fmt.Sprint(out.Total["escalations"]) != "[1 1]" ||
			out.Levels != 2 || a["key2"] != nil {
			t.Errorf("ward report escalations: %s", res.body)
		}

		// By category, in French CSV: French headers, the catalog's French
		// names, the total last.
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
			{"Catégorie", "Nom de la catégorie", "Reçues", "Ouvertes", "Fermées", "Fermées dans les délais", "Fermées en retard",
				"Ouvertes en retard", "Sans délai", "Respect des délais", "Heures médianes avant fermeture", "Heures avant fermeture, 90e centile",
				"Heures ouvrables médianes avant fermeture", "Heures ouvrables avant fermeture, 90e centile", "Prises en charge",
				"Heures médianes avant prise en charge", "Heures avant prise en charge, 90e centile", "Réouvertures",
				"Escalades, niveau 1", "Escalades, niveau 2", "Réponses de satisfaction", "Satisfaction moyenne (1 à 5)", "Part de satisfaits (4 ou 5)"},
			{"graffiti", graffiti.Name.Fr, "2", "2", "0", "0", "0", "1", "1", "0.0000", "", "", "", "", "1", "0.50", "0.50", "0", "1", "1", "0", "", ""},
			{"pothole", pothole.Name.Fr, "2", "0", "2", "1", "1", "0", "0", "0.5000", "25.00", "43.40", "9.00", "14.60", "2", "25.00", "43.40", "0", "0", "0", "2", "3.00", "0.5000"},
			{"*", "Total", "4", "2", "2", "1", "1", "1", "1", "0.3333", "25.00", "43.40", "9.00", "14.60", "3", "2.00", "38.80", "0", "1", "1", "2", "3.00", "0.5000"},
		}
		if got, want := strings.Join(flatten(recs), "|"), strings.Join(flatten(wantCSV), "|"); got != want {
			t.Errorf("category CSV:\n%s\nwant\n%s", res.body, want)
		}

		res = w.do("GET", "/api/v1/reports/department.json?"+period, nil, staff)
		mustJSON(t, res.body, &out)
		if len(out.Rows) != 2 || out.Rows[0]["key"] != "bylaw" || out.Rows[1]["key"] != "roads" || out.Rows[1]["received"] != 2.0 {
			t.Errorf("department report: %s", res.body)
		}

		// By channel: each channel named, in key order.
		res = w.do("GET", "/api/v1/reports/channel.json?"+period, nil, staff)
		mustJSON(t, res.body, &out)
		if len(out.Rows) != 3 || out.Rows[0]["key"] != "api" || out.Rows[1]["key"] != "phone" || out.Rows[2]["key"] != "web" ||
			out.Rows[2]["received"] != 2.0 || out.Rows[1]["name_fr"] != "Téléphone" || out.Rows[2]["name_en"] != "Web page" {
			t.Errorf("channel report: %s", res.body)
		}

		bylaw, _ := catalog.Department("bylaw")
		// Crossed: ward by department, one row per pair, in JSON and in a
		// French CSV chosen by Accept-Language.
		res = w.do("GET", "/api/v1/reports/ward,department.json?"+period, nil, staff)
		mustJSON(t, res.body, &out)
		if res.status != http.StatusOK || out.By != "ward,department" || len(out.Rows) != 2 {
			t.Fatalf("crossed report: %d %s", res.status, res.body)
		}
		a, b = out.Rows[0], out.Rows[1]
		if a["key"] != wardA.ID {
			a, b = b, a
		}
		if a["key2"] != "roads" || a["received"] != 2.0 || a["median_business_hours_to_close"] != 9.0 || b["key2"] != "bylaw" ||
			b["name2_en"] != bylaw.Name.En || out.Total["key2"] != "*" || out.Total["received"] != 4.0 {
			t.Errorf("crossed report: %s", res.body)
		}
		res = w.do("GET", "/api/v1/reports/department,ward.csv?"+period, nil, map[string]string{"X-Api-Key": staff["X-Api-Key"], "Accept-Language": "fr-CA,fr;q=0.9"})
		recs, err = csv.NewReader(bytes.NewReader(res.body)).ReadAll()
		if err != nil || len(recs) != 4 {
			t.Fatalf("crossed CSV: %v\n%s", err, res.body)
		}
		if h := strings.Join(recs[0][:5], "|"); h != "Service|Nom du service|Quartier|Nom du quartier|Reçues" {
			t.Errorf("crossed CSV header: %s", h)
		}
		if r := recs[1]; r[0] != "bylaw" || r[2] != wardB || r[3] != gen.Wards[slices.IndexFunc(gen.Wards, func(x wards.Ward) bool { return x.ID == wardB })].Name.Fr || r[4] != "2" {
			t.Errorf("crossed CSV row: %v", r)
		}
		if r := recs[3]; r[0] != "*" || r[2] != "*" || r[4] != "4" {
			t.Errorf("crossed CSV total: %v", r)
		}
		if !strings.Contains(res.header.Get("Content-Disposition"), "pinward-report-department-ward.csv") {
			t.Errorf("crossed CSV file name: %s", res.header.Get("Content-Disposition"))
		}
		// English headers by lang=.
		res = w.do("GET", "/api/v1/reports/ward.csv?lang=en&"+period, nil, staff)
		if !strings.HasPrefix(string(res.body), "Ward,Ward name,Received,Open,") {
			t.Errorf("English CSV: %s", res.body)
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
			{"/api/v1/reports/ward,ward.json", staff, http.StatusBadRequest},
			{"/api/v1/reports/ward,street.csv", staff, http.StatusBadRequest},
			{"/api/v1/reports/ward,department,category.json", staff, http.StatusBadRequest},
			{"/api/v1/reports/,ward.json", staff, http.StatusBadRequest},
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
