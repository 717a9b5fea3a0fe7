package api_test

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestBlockList over HTTP: staff put an e-mail and a device on the block
// list; a submission from either is answered like an accepted one (201,
// the same fields, a Location) but is no request anyone can read or list,
// only a row flagged blocked in the staff's list; every bad input to the
// list is a bilingual 4xx.
func TestBlockList(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		sk := map[string]string{"X-Api-Key": staffKey(t, w.store), "Content-Type": "application/json"}
		add := func(body string) response {
			return call(t, "POST", w.srv.URL+"/api/v1/blocks", strings.NewReader(body), sk)
		}
		r := add(`{"kind": "email", "value": " Troll@Example.org ", "reason": "500 reports an hour"}`)
		if r.status != http.StatusCreated || !strings.Contains(string(r.body), `"value":"troll@example.org"`) {
			t.Fatalf("add e-mail: %d %s", r.status, r.body)
		}
		if r := add(`{"kind": "device", "value": "phone-666"}`); r.status != http.StatusCreated {
			t.Fatalf("add device: %d %s", r.status, r.body)
		}
		for body, want := range map[string]int{
			`{"kind": "email", "value": "troll@example.org"}`: http.StatusConflict,
			`{"kind": "phone", "value": "555"}`:               http.StatusBadRequest,
			`{"kind": "email", "value": "not an address"}`:    http.StatusBadRequest,
			`{"kind": "device", "value": ""}`:                 http.StatusBadRequest,
			`{"kind": "device", "value": "x", "extra": 1}`:    http.StatusBadRequest,
			`{"kind": "device", "value": "x"} {}`:             http.StatusBadRequest,
			``:                                                http.StatusBadRequest,
		} {
			checkError(t, add(body), want)
		}
		form := call(t, "POST", w.srv.URL+"/api/v1/blocks", strings.NewReader("kind=email"), map[string]string{
			"X-Api-Key": sk["X-Api-Key"], "Content-Type": "application/x-www-form-urlencoded"})
		checkError(t, form, http.StatusUnsupportedMediaType)
		checkError(t, call(t, "DELETE", w.srv.URL+"/api/v1/blocks/99999", nil, sk), http.StatusNotFound)
		checkError(t, call(t, "DELETE", w.srv.URL+"/api/v1/blocks/abc", nil, sk), http.StatusNotFound)

		// The answers: an accepted submission and two blocked ones.
		fields := func(res response) []string {
			t.Helper()
			if res.status != http.StatusCreated || res.header.Get("Location") == "" {
				t.Fatalf("POST: %d %s (Location %q)", res.status, res.body, res.header.Get("Location"))
			}
			var out []map[string]any
			mustJSON(t, res.body, &out)
			return slices.Sorted(maps.Keys(out[0]))
		}
		ok := w.pothole()
		ok.Set("email", "resident@example.org")
		want := fields(w.postForm("/open311/v2/requests.json", ok, nil))
		byMail := w.pothole()
		byMail.Set("email", "TROLL@example.org")
		byMail.Set("lat", ftoa(w.inside[1]+0.002)) // its own cluster, like the accepted one
		byDevice := w.pothole()
		byDevice.Set("device_id", "phone-666")
		byDevice.Set("lat", ftoa(w.inside[1]+0.004))
		var ids []string
		for _, f := range []map[string][]string{byMail, byDevice} {
			res := w.postForm("/open311/v2/requests.json", f, nil)
			if got := fields(res); !slices.Equal(got, want) {
				t.Errorf("a blocked submission is answered with %v, an accepted one with %v", got, want)
			}
			var out []map[string]any
			mustJSON(t, res.body, &out)
			id := out[0]["service_request_id"].(string)
			ids = append(ids, id)
			checkError(t, w.get("/open311/v2/requests/"+id+".json"), http.StatusNotFound)
		}
		if n := w.count(); n != 1 {
			t.Errorf("the store holds %d requests, want the accepted one only", n)
		}
		list := string(w.get("/open311/v2/requests.json").body)
		for _, id := range ids {
			if strings.Contains(list, `"service_request_id":"`+id+`"`) {
				t.Errorf("the public list shows blocked %s", id)
			}
		}

		r = call(t, "GET", w.srv.URL+"/api/v1/blocked", nil, sk)
		var blocked []struct {
			ID      string `json:"service_request_id"`
			Blocked bool   `json:"blocked"`
			Kind    string `json:"blocked_by_kind"`
			Email   string `json:"email"`
			Device  string `json:"device_id"`
		}
		mustJSON(t, r.body, &blocked)
		if len(blocked) != 2 || blocked[0].ID != ids[1] || blocked[0].Kind != "device" || blocked[0].Device != "phone-666" ||
			blocked[1].ID != ids[0] || blocked[1].Email != "TROLL@example.org" || !blocked[0].Blocked || !blocked[1].Blocked {
			t.Errorf("staff's blocked list: %s", r.body)
		}

		// Removed from the list, the device's next submission is a request.
		r = call(t, "GET", w.srv.URL+"/api/v1/blocks", nil, sk)
		var entries []struct {
			ID   int64  `json:"id"`
			Kind string `json:"kind"`
		}
		mustJSON(t, r.body, &entries)
		if len(entries) != 2 || entries[1].Kind != "device" {
			t.Fatalf("entries: %s", r.body)
		}
		if r := call(t, "DELETE", w.srv.URL+"/api/v1/blocks/"+strconv.FormatInt(entries[1].ID, 10), nil, sk); r.status != http.StatusNoContent {
			t.Fatalf("remove: %d %s", r.status, r.body)
		}
		id := w.submit(byDevice)
		if r := w.get("/open311/v2/requests/" + id + ".json"); r.status != http.StatusOK {
			t.Errorf("after removal: %d %s", r.status, r.body)
		}
	})
}
