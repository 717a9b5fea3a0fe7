package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestDistIsFresh fails when web/src, build.mjs or package-lock.json changed
// and web/dist was not rebuilt: it recomputes the digest build.mjs writes
// to dist/.stamp (the same files, the same way).
func TestDistIsFresh(t *testing.T) {
	files := []string{"build.mjs", "package-lock.json"}
	entries, err := os.ReadDir("src")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		files = append(files, "src/"+e.Name())
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.FromSlash(f))
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(f + "\x00"))
		h.Write(b)
		h.Write([]byte("\x00"))
	}
	want := hex.EncodeToString(h.Sum(nil))[:32]
	got, err := dist.ReadFile("dist/.stamp")
	if err != nil {
		t.Fatalf("web/dist has no .stamp: run make web (%v)", err)
	}
	if strings.TrimSpace(string(got)) != want {
		t.Fatalf("web/dist is stale (stamp %s, sources %s): run make web and commit web/dist", strings.TrimSpace(string(got)), want)
	}
}

func TestHandler(t *testing.T) {
	h, err := Handler(Options{WebKey: "pw_</script><b>", BasemapStyle: "", Bounds: [4]float64{-73.1, 46, -73, 46.1}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	// hashed is the content-named file of dist matching pattern.
	hashed := func(pattern string) string {
		t.Helper()
		m, err := fs.Glob(dist, "dist/"+pattern)
		if err != nil || len(m) != 1 {
			t.Fatalf("dist/%s: %v %v, want one file", pattern, m, err)
		}
		return "/static/" + strings.TrimPrefix(m[0], "dist/")
	}
	resident, maplibre := hashed("resident-*.js"), hashed("maplibre-gl-??????????.mjs")
	worker, appCSS := hashed("maplibre-gl-worker-*.mjs"), hashed("app-*.css")
	for _, c := range []struct {
		path, ctype, contains string
		code                  int
	}{
		{"/", "text/html", `"web_key":"pw_\u003c/script\u003e\u003cb\u003e"`, 200},
		{"/", "text/html", resident, 200},
		{"/r/12", "text/html", hashed("status-*.js"), 200},
		{"/staff", "text/html", hashed("staff-*.js"), 200},
		{resident, "text/javascript", "." + strings.TrimPrefix(maplibre, "/static"), 200},
		{maplibre, "text/javascript", strings.TrimPrefix(worker, "/static/"), 200},
		{worker, "text/javascript", "", 200},
		{appCSS, "text/css", "", 200},
		{"/static/resident.js", "", "", 404},
		{"/static/maplibre-gl.LICENSE.txt", "text/plain", "", 200},
		{"/static/index.html", "", "", 404},
		{"/static/.stamp", "", "", 404},
		{"/static/", "", "", 404},
		{"/nothing", "", "", 404},
	} {
		res, body := get(c.path)
		if res.StatusCode != c.code || !strings.HasPrefix(res.Header.Get("Content-Type"), c.ctype) || !strings.Contains(body, c.contains) {
			t.Errorf("GET %s: %d %q, want %d %q containing %q", c.path, res.StatusCode, res.Header.Get("Content-Type"), c.code, c.ctype, c.contains)
		}
		if strings.Contains(body, "<!--pinward-config-->") {
			t.Errorf("GET %s: config marker left in the page", c.path)
		}
	}
	if res, _ := get(appCSS); res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("%s: Cache-Control %q, want immutable", appCSS, res.Header.Get("Cache-Control"))
	}
	// A file not named after its content is revalidated by the build's stamp.
	const license = "/static/maplibre-gl.LICENSE.txt"
	res, _ := get(license)
	req, _ := http.NewRequest("GET", srv.URL+license, nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	res2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res.Header.Get("ETag") == "" || res2.StatusCode != http.StatusNotModified || strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("revalidation: ETag %q, then %d; Cache-Control %q", res.Header.Get("ETag"), res2.StatusCode, res.Header.Get("Cache-Control"))
	}
}
