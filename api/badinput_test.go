package api_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/requests"
)

func reporterAccess(id string) requests.ReporterAccess {
	return requests.ReporterAccess{Tenant: tenant, ServiceRequestID: id, Actor: "test", At: time.Now().UTC().Truncate(time.Microsecond)}
}

// TestBadInputs sends each bad input of issue 3 and checks its status, its
// bilingual Open311 error, the field it names, and that nothing was stored.
func TestBadInputs(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		lat, long := ftoa(w.inside[1]), ftoa(w.inside[0])
		form := func(change func(url.Values)) func() (string, string, string) {
			return func() (string, string, string) {
				f := w.pothole()
				change(f)
				return "application/x-www-form-urlencoded", f.Encode(), ""
			}
		}
		raw := func(ct, body string) func() (string, string, string) {
			return func() (string, string, string) { return ct, body, "" }
		}
		cases := []struct {
			name   string
			method string
			path   string
			body   func() (ct, body, _ string)
			header map[string]string
			status int
			kind   string
			field  string
		}{
			{"missing lat and long", "POST", "requests.json", form(func(f url.Values) { f.Del("lat"); f.Del("long") }), nil, 400, "invalid", "lat"},
			{"missing long", "POST", "requests.json", form(func(f url.Values) { f.Del("long") }), nil, 400, "invalid", "long"},
			{"non-numeric lat", "POST", "requests.json", form(func(f url.Values) { f.Set("lat", "forty-six") }), nil, 400, "invalid", "lat"},
			{"non-numeric long", "POST", "requests.xml", form(func(f url.Values) { f.Set("long", "12,5") }), nil, 400, "invalid", "long"},
			{"NaN lat", "POST", "requests.json", form(func(f url.Values) { f.Set("lat", "NaN") }), nil, 400, "invalid", "lat"},
			{"Inf long", "POST", "requests.json", form(func(f url.Values) { f.Set("long", "-Inf") }), nil, 400, "invalid", "long"},
			{"lat out of range", "POST", "requests.json", form(func(f url.Values) { f.Set("lat", "-95") }), nil, 400, "invalid", "lat"},
			{"long out of range", "POST", "requests.json", form(func(f url.Values) { f.Set("long", "-200") }), nil, 400, "invalid", "long"},
			{"lat and long swapped", "POST", "requests.json", form(func(f url.Values) { f.Set("lat", long); f.Set("long", lat) }), nil, 400, "invalid", "lat"},
			{"outside the municipality", "POST", "requests.json", form(func(f url.Values) {
				f.Set("lat", ftoa(w.outside[1]))
				f.Set("long", ftoa(w.outside[0]))
			}), nil, 400, "outside", ""},
			{"outside, XML", "POST", "requests.xml", form(func(f url.Values) {
				f.Set("lat", ftoa(w.outside[1]))
				f.Set("long", ftoa(w.outside[0]))
			}), nil, 400, "outside", ""},
			{"unknown service_code", "POST", "requests.json", form(func(f url.Values) { f.Set("service_code", "teleporter") }), nil, 400, "invalid", "service_code"},
			{"missing service_code", "POST", "requests.json", form(func(f url.Values) { f.Del("service_code") }), nil, 400, "invalid", "service_code"},
			{"missing required attribute", "POST", "requests.json", form(func(f url.Values) { f.Del("attribute[size]") }), nil, 400, "invalid", "attribute[size]"},
			{"attribute not in the list", "POST", "requests.json", form(func(f url.Values) { f.Set("attribute[size]", "enormous") }), nil, 400, "invalid", "attribute[size]"},
			{"wrong attribute type", "POST", "requests.json", form(func(f url.Values) {
				f.Set("service_code", "abandoned_vehicle")
				f.Del("attribute[size]")
				f.Set("attribute[days]", "a week")
			}), nil, 400, "invalid", "attribute[days]"},
			{"unknown attribute", "POST", "requests.json", form(func(f url.Values) { f.Set("attribute[colour]", "red") }), nil, 400, "invalid", "attribute[colour]"},
			{"bad email", "POST", "requests.json", form(func(f url.Values) { f.Set("email", "not-an-address") }), nil, 400, "invalid", "email"},
			{"body over the limit", "POST", "requests.json", form(func(f url.Values) { f.Set("description", strings.Repeat("x", maxBody)) }), nil, 413, "too_large", ""},
			{"JSON body over the limit", "POST", "requests.json", raw("application/json", `{"description":"`+strings.Repeat("x", maxBody)+`"}`), nil, 413, "too_large", ""},
			{"wrong content type", "POST", "requests.json", raw("text/plain", "service_code=pothole"), nil, 415, "unsupported_media_type", "Content-Type"},
			{"no content type", "POST", "requests.xml", raw("", "service_code=pothole"), nil, 415, "unsupported_media_type", "Content-Type"},
			{"malformed form", "POST", "requests.json", raw("application/x-www-form-urlencoded", "service_code=pothole&lat=%zz"), nil, 400, "invalid", ""},
			{"malformed JSON", "POST", "requests.json", raw("application/json", `{"service_code": "pothole",`), nil, 400, "invalid", ""},
			{"JSON with an unknown field", "POST", "requests.json", raw("application/json", `{"service_code": "pothole", "latitude": 46}`), nil, 400, "invalid", ""},
			{"JSON lat not a number", "POST", "requests.json", raw("application/json", `{"api_key":"k","service_code":"pothole","lat":[1],"long":2}`), nil, 400, "invalid", "lat"},
			{"missing api_key", "POST", "requests.json", form(func(f url.Values) { f.Del("api_key") }), nil, 401, "unauthorized", "api_key"},
			{"wrong api_key", "POST", "requests.json", form(func(f url.Values) { f.Set("api_key", "pw_not_a_real_key") }), nil, 403, "forbidden", "api_key"},
			{"wrong api_key, XML", "POST", "requests.xml", form(func(f url.Values) { f.Set("api_key", "pw_not_a_real_key") }), nil, 403, "forbidden", "api_key"},
			{"unknown jurisdiction", "POST", "requests.json", form(func(f url.Values) { f.Set("jurisdiction_id", "elsewhere") }), nil, 404, "not_found", "jurisdiction_id"},
			{"control character in description", "POST", "requests.json", form(func(f url.Values) { f.Set("description", "\x00") }), nil, 400, "invalid", "description"},
			{"unknown request id", "GET", "requests/987654321.json", nil, nil, 404, "not_found", "service_request_id"},
			{"non-numeric request id", "GET", "requests/abc.xml", nil, nil, 404, "not_found", "service_request_id"},
			{"bad start_date", "GET", "requests.json?start_date=yesterday", nil, nil, 400, "invalid", "start_date"},
			{"bad end_date", "GET", "requests.xml?end_date=2026-13-45", nil, nil, 400, "invalid", "end_date"},
			{"end before start", "GET", "requests.json?start_date=2026-03-02&end_date=2026-03-01", nil, nil, 400, "invalid", "end_date"},
			{"bad status filter", "GET", "requests.json?status=pending", nil, nil, 400, "invalid", "status"},
			{"unknown service_code filter", "GET", "requests.json?service_code=teleporter", nil, nil, 400, "invalid", "service_code"},
			{"bad page", "GET", "requests.json?page=0", nil, nil, 400, "invalid", "page"},
			{"bad page_size", "GET", "requests.json?page_size=5000", nil, nil, 400, "invalid", "page_size"},
		}
		// One request exists, so "nothing stored" is measured against a
		// non-empty table.
		w.submit(w.pothole())
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := w.count()
				for _, lang := range []string{"en", "fr"} {
					h := map[string]string{"Accept-Language": lang}
					for k, v := range c.header {
						h[k] = v
					}
					var res response
					if c.body == nil {
						res = w.do(c.method, "/open311/v2/"+c.path, nil, h)
					} else {
						ct, body, _ := c.body()
						if ct != "" {
							h["Content-Type"] = ct
						}
						res = w.do(c.method, "/open311/v2/"+c.path, strings.NewReader(body), h)
					}
					e := checkError(t, res, c.status)
					if e.Kind != c.kind || e.Field != c.field {
						t.Errorf("kind %q field %q, want %q %q: %+v", e.Kind, e.Field, c.kind, c.field, e)
					}
					want := e.DescriptionEn
					if lang == "fr" {
						want = e.DescriptionFr
					}
					if e.Description != want {
						t.Errorf("Accept-Language %s: description %q", lang, e.Description)
					}
					if isXML := strings.Contains(c.path, ".xml"); isXML != strings.HasPrefix(res.header.Get("Content-Type"), "application/xml") {
						t.Errorf("error Content-Type %q for %s", res.header.Get("Content-Type"), c.path)
					}
				}
				if after := w.count(); after != before {
					t.Errorf("%d requests stored by a refused input", after-before)
				}
			})
		}
	})
}
