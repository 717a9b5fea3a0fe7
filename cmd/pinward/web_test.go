package main

import (
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeWebKey: the page's key given with --web-key is stored (hashed)
// and submits, and can do nothing else: the page publishes it, so a staff
// or integrator key is refused as --web-key, and the published key may not
// push assets, move work orders or manage clusters.
func TestServeWebKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var")
	vars := map[string]string{"PINWARD_DATA_DIR": dir, "PINWARD_ADDR": "127.0.0.1:0", "PINWARD_LOG_LEVEL": "warn"}
	env, out, errb := testEnv(vars)
	if code := Main(t.Context(), []string{"keys", "create", "--role", "staff"}, env); code != 0 {
		t.Fatalf("keys create: %d %s", code, errb)
	}
	staff := strings.TrimSpace(out.String())
	env, out, errb = testEnv(vars)
	if code := Main(t.Context(), []string{"keys", "create", "--role", "integrator"}, env); code != 0 {
		t.Fatalf("keys create: %d %s", code, errb)
	}
	integrator := strings.TrimSpace(out.String())
	for name, k := range map[string]string{"staff": staff, "integrator": integrator} {
		env, _, errb = testEnv(vars)
		if code := Main(t.Context(), []string{"serve", "--web-key", k}, env); code != 2 || !strings.Contains(errb.String(), "reporter key") {
			t.Errorf("serve --web-key %s: exit %d, %s", name, code, errb)
		}
	}

	const key = "pw_browsertestkeybrowsertestkeybrowsertestkey"
	vars["PINWARD_WEB_KEY"] = key
	base := startServeForBrowser(t, vars)
	res, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), `"web_key":"`+key+`"`) {
		t.Fatalf("GET /: %d, page without its key", res.StatusCode)
	}
	res, err = http.PostForm(base+"/open311/v2/requests.json", url.Values{
		"api_key": {key}, "service_code": {"graffiti"}, "lat": {"46.0300619"}, "long": {"-73.066232"}, "attribute[offensive]": {"no"},
	})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Errorf("POST with --web-key: %d", res.StatusCode)
	}

	// Everything beyond submitting is refused to the published key.
	for _, c := range []struct{ method, path, ctype, body string }{
		{"PUT", "/api/v1/assets/streetlight", "application/x-ndjson",
			`{"type":"Feature","id":"SL-X","geometry":{"type":"Point","coordinates":[-73.066,46.03]},"properties":{}}` + "\n"},
		{"DELETE", "/api/v1/assets/streetlight/SL-X", "", ""},
		{"GET", "/api/v1/assets/changes", "", ""},
		{"POST", "/api/v1/workorders/1/status", "application/json", `{"status":"closed","status_notes":"x"}`},
		{"GET", "/api/v1/workorders", "", ""},
		{"GET", "/api/v1/clusters", "", ""},
	} {
		req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Api-Key", key)
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "description_fr") {
			t.Errorf("%s %s with the page's key: %d %s, want a bilingual 403", c.method, c.path, res.StatusCode, b)
		}
	}
}

func TestServeNoWeb(t *testing.T) {
	vars := map[string]string{"PINWARD_DATA_DIR": t.TempDir(), "PINWARD_ADDR": "127.0.0.1:0", "PINWARD_LOG_LEVEL": "warn", "PINWARD_NO_WEB": "true"}
	base := startServeForBrowser(t, vars)
	for _, p := range []string{"/", "/staff", "/r/1"} {
		res, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("--no-web: GET %s is %d", p, res.StatusCode)
		}
	}
}
