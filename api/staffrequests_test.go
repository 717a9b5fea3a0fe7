package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pinward/pinward/requests"
)

// TestStaffRequestReads: staff read a request's audit trail and its
// reporter's personal information; every such read is itself an event,
// and no other key reads either.
func TestStaffRequestReads(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		form := w.pothole()
		form.Set("first_name", "Marie")
		form.Set("last_name", "Tremblay")
		form.Set("email", "marie@example.ca")
		form.Set("phone", "819-555-0100")
		id := w.submit(form)
		staff := newKey(t, w.store, requests.RoleStaff)
		integrator := newKey(t, w.store, requests.RoleIntegrator)

		for _, c := range []struct {
			path, key string
			want      int
		}{
			{"/api/v1/requests/" + id + "/reporter", "", http.StatusUnauthorized},
			{"/api/v1/requests/" + id + "/reporter", integrator, http.StatusForbidden},
			{"/api/v1/requests/" + id + "/reporter", "pw_unknown", http.StatusForbidden},
			{"/api/v1/requests/" + id + "/events", integrator, http.StatusForbidden},
			{"/api/v1/requests/999999/reporter", staff, http.StatusNotFound},
			{"/api/v1/requests/999999/events", staff, http.StatusNotFound},
			{"/api/v1/requests/abc/reporter", staff, http.StatusNotFound},
		} {
			h := map[string]string{}
			if c.key != "" {
				h["X-Api-Key"] = c.key
			}
			res := w.do("GET", c.path, nil, h)
			if res.status != c.want || !strings.Contains(string(res.body), "description_fr") {
				t.Errorf("GET %s: %d %s, want %d with a bilingual body", c.path, res.status, res.body, c.want)
			}
			if strings.Contains(string(res.body), "marie@example.ca") {
				t.Errorf("GET %s leaked the email: %s", c.path, res.body)
			}
		}

		res := w.do("GET", "/api/v1/requests/"+id+"/reporter", nil, map[string]string{"X-Api-Key": staff})
		var rep map[string]string
		mustJSON(t, res.body, &rep)
		if res.status != 200 || rep["email"] != "marie@example.ca" || rep["first_name"] != "Marie" || rep["phone"] != "819-555-0100" {
			t.Fatalf("reporter: %d %s", res.status, res.body)
		}
		if cc := res.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("reporter Cache-Control %q, want no-store", cc)
		}

		res = w.do("GET", "/api/v1/requests/"+id+"/events", nil, map[string]string{"X-Api-Key": staff})
		var evs []map[string]any
		mustJSON(t, res.body, &evs)
		if res.status != 200 || len(evs) < 2 {
			t.Fatalf("events: %d %s", res.status, res.body)
		}
		if evs[0]["kind"] != string(requests.EventCreated) {
			t.Errorf("first event %v, want created", evs[0])
		}
		reads := 0
		for _, e := range evs {
			if e["kind"] == string(requests.EventReporterRead) {
				reads++
				if a, _ := e["actor"].(string); !strings.HasPrefix(a, "key:") {
					t.Errorf("reporter read by %q, want the staff key", a)
				}
			}
		}
		// Only the one successful read is logged: refused reads read nothing.
		if reads != 1 {
			t.Errorf("%d reporter_read events, want 1: %s", reads, res.body)
		}
		if strings.Contains(string(res.body), "marie@example.ca") {
			t.Errorf("the audit trail holds the email: %s", res.body)
		}
	})
}
