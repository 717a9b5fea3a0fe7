package api_test

import (
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/web"
	"github.com/prometheus/client_golang/prometheus"
)

// TestWebCompressedAndCached: the pages and their files go out gzipped to
// a client that accepts it (and plain to one that does not), files named
// after their content are cached for good, pages are revalidated.
func TestWebCompressedAndCached(t *testing.T) {
	w := newWorld(t, backends[0].open(t))
	pages, err := web.Handler(web.Options{WebKey: w.key})
	if err != nil {
		t.Fatal(err)
	}
	h := api.New(api.Config{Service: sampleService(t, w.store), Keys: w.store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: prometheus.NewRegistry(), Web: pages})
	srv := httptest.NewServer(h)
	defer srv.Close()
	// get sends Accept-Encoding itself, so the transport leaves the body as sent.
	get := func(path, encoding string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if encoding != "" {
			req.Header.Set("Accept-Encoding", encoding)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, b
	}
	gunzip := func(b []byte) []byte {
		t.Helper()
		zr, err := gzip.NewReader(strings.NewReader(string(b)))
		if err != nil {
			t.Fatalf("not gzip: %v", err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("bad gzip: %v", err)
		}
		return out
	}

	res, zpage := get("/", "gzip, deflate, br")
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("GET /: %d, encoding %q, cache %q", res.StatusCode, res.Header.Get("Content-Encoding"), res.Header.Get("Cache-Control"))
	}
	page := gunzip(zpage)
	files := regexp.MustCompile(`/static/[a-z0-9.-]+-[0-9a-f]{10}\.(?:m?js|css)`).FindAllString(string(page), -1)
	if len(files) < 3 {
		t.Fatalf("the resident page names %v, want its script and styles by content-hashed names", files)
	}
	res, _ = get("/", "")
	if res.Header.Get("ETag") == "" {
		t.Error("the page has no ETag to revalidate with")
	}
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	if res2, err := srv.Client().Do(req); err != nil {
		t.Fatal(err)
	} else if res2.Body.Close(); res2.StatusCode != http.StatusNotModified {
		t.Errorf("revalidating the page: %d", res2.StatusCode)
	}

	// The page's script pulls MapLibre by its hashed name too.
	script := files[len(files)-1]
	_, js := get(script, "")
	ml := regexp.MustCompile(`\./(maplibre-gl-[0-9a-f]{10}\.mjs)`).FindStringSubmatch(string(js))
	if ml == nil {
		t.Fatalf("%s does not import MapLibre by a hashed name", script)
	}
	files = append(files, "/static/"+ml[1])
	for _, f := range files {
		plain, body := get(f, "")
		zres, zbody := get(f, "gzip")
		if plain.StatusCode != 200 || zres.StatusCode != 200 {
			t.Fatalf("GET %s: %d, gzip %d", f, plain.StatusCode, zres.StatusCode)
		}
		if cc := zres.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", f, cc)
		}
		if plain.Header.Get("Content-Encoding") != "" || zres.Header.Get("Content-Encoding") != "gzip" ||
			!strings.Contains(strings.Join(zres.Header.Values("Vary"), ","), "Accept-Encoding") {
			t.Errorf("%s: encodings %q plain, %q with gzip; Vary %q", f, plain.Header.Get("Content-Encoding"),
				zres.Header.Get("Content-Encoding"), zres.Header.Values("Vary"))
			continue
		}
		if got := gunzip(zbody); string(got) != string(body) || len(zbody) >= len(body) {
			t.Errorf("%s: gzip gives %d bytes for %d (equal after gunzip: %v)", f, len(zbody), len(body), string(got) == string(body))
		}
	}
	// A range is served as asked, not compressed.
	req, _ = http.NewRequest("GET", srv.URL+files[0], nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("Range", "bytes=0-9")
	if res, err := srv.Client().Do(req); err != nil {
		t.Fatal(err)
	} else if res.Body.Close(); res.StatusCode != http.StatusPartialContent || res.Header.Get("Content-Encoding") != "" {
		t.Errorf("range request: %d %q", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
}
