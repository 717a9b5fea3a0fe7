package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

type updateDoc struct {
	UpdateID         string  `json:"update_id" xml:"update_id"`
	ServiceRequestID string  `json:"service_request_id" xml:"service_request_id"`
	Status           string  `json:"status" xml:"status"`
	UpdatedDatetime  string  `json:"updated_datetime" xml:"updated_datetime"`
	Description      string  `json:"description" xml:"description"`
	MediaURL         *string `json:"media_url" xml:"media_url"`
}

type xmlUpdates struct {
	XMLName struct{}    `xml:"service_request_updates"`
	Updates []updateDoc `xml:"request_update"`
}

// TestServiceRequestUpdates: the public notes staff wrote, in the asked
// language (a note written in French only shown as written), in JSON and
// XML, filtered by request and dates; internal notes, assignments and
// moves without a public note never appear; bad dates are a bilingual 400.
func TestServiceRequestUpdates(t *testing.T) {
	forEachStore(t, func(t *testing.T, base *world) {
		w := newClusterWorld(t, base.store)
		one, two := w.report(w.a, ""), w.report(w.b, "")
		move := func(id, body string) {
			t.Helper()
			if res := w.staff("POST", "/api/v1/requests/"+id+"/transition", body); res.status != http.StatusOK {
				t.Fatalf("%s %s: %d %s", id, body, res.status, res.body)
			}
		}
		move(one, `{"to":"acknowledged","public_note_fr":"Nous regardons.","internal_note":"secret-1"}`)
		move(one, `{"to":"in_progress","internal_note":"secret-2"}`)
		if res := w.staff("POST", "/api/v1/requests/"+one+"/assign", `{"assignee":"secret-crew"}`); res.status != http.StatusOK {
			t.Fatalf("assign: %d %s", res.status, res.body)
		}
		if res := w.staff("POST", "/api/v1/requests/"+one+"/notes", `{"internal_note":"secret-3"}`); res.status != http.StatusCreated {
			t.Fatalf("note: %d %s", res.status, res.body)
		}
		move(one, `{"to":"closed","reason":"fixed","public_note_en":"Fixed.","public_note_fr":"Réparé.","internal_note":"secret-4"}`)
		move(two, `{"to":"acknowledged","public_note_en":"Seen.","public_note_fr":"Vu."}`)

		getJSON := func(query string) []updateDoc {
			t.Helper()
			res := w.get("/open311/v2/servicerequestupdates.json" + query)
			if res.status != http.StatusOK {
				t.Fatalf("%s: %d %s", query, res.status, res.body)
			}
			if strings.Contains(string(res.body), "secret") {
				t.Errorf("%s shows an internal note or assignee: %s", query, res.body)
			}
			var out []updateDoc
			mustJSON(t, res.body, &out)
			return out
		}
		summary := func(list []updateDoc) []string {
			out := make([]string, len(list))
			for i, u := range list {
				out[i] = u.ServiceRequestID + " " + u.Status + " " + u.Description
			}
			return out
		}
		wantEn := []string{one + " open Nous regardons.", one + " closed Fixed.", two + " open Seen."}
		wantFr := []string{one + " open Nous regardons.", one + " closed Réparé.", two + " open Vu."}

		en := getJSON("")
		if got := summary(en); !slices.Equal(got, wantEn) {
			t.Errorf("en = %q, want %q", got, wantEn)
		}
		var last time.Time
		seen := map[string]bool{}
		for _, u := range en {
			at, err := time.Parse(time.RFC3339, u.UpdatedDatetime)
			if err != nil || at.Before(last) || time.Since(at) > time.Minute || u.UpdateID == "" || seen[u.UpdateID] || u.MediaURL == nil || *u.MediaURL != "" {
				t.Errorf("update %+v (%v)", u, err)
			}
			last, seen[u.UpdateID] = at, true
		}
		if got := summary(getJSON("?locale=fr")); !slices.Equal(got, wantFr) {
			t.Errorf("fr = %q, want %q", got, wantFr)
		}
		res := w.do("GET", "/open311/v2/servicerequestupdates.xml?jurisdiction_id=sample.example", nil, map[string]string{"Accept-Language": "fr-CA"})
		var x xmlUpdates
		mustXML(t, res.body, &x)
		if got := summary(x.Updates); res.status != http.StatusOK || !slices.Equal(got, wantFr) || x.Updates[0].UpdateID != en[0].UpdateID ||
			!strings.Contains(string(res.body), "<service_request_updates><request_update><update_id>") || strings.Contains(string(res.body), "secret") {
			t.Errorf("xml fr = %q: %s", got, res.body)
		}
		res = w.get("/open311/v2/servicerequestupdates.xml")
		x = xmlUpdates{}
		mustXML(t, res.body, &x)
		if got := summary(x.Updates); !slices.Equal(got, wantEn) {
			t.Errorf("xml en = %q", got)
		}

		// Filters.
		loc := time.FixedZone("", 0)
		if at, err := time.Parse(time.RFC3339, en[0].UpdatedDatetime); err == nil {
			loc = at.Location() // the municipality's offset
		}
		today := time.Now().In(loc)
		yesterday, tomorrow := today.AddDate(0, 0, -1).Format(time.DateOnly), today.AddDate(0, 0, 1).Format(time.DateOnly)
		for query, want := range map[string][]string{
			"?service_request_id=" + two:                             wantEn[2:],
			"?service_request_id=" + one:                             wantEn[:2],
			"?service_request_id=" + two + "," + one:                 wantEn,
			"?service_request_id=99999999":                           {},
			"?service_request_id=abc":                                {},
			"?start_date=" + yesterday + "&end_date=" + tomorrow:     wantEn,
			"?start_date=" + tomorrow:                                {},
			"?end_date=" + yesterday:                                 {},
			"?start_date=2000-01-01&end_date=2000-12-31":             {},
			"?service_request_id=" + one + "&start_date=" + tomorrow: {},
			"?service_request_id=" + one + "&end_date=" + tomorrow:   wantEn[:2],
			"?page_size=1&page=2":                                    wantEn[1:2],
			"?page_size=2&page=2":                                    wantEn[2:],
		} {
			if got := summary(getJSON(query)); !slices.Equal(got, want) {
				t.Errorf("%s = %q, want %q", query, got, want)
			}
		}
		if res := w.get("/open311/v2/servicerequestupdates.json?service_request_id=99999999"); strings.TrimSpace(string(res.body)) != "[]" {
			t.Errorf("no update: %s, want []", res.body)
		}

		// Bad input: the bilingual 400 (404 for another jurisdiction or format).
		for query, field := range map[string]string{
			"?start_date=1899-12-31":                        "start_date",
			"?end_date=3000-01-01":                          "end_date",
			"?start_date=banana":                            "start_date",
			"?start_date=2026-03-02&end_date=2026-03-01":    "end_date",
			"?page_size=0":                                  "page_size",
			"?page=-1":                                      "page",
			"?service_request_id=" + one + "&end_date=9999": "end_date",
		} {
			e := checkError(t, w.get("/open311/v2/servicerequestupdates.json"+query), http.StatusBadRequest)
			if e.Field != field || e.DescriptionEn == e.DescriptionFr {
				t.Errorf("%s: %+v, want field %s in both languages", query, e, field)
			}
		}
		checkError(t, w.get("/open311/v2/servicerequestupdates.xml?start_date=1899-01-01"), http.StatusBadRequest)
		checkError(t, w.get("/open311/v2/servicerequestupdates.json?jurisdiction_id=elsewhere"), http.StatusNotFound)
		checkError(t, w.get("/open311/v2/servicerequestupdates.csv"), http.StatusNotFound)

		// status_notes on the request is still its latest public note.
		res = w.get("/open311/v2/requests/" + one + ".json?locale=fr")
		if !strings.Contains(string(res.body), `"status_notes":"Réparé."`) {
			t.Errorf("status_notes: %s", res.body)
		}
	})
}

