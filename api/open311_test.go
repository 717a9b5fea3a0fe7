package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

type jsonRequest struct {
	ServiceRequestID  string  `json:"service_request_id"`
	Status            string  `json:"status"`
	ServiceName       string  `json:"service_name"`
	ServiceCode       string  `json:"service_code"`
	Description       string  `json:"description"`
	AgencyResponsible string  `json:"agency_responsible"`
	RequestedDatetime string  `json:"requested_datetime"`
	ExpectedDatetime  string  `json:"expected_datetime"`
	Address           string  `json:"address"`
	Lat               float64 `json:"lat"`
	Long              float64 `json:"long"`
	WardID            string  `json:"ward_id"`
	AssetID           string  `json:"asset_id"`
	ClusterID         string  `json:"cluster_id"`
}

type xmlRequests struct {
	Requests []struct {
		ServiceRequestID string  `xml:"service_request_id"`
		Status           string  `xml:"status"`
		ServiceCode      string  `xml:"service_code"`
		Token            string  `xml:"token"`
		Lat              float64 `xml:"lat"`
		WardID           string  `xml:"ward_id"`
	} `xml:"request"`
}

func ids(list []jsonRequest) []string {
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = r.ServiceRequestID
	}
	return out
}

// TestOpen311Walk walks every GeoReport v2 endpoint in JSON and XML.
func TestOpen311Walk(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		// services
		res := w.get("/open311/v2/services.json")
		var services []map[string]any
		mustJSON(t, res.body, &services)
		if res.status != 200 || len(services) < 15 {
			t.Fatalf("services.json: %d, %d services", res.status, len(services))
		}
		if services[0]["service_code"] != "pothole" || services[0]["service_name"] != "Pothole" || services[0]["metadata"] != true {
			t.Errorf("services[0] = %v", services[0])
		}
		res = w.do("GET", "/open311/v2/services.json", nil, map[string]string{"Accept-Language": "fr-CA,fr;q=0.9"})
		mustJSON(t, res.body, &services)
		if services[0]["service_name"] != "Nid-de-poule" {
			t.Errorf("Accept-Language fr: service_name %v", services[0]["service_name"])
		}
		res = w.get("/open311/v2/services.xml?locale=fr")
		var xs struct {
			Services []struct {
				Code string `xml:"service_code"`
				Name string `xml:"service_name"`
			} `xml:"service"`
		}
		mustXML(t, res.body, &xs)
		if len(xs.Services) != len(services) || xs.Services[0].Name != "Nid-de-poule" {
			t.Errorf("services.xml: %+v", xs.Services[:1])
		}

		// service definition
		res = w.get("/open311/v2/services/pothole.json")
		var def struct {
			ServiceCode string `json:"service_code"`
			Attributes  []struct {
				Code     string `json:"code"`
				Datatype string `json:"datatype"`
				Required bool   `json:"required"`
				Variable bool   `json:"variable"`
				Values   []struct{ Key, Name string }
			} `json:"attributes"`
		}
		mustJSON(t, res.body, &def)
		if def.ServiceCode != "pothole" || len(def.Attributes) != 2 || def.Attributes[0].Code != "size" ||
			!def.Attributes[0].Required || !def.Attributes[0].Variable || len(def.Attributes[0].Values) != 3 {
			t.Errorf("services/pothole.json: %s", res.body)
		}
		res = w.get("/open311/v2/services/pothole.xml")
		var xdef struct {
			ServiceCode string `xml:"service_code"`
			Attributes  []struct {
				Code   string   `xml:"code"`
				Values []string `xml:"values>value>key"`
			} `xml:"attributes>attribute"`
		}
		mustXML(t, res.body, &xdef)
		if xdef.ServiceCode != "pothole" || len(xdef.Attributes) != 2 || !slices.Equal(xdef.Attributes[0].Values, []string{"small", "medium", "large"}) {
			t.Errorf("services/pothole.xml: %s", res.body)
		}
		checkError(t, w.get("/open311/v2/services/nope.json"), 404)
		checkError(t, w.get("/open311/v2/services/nope.xml"), 404)

		// POST, form-encoded, JSON answer
		id1 := w.submit(w.pothole())
		// POST, form-encoded, XML answer
		form := w.pothole()
		form.Set("service_code", "streetlight_out")
		form.Del("attribute[size]")
		form.Set("attribute[problem]", "out")
		res = w.postForm("/open311/v2/requests.xml", form, nil)
		if res.status != 201 {
			t.Fatalf("POST requests.xml: %d %s", res.status, res.body)
		}
		var xc xmlRequests
		mustXML(t, res.body, &xc)
		if len(xc.Requests) != 1 || xc.Requests[0].ServiceRequestID == "" || xc.Requests[0].Token == "" {
			t.Fatalf("POST requests.xml answer: %s", res.body)
		}
		id2, token2 := xc.Requests[0].ServiceRequestID, xc.Requests[0].Token
		// POST, JSON body (extension)
		body, _ := json.Marshal(map[string]any{
			"api_key": w.key, "service_code": "abandoned_vehicle", "lat": w.inside[1], "long": w.inside[0],
			"description": "Rusty sedan", "attributes": map[string]any{"days": 12, "plate": "ABC 123"},
		})
		res = w.do("POST", "/open311/v2/requests.json", strings.NewReader(string(body)), map[string]string{"Content-Type": "application/json"})
		if res.status != 201 {
			t.Fatalf("POST JSON body: %d %s", res.status, res.body)
		}
		var created []map[string]any
		mustJSON(t, res.body, &created)
		id3 := created[0]["service_request_id"].(string)
		if loc := res.header.Get("Location"); loc != "/open311/v2/requests/"+id3+".json" {
			t.Errorf("Location %q", loc)
		}

		// GET one, JSON and XML
		res = w.get("/open311/v2/requests/" + id2 + ".json")
		var one []jsonRequest
		mustJSON(t, res.body, &one)
		if res.status != 200 || len(one) != 1 {
			t.Fatalf("requests/%s.json: %d %s", id2, res.status, res.body)
		}
		r := one[0]
		if r.ServiceRequestID != id2 || r.Status != "open" || r.ServiceCode != "streetlight_out" || r.ServiceName != "Streetlight problem" ||
			r.WardID == "" || r.AssetID == "" || r.ClusterID == "" || r.AgencyResponsible == "" || r.Address != "12 Main St" ||
			r.Lat != w.inside[1] || r.Long != w.inside[0] || r.ExpectedDatetime == "" {
			t.Errorf("request %s: %+v", id2, r)
		}
		if _, err := time.Parse(time.RFC3339, r.RequestedDatetime); err != nil {
			t.Errorf("requested_datetime %q: %v", r.RequestedDatetime, err)
		}
		res = w.get("/open311/v2/requests/" + id2 + ".xml")
		var xone xmlRequests
		mustXML(t, res.body, &xone)
		if len(xone.Requests) != 1 || xone.Requests[0].ServiceRequestID != id2 || xone.Requests[0].WardID != r.WardID || xone.Requests[0].Lat != r.Lat {
			t.Errorf("requests/%s.xml: %s", id2, res.body)
		}

		// tokens
		res = w.get("/open311/v2/tokens/" + token2 + ".json")
		var tok []map[string]string
		mustJSON(t, res.body, &tok)
		if len(tok) != 1 || tok[0]["service_request_id"] != id2 || tok[0]["token"] != token2 {
			t.Errorf("tokens json: %s", res.body)
		}
		res = w.get("/open311/v2/tokens/" + token2 + ".xml")
		var xtok xmlRequests
		mustXML(t, res.body, &xtok)
		if len(xtok.Requests) != 1 || xtok.Requests[0].ServiceRequestID != id2 {
			t.Errorf("tokens xml: %s", res.body)
		}
		checkError(t, w.get("/open311/v2/tokens/nosuchtoken.json"), 404)

		// list and filters
		list := func(q string) []string {
			t.Helper()
			res := w.get("/open311/v2/requests.json" + q)
			if res.status != 200 {
				t.Fatalf("requests.json%s: %d %s", q, res.status, res.body)
			}
			var l []jsonRequest
			mustJSON(t, res.body, &l)
			return ids(l)
		}
		all := list("")
		if !slices.Equal(all, []string{id3, id2, id1}) {
			t.Errorf("list = %v, want newest first %v", all, []string{id3, id2, id1})
		}
		for q, want := range map[string][]string{
			"?service_code=pothole":                         {id1},
			"?service_code=pothole,streetlight_out":         {id2, id1},
			"?service_request_id=" + id1 + "," + id3:        {id3, id1},
			"?service_request_id=" + id1 + "&status=closed": {id1}, // the ID wins, as the spec says
			"?service_request_id=x9":                        {},
			"?status=open":                                  {id3, id2, id1},
			"?status=closed":                                {},
			"?page_size=2":                                  {id3, id2},
			"?page_size=2&page=2":                           {id1},
			"?start_date=2000-01-01&end_date=2000-01-31":    {},
			"?start_date=" + url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)): {id3, id2, id1},
			"?end_date=" + url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)):   {},
			"?jurisdiction_id=sample.example":                                                 {id3, id2, id1},
		} {
			if got := list(q); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("requests.json%s = %v, want %v", q, got, want)
			}
		}
		res = w.get("/open311/v2/requests.xml?service_code=streetlight_out")
		var xl xmlRequests
		mustXML(t, res.body, &xl)
		if len(xl.Requests) != 1 || xl.Requests[0].ServiceRequestID != id2 {
			t.Errorf("requests.xml filtered: %s", res.body)
		}
		res = w.get("/open311/v2/requests.xml?status=closed")
		if res.status != 200 || !strings.Contains(string(res.body), "<service_requests></service_requests>") {
			t.Errorf("empty requests.xml: %s", res.body)
		}
		res = w.get("/open311/v2/requests.json?status=closed")
		if strings.TrimSpace(string(res.body)) != "[]" {
			t.Errorf("empty requests.json: %s", res.body)
		}

		// jurisdiction
		e := checkError(t, w.get("/open311/v2/services.json?jurisdiction_id=elsewhere.example"), 404)
		if e.Field != "jurisdiction_id" {
			t.Errorf("unknown jurisdiction field %q", e.Field)
		}
		checkError(t, w.get("/open311/v2/requests.xml?jurisdiction_id=elsewhere.example"), 404)

		// the rest of the surface
		if res := w.get("/healthz"); res.status != 200 {
			t.Errorf("healthz: %d %s", res.status, res.body)
		}
		res = w.get("/metrics")
		if res.status != 200 || !strings.Contains(string(res.body), `pinward_http_requests_total{code="201",method="POST",route="/open311/v2/requests.{format}"} 3`) {
			t.Errorf("metrics: %d\n%s", res.status, res.body)
		}
		checkError(t, w.get("/nowhere"), 404)
		checkError(t, w.get("/open311/v2/services.csv"), 404)
		checkError(t, w.do("DELETE", "/open311/v2/services.json", nil, nil), 405)
	})
}

