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
// and submits; a staff key is refused, because the page publishes it.
func TestServeWebKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var")
	vars := map[string]string{"PINWARD_DATA_DIR": dir, "PINWARD_ADDR": "127.0.0.1:0", "PINWARD_LOG_LEVEL": "warn"}
	env, out, errb := testEnv(vars)
	if code := Main(t.Context(), []string{"keys", "create", "--role", "staff"}, env); code != 0 {
		t.Fatalf("keys create: %d %s", code, errb)
	}
	staff := strings.TrimSpace(out.String())
	env, _, errb = testEnv(vars)
	if code := Main(t.Context(), []string{"serve", "--web-key", staff}, env); code != 2 || !strings.Contains(errb.String(), "integrator") {
		t.Errorf("serve --web-key STAFF: exit %d, %s", code, errb)
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