type discoveryDoc struct {
	Changeset  string `json:"changeset" xml:"changeset"`
	Contact    string `json:"contact" xml:"contact"`
	KeyService string `json:"key_service" xml:"key_service"`
	Endpoints  []struct {
		Specification string   `json:"specification" xml:"specification"`
		URL           string   `json:"url" xml:"url"`
		Changeset     string   `json:"changeset" xml:"changeset"`
		Type          string   `json:"type" xml:"type"`
		Formats       []string `json:"formats" xml:"formats>format"`
	} `json:"endpoints" xml:"endpoints>endpoint"`
}

// TestDiscovery: the GeoReport v2 discovery document in JSON and XML,
// pointing at the server it was asked on.
func TestDiscovery(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		check := func(what string, status int, d discoveryDoc) {
			t.Helper()
			if status != http.StatusOK || len(d.Endpoints) != 1 || d.KeyService == "" {
				t.Fatalf("%s: %d %+v", what, status, d)
			}
			if _, err := time.Parse(time.RFC3339, d.Changeset); err != nil {
				t.Errorf("%s: changeset %q: %v", what, d.Changeset, err)
			}
			e := d.Endpoints[0]
			if e.Specification != "http://wiki.open311.org/GeoReport_v2" || e.URL != w.srv.URL+"/open311/v2" || e.Changeset != d.Changeset ||
				e.Type != "production" || !slices.Equal(e.Formats, []string{"application/json", "text/xml"}) {
				t.Errorf("%s: endpoint %+v", what, e)
			}
			// The endpoint it names answers.
			if res := w.get(strings.TrimPrefix(e.URL, w.srv.URL) + "/services.json"); res.status != http.StatusOK {
				t.Errorf("%s: %s/services.json: %d", what, e.URL, res.status)
			}
		}
		res := w.get("/open311/v2/discovery.json")
		var en discoveryDoc
		mustJSON(t, res.body, &en)
		check("json", res.status, en)
		res = w.get("/open311/v2/discovery.xml?locale=fr")
		var fr discoveryDoc
		mustXML(t, res.body, &fr)
		check("xml", res.status, fr)
		if !strings.HasPrefix(string(res.body), "<?xml") || !strings.Contains(string(res.body), "<discovery><changeset>") ||
			!strings.Contains(string(res.body), "<formats><format>application/json</format><format>text/xml</format></formats>") {
			t.Errorf("xml: %s", res.body)
		}
		if fr.KeyService == en.KeyService || !strings.Contains(fr.KeyService, "clés") {
			t.Errorf("key_service en %q, fr %q", en.KeyService, fr.KeyService)
		}
		checkError(t, w.get("/open311/v2/discovery.json?jurisdiction_id=elsewhere"), http.StatusNotFound)
	})
}
