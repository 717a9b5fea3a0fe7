package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestOfflineFiles: the service worker and the manifest are served at the
// root, revalidated like pages; every file the worker keeps for offline
// visits exists, and the resident page's own files are among them; the
// manifest's icon exists. The page is told where the basemap layers are
// only when pinward serves a basemap and no style URL replaces it.
func TestOfflineFiles(t *testing.T) {
	get := func(h http.Handler, path string) (*http.Response, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		b, _ := io.ReadAll(rec.Result().Body)
		return rec.Result(), string(b)
	}
	h, err := Handler(Options{Basemap: true, Addresses: true})
	if err != nil {
		t.Fatal(err)
	}
	res, sw := get(h, "/sw.js")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("/sw.js: %d %v", res.StatusCode, res.Header)
	}
	m := regexp.MustCompile(`const SHELL = (\[[^\]]*\]);`).FindStringSubmatch(sw)
	if m == nil {
		t.Fatalf("sw.js names no shell:\n%.500s", sw)
	}
	var shell []string
	if err := json.Unmarshal([]byte(m[1]), &shell); err != nil {
		t.Fatal(err)
	}
	_, page := get(h, "/")
	for _, f := range shell {
		if r, _ := get(h, f); r.StatusCode != 200 {
			t.Errorf("the service worker keeps %s: %d", f, r.StatusCode)
		}
		if strings.HasPrefix(f, "/static/") && strings.Contains(f, "resident-") && !strings.Contains(page, f) {
			t.Errorf("the worker keeps %s, which the page does not load", f)
		}
	}
	for _, ref := range regexp.MustCompile(`"(/static/[^"]+)"`).FindAllStringSubmatch(page, -1) {
		if !strings.Contains(sw, `"`+ref[1]+`"`) {
			t.Errorf("the page loads %s, which the service worker does not keep", ref[1])
		}
	}
	res, body := get(h, "/manifest.webmanifest")
	var man struct {
		StartURL string `json:"start_url"`
		Icons    []struct{ Src string }
	}
	if err := json.Unmarshal([]byte(body), &man); err != nil || res.Header.Get("Content-Type") != "application/manifest+json" {
		t.Fatalf("manifest: %v %v", res.Header, err)
	}
	if man.StartURL != "/" || len(man.Icons) == 0 {
		t.Errorf("manifest %+v", man)
	}
	for _, ic := range man.Icons {
		if r, _ := get(h, ic.Src); r.StatusCode != 200 || !strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("manifest icon %s: %d %v", ic.Src, r.StatusCode, r.Header)
		}
	}
	layers := regexp.MustCompile(`"basemap_layers":"(/static/basemap-layers-[0-9a-f]{10}\.json)"`).FindStringSubmatch(page)
	if layers == nil || !strings.Contains(page, `"addresses":true`) {
		t.Fatalf("page config: %s", regexp.MustCompile(`<script id="pinward-config"[^<]*`).FindString(page))
	}
	if r, body := get(h, layers[1]); r.StatusCode != 200 || !strings.Contains(body, `"source-layer":"roads"`) {
		t.Errorf("basemap layers: %d %.200s", r.StatusCode, body)
	}
	for _, o := range []Options{{}, {Basemap: true, BasemapStyle: "https://tiles.example.org/style.json"}} {
		h, err := Handler(o)
		if err != nil {
			t.Fatal(err)
		}
		if _, page := get(h, "/"); strings.Contains(page, "basemap_layers") || strings.Contains(page, `"addresses"`) {
			t.Errorf("%+v: the page is told of a basemap or addresses", o)
		}
	}
}
