package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/sqlite"
	"github.com/pinward/pinward/text"
)

// clientError fails t unless err is a bilingual *i18n.Error the API
// answers with a 4xx.
func clientError(t *testing.T, err error) {
	t.Helper()
	var e *i18n.Error
	if !errors.As(err, &e) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return
		}
		t.Fatalf("refusal %T %v is not an *i18n.Error", err, err)
	}
	if st := Status(e.Kind); st < 400 || st >= 500 || e.Message.En == "" || e.Message.Fr == "" {
		t.Fatalf("refusal %+v: status %d, want a bilingual 4xx", e, st)
	}
}

// FuzzFormSubmission feeds arbitrary form bodies to the Open311 form
// reader: nothing panics, and a refusal is a bilingual 4xx. Seeds:
// testdata/fuzz/FuzzFormSubmission.
func FuzzFormSubmission(f *testing.F) {
	f.Add("api_key=k&service_code=pothole&lat=45.5&long=-73.5&description=hole&attribute[size]=large")
	f.Add("lat=1e400&long=NaN&attribute[]=x&attribute[a][]=1&attribute[a][]=2")
	f.Add("lat=%ZZ&long=&email=a%00b")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return // ParseForm refuses it first (errMalformed)
		}
		s, err := formSubmission(form)
		if err != nil {
			clientError(t, err)
			return
		}
		if p := s.sub.Point; p != nil && (p[0] != p[0] || p[1] != p[1]) {
			return // NaN: the Service refuses it with its own message
		}
	})
}

// FuzzJSONSubmission feeds arbitrary JSON bodies to the Open311 JSON
// reader: nothing panics, and a refusal is a bilingual 4xx. Seeds:
// testdata/fuzz/FuzzJSONSubmission.
func FuzzJSONSubmission(f *testing.F) {
	f.Add([]byte(`{"api_key":"k","service_code":"pothole","lat":45.5,"long":-73.5,"description":"hole","attributes":{"size":"large","kinds":["a","b"]}}`))
	f.Add([]byte(`{"lat":"45.5","long":true,"attributes":{"x":{"y":1}}}`))
	f.Add([]byte(`{"lat":1e999} {}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := jsonSubmission(bytes.NewReader(body)); err != nil {
			clientError(t, err)
		}
	})
}

// FuzzAPIKey sends arbitrary api_key values (any bytes, percent-encoded in
// the query) to a staff route of a real server over a real store: the
// answer is a bilingual 401 (no key) or 403 (not a key of this
// municipality), never a 5xx, and only the real key passes. Seeds:
// testdata/fuzz/FuzzAPIKey.
func FuzzAPIKey(f *testing.F) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "keys.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	cat, err := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
	if err != nil {
		f.Fatal(err)
	}
	set, err := data.SampleWards()
	if err != nil {
		f.Fatal(err)
	}
	svc, err := requests.NewService(requests.ServiceConfig{Tenant: "sample", Catalog: cat, Wards: set, Store: st})
	if err != nil {
		f.Fatal(err)
	}
	key, hash := requests.NewAPIKey()
	if _, err := st.CreateAPIKey(ctx, requests.Key{TenantID: "sample", Role: requests.RoleStaff, Hash: hash, CreatedAt: time.Now().UTC()}); err != nil {
		f.Fatal(err)
	}
	h := New(Config{Service: svc, Keys: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	f.Add(key)
	f.Add("")
	f.Add("pw_")
	f.Add(key[:len(key)-1] + "\x00")
	f.Fuzz(func(t *testing.T, k string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/reports/ward.json?api_key="+url.QueryEscape(k), nil))
		switch {
		case k == key:
			if rec.Code != http.StatusOK {
				t.Fatalf("the real key: %d %s", rec.Code, rec.Body)
			}
			return
		case k == "" && rec.Code == http.StatusUnauthorized, k != "" && rec.Code == http.StatusForbidden:
		case text.CheckValue(k) != nil && rec.Code == http.StatusBadRequest: // not text at all (NUL, bad UTF-8)
		default:
			t.Fatalf("api_key %q: %d %s", k, rec.Code, rec.Body)
		}
		var body []struct {
			Field string `json:"field"`
			En    string `json:"description_en"`
			Fr    string `json:"description_fr"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body) == 0 || body[0].Field != "api_key" || body[0].En == "" || body[0].Fr == "" {
			t.Fatalf("api_key %q: body %s (%v), want the bilingual error naming api_key", k, rec.Body, err)
		}
	})
}
