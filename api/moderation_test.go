package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestModeration: a resident flags a request (public, counted, listed for
// staff); staff hide its description (gone from the public record, kept
// for staff, an event with who and why) and show it again.
func TestModeration(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		staff := staffKey(t, w.store)
		id := w.submit(w.pothole())
		json := map[string]string{"Content-Type": "application/json"}
		for range 2 {
			if r := call(t, "POST", w.srv.URL+"/api/v1/requests/"+id+"/flag", strings.NewReader(`{"reason":"insulting"}`), json); r.status != http.StatusAccepted {
				t.Fatalf("flag: %d %s", r.status, r.body)
			}
		}
		r := call(t, "POST", w.srv.URL+"/api/v1/requests/999999/flag", nil, nil)
		checkError(t, r, http.StatusNotFound)
		sk := map[string]string{"X-Api-Key": staff, "Content-Type": "application/json"}
		r = call(t, "GET", w.srv.URL+"/api/v1/flags", nil, sk)
		var flags []struct {
			ID         string `json:"service_request_id"`
			Count      int    `json:"count"`
			LastReason string `json:"last_reason"`
		}
		mustJSON(t, r.body, &flags)
		if len(flags) != 1 || flags[0].ID != id || flags[0].Count != 2 || flags[0].LastReason != "insulting" {
			t.Errorf("flags: %s", r.body)
		}

		desc := func() string {
			var recs []struct {
				Description string `json:"description"`
			}
			mustJSON(t, w.get("/open311/v2/requests/"+id+".json").body, &recs)
			return recs[0].Description
		}
		if desc() == "" {
			t.Fatal("no description to hide")
		}
		r = call(t, "POST", w.srv.URL+"/api/v1/requests/"+id+"/description/hide", strings.NewReader(`{}`), sk)
		checkError(t, r, http.StatusBadRequest) // a reason is required
		r = call(t, "POST", w.srv.URL+"/api/v1/requests/"+id+"/description/hide", strings.NewReader(`{"reason":"personal attack"}`), sk)
		if r.status != 200 {
			t.Fatalf("hide: %d %s", r.status, r.body)
		}
		if d := desc(); d != "" {
			t.Errorf("public description after hiding: %q", d)
		}
		r = call(t, "POST", w.srv.URL+"/api/v1/requests/"+id+"/description/hide", strings.NewReader(`{"reason":"again"}`), sk)
		checkError(t, r, http.StatusConflict)
		r = call(t, "GET", w.srv.URL+"/api/v1/requests/"+id+"/moderation", nil, sk)
		if !strings.Contains(string(r.body), "Deep hole in the right lane") || !strings.Contains(string(r.body), `"flags":2`) {
			t.Errorf("moderation for staff: %s", r.body)
		}
		r = call(t, "GET", w.srv.URL+"/api/v1/requests/"+id+"/events", nil, sk)
		if !strings.Contains(string(r.body), `"description_hidden"`) || !strings.Contains(string(r.body), "personal attack") {
			t.Errorf("events lack the hiding: %s", r.body)
		}
		if r := call(t, "POST", w.srv.URL+"/api/v1/requests/"+id+"/description/show", nil, sk); r.status != 200 {
			t.Fatalf("show: %d %s", r.status, r.body)
		}
		if d := desc(); d != "Deep hole in the right lane" {
			t.Errorf("public description after showing: %q", d)
		}
	})
}