// TestNoPersonalInformation seeds a reporter and reads every public
// response that could carry the request.
func TestNoPersonalInformation(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		form := w.pothole()
		form.Set("first_name", "Zéphirine")
		form.Set("last_name", "Quenneville-Ostrander")
		form.Set("email", "zephirine.q@example.org")
		form.Set("phone", "+1 819 555 0199")
		form.Set("device_id", "device-7f3a9c")
		res := w.postForm("/open311/v2/requests.xml", form, nil)
		if res.status != 201 {
			t.Fatalf("POST: %d %s", res.status, res.body)
		}
		var xc xmlRequests
		mustXML(t, res.body, &xc)
		id, token := xc.Requests[0].ServiceRequestID, xc.Requests[0].Token
		bodies := map[string][]byte{"POST": res.body}
		for _, p := range []string{
			"/open311/v2/requests.json", "/open311/v2/requests.xml",
			"/open311/v2/requests/" + id + ".json", "/open311/v2/requests/" + id + ".xml",
			"/open311/v2/requests.json?service_request_id=" + id, "/open311/v2/requests.xml?service_request_id=" + id,
			"/open311/v2/tokens/" + token + ".json", "/open311/v2/tokens/" + token + ".xml",
		} {
			res := w.get(p)
			if res.status != 200 {
				t.Fatalf("%s: %d %s", p, res.status, res.body)
			}
			bodies[p] = res.body
		}
		for p, b := range bodies {
			s := strings.ToLower(string(b))
			for _, pii := range []string{"zéphirine", "zephirine", "quenneville", "ostrander", "example.org", "555 0199", "5550199", "device-7f3a9c"} {
				if strings.Contains(s, pii) {
					t.Errorf("%s exposes %q: %s", p, pii, b)
				}
			}
		}
		// The reporter was stored, so the absence above means something.
		rep, err := w.store.GetReporter(t.Context(), reporterAccess(id))
		if err != nil || rep.Email != "zephirine.q@example.org" {
			t.Fatalf("stored reporter: %+v, %v", rep, err)
		}
	})
}

// TestIdempotency: a retried POST with the same Idempotency-Key gets the
// same request; the same key with another submission is a conflict.
func TestIdempotency(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		h := map[string]string{"Idempotency-Key": "retry-0001"}
		first := w.postForm("/open311/v2/requests.json", w.pothole(), h)
		again := w.postForm("/open311/v2/requests.json", w.pothole(), h)
		if first.status != 201 || again.status/100 != 2 {
			t.Fatalf("statuses %d, %d: %s %s", first.status, again.status, first.body, again.body)
		}
		var a, b []map[string]any
		mustJSON(t, first.body, &a)
		mustJSON(t, again.body, &b)
		if a[0]["service_request_id"] != b[0]["service_request_id"] || a[0]["token"] != b[0]["token"] {
			t.Errorf("retry gave another request: %s vs %s", first.body, again.body)
		}
		other := w.pothole()
		other.Set("description", "a different hole")
		checkError(t, w.postForm("/open311/v2/requests.json", other, h), http.StatusUnprocessableEntity)
		if n := w.count(); n != 1 {
			t.Errorf("%d requests stored, want 1", n)
		}
	})
}
