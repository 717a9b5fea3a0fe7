package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/requests"
)

// TestReportGeneration: generation= re-cuts a ward report by the wards in
// force on that date, each request counted in the ward covering its
// point whatever ward it was stored with; a bad date is a bilingual 400,
// and a key limited to some wards may not re-cut (403).
func TestReportGeneration(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		set, err := data.SampleWards()
		if err != nil {
			t.Fatal(err)
		}
		gen := set.Current(time.Now())
		here, ok := gen.Locate(w.inside)
		if !ok {
			t.Fatal("w.inside is in no sample ward")
		}
		other := "1"
		if here.ID == other {
			other = "2"
		}
		at := time.Date(2026, 2, 3, 15, 0, 0, 0, time.UTC)
		// Three requests at w.inside: one stored in its ward, two in
		// another (as a request of an older generation would be).
		for _, ward := range []string{here.ID, other, other} {
			r := requests.Request{TenantID: tenant, ServiceCode: "pothole", Status: requests.New, Point: w.inside,
				WardID: ward, Department: "roads", RequestedAt: at, UpdatedAt: at, Lang: "en"}
			if _, err := w.store.CreateRequest(ctx, requests.NewRequest{Request: r,
				Event: requests.Event{TenantID: tenant, At: at, Actor: "test", Kind: requests.EventCreated, To: requests.New}}); err != nil {
				t.Fatal(err)
			}
		}
		staff := map[string]string{"X-Api-Key": newKey(t, w.store, requests.RoleStaff)}
		var out struct {
			Rows []struct {
				Key      string
				NameFr   string `json:"name_fr"`
				Received int
			}
		}
		res := w.do("GET", "/api/v1/reports/ward.json?start_date=2026-02-01&end_date=2026-02-28", nil, staff)
		mustJSON(t, res.body, &out)
		if res.status != http.StatusOK || len(out.Rows) != 2 {
			t.Fatalf("plain ward report: %d %s", res.status, res.body)
		}
		res = w.do("GET", "/api/v1/reports/ward.json?start_date=2026-02-01&end_date=2026-02-28&generation=2026-01-01", nil, staff)
		out.Rows = nil
		mustJSON(t, res.body, &out)
		if res.status != http.StatusOK || len(out.Rows) != 1 || out.Rows[0].Key != here.ID || out.Rows[0].Received != 3 ||
			out.Rows[0].NameFr != here.Name.Fr {
			t.Errorf("ward report re-cut: %d %s, want the three requests in ward %s", res.status, res.body, here.ID)
		}

		k, hash := requests.NewAPIKey()
		if _, err := w.store.CreateAPIKey(ctx, requests.Key{TenantID: tenant, Role: requests.RoleStaff, Label: "one ward", Hash: hash,
			CreatedAt: time.Now().UTC(), Scope: requests.Scope{Wards: []string{here.ID}}}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			path   string
			header map[string]string
			want   int
		}{
			{"/api/v1/reports/ward.json?generation=last-term", staff, http.StatusBadRequest},
			{"/api/v1/reports/ward.csv?generation=2026-01-01", map[string]string{"X-Api-Key": k}, http.StatusForbidden},
		} {
			res := w.do("GET", c.path, nil, c.header)
			if res.status != c.want || !strings.Contains(string(res.body), "description_fr") || !strings.Contains(string(res.body), "generation") {
				t.Errorf("GET %s: %d %s, want %d with a bilingual body naming generation", c.path, res.status, res.body, c.want)
			}
		}
	})
}
