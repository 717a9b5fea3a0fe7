// Package web serves pinward's two pages: the resident report page (/, with
// the status page /r/{id}) and the staff cluster map (/staff). They are
// static files built from web/src by esbuild (MapLibre GL JS from npm,
// pinned in web/package-lock.json) into web/dist, which is committed and
// embedded here, so `go build` needs no Node. Rebuild with `make web` (or
// `cd web && npm ci && npm run build`); a test fails when web/src changed
// and web/dist was not rebuilt.
//
// The pages talk to pinward only over HTTP: Open311 (/open311/v2/...), the
// locate endpoint (/api/v1/locate), the staff API (/api/v1/clusters...) and
// vector tiles (/tiles/{layer}.json). web imports nothing of pinward; the
// server hands it what the pages need in Options.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
)

// contentNamed matches the names build.mjs gives scripts and styles: the
// first 10 hex digits of the content's SHA-256 before the extension.
var contentNamed = regexp.MustCompile(`^[a-z0-9.-]+-[0-9a-f]{10}\.(m?js|css|json|svg)$`)

//go:embed all:dist
var dist embed.FS

// Options is what the pages are told by the server.
type Options struct {
	// WebKey is the Open311 api_key the resident page submits with: an
	// integrator key the server created (only its hash is stored). Empty:
	// the page says submitting is not available.
	WebKey string
	// BasemapStyle is the URL of a MapLibre style to draw under pinward's
	// own layers, for deployments that have a map service. Empty: the
	// ward boundaries and assets from pinward's tiles are the only context,
	// so no map service on the internet is needed.
	BasemapStyle string
	// Basemap says pinward serves streets itself under /basemap/ (a
	// PMTiles file, --basemap): the pages draw them with the Protomaps
	// layers of the build (basemap-layers-*.json). BasemapStyle wins.
	Basemap bool
	// Addresses says /api/v1/addresses answers (--addresses): the
	// resident page shows its address search.
	Addresses bool
	// Bounds is the municipality's extent, [west, south, east, north], for
	// the first view of the maps.
	Bounds [4]float64
	// Name is the municipality's name for page titles (both languages).
	NameEn, NameFr string
}

// pageConfig is Options as the pages' scripts read it.
type pageConfig struct {
	WebKey        string     `json:"web_key"`
	BasemapStyle  string     `json:"basemap_style"`
	BasemapLayers string     `json:"basemap_layers,omitempty"`
	Addresses     bool       `json:"addresses,omitempty"`
	Bounds        [4]float64 `json:"bounds"`
	NameEn        string     `json:"name_en"`
	NameFr        string     `json:"name_fr"`
}

// configMarker is where the built HTML pages get their configuration.
const configMarker = "<!--pinward-config-->"

// Handler serves the pages and their static files:
//
//	GET /            the resident report page
//	GET /r/{id}      a request's status page
//	GET /staff       the staff cluster map
//	GET /staff/reports  council reports (volumes, response times, SLA)
//	GET /staff/queue    the department queue: SLA state, history, actions
//	GET /rights      the resident's rights: ask for the one-time link, use it
//	GET /sw.js       the resident page's service worker (offline)
//	GET /manifest.webmanifest  the resident page's web app manifest
//	GET /static/...  scripts, styles, MapLibre, named after their content
//	                 and cached for a year (immutable)
//
// Any other path is not found. The caller mounts it under its router.
func Handler(opts Options) (http.Handler, error) {
	files, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	pc := pageConfig{WebKey: opts.WebKey, BasemapStyle: opts.BasemapStyle, Addresses: opts.Addresses,
		Bounds: opts.Bounds, NameEn: opts.NameEn, NameFr: opts.NameFr}
	if opts.Basemap && opts.BasemapStyle == "" {
		layers, err := fs.Glob(files, "basemap-layers-*.json")
		if err != nil || len(layers) != 1 {
			return nil, fmt.Errorf("web: the build has %d basemap layer files, want 1 (run make web)", len(layers))
		}
		pc.BasemapLayers = "/static/" + layers[0]
	}
	cfg, err := json.Marshal(pc) // escapes <, > and &: safe inside <script>
	if err != nil {
		return nil, fmt.Errorf("web: config: %w", err)
	}
	inject := []byte(`<script id="pinward-config" type="application/json">` + string(cfg) + `</script>`)
	pages := map[string][]byte{}
	for _, name := range []string{"index.html", "status.html", "staff.html", "reports.html", "queue.html", "rights.html"} {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, fmt.Errorf("web: the build lacks %s (run make web): %w", name, err)
		}
		if !bytes.Contains(b, []byte(configMarker)) {
			return nil, fmt.Errorf("web: %s has no %s", name, configMarker)
		}
		pages[name] = bytes.Replace(b, []byte(configMarker), inject, 1)
	}
	stamp, _ := fs.ReadFile(files, ".stamp")
	etag := `"` + strings.TrimSpace(string(stamp)) + `"`

	mux := http.NewServeMux()
	page := func(name string) http.HandlerFunc {
		sum := sha256.Sum256(pages[name])
		pageTag := `"` + hex.EncodeToString(sum[:8]) + `"`
		return func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			// A page names this build's files: revalidated on every load
			// (cheap: an ETag), so a new build reaches browsers at once.
			h.Set("Cache-Control", "no-cache")
			h.Set("ETag", pageTag)
			h.Set("X-Content-Type-Options", "nosniff")
			if r.Header.Get("If-None-Match") == pageTag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			h.Set("Content-Type", "text/html; charset=utf-8")
			w.Write(pages[name])
		}
	}
	mux.HandleFunc("GET /{$}", page("index.html"))
	mux.HandleFunc("GET /r/{id}", page("status.html"))
	mux.HandleFunc("GET /staff", page("staff.html"))
	mux.HandleFunc("GET /staff/reports", page("reports.html"))
	mux.HandleFunc("GET /staff/queue", page("queue.html"))
	mux.HandleFunc("GET /rights", page("rights.html"))
	// The service worker and the manifest keep fixed names at the root (a
	// worker controls only the paths under its own); revalidated like pages.
	for name, ctype := range map[string]string{"sw.js": "text/javascript; charset=utf-8", "manifest.webmanifest": "application/manifest+json"} {
		body, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, fmt.Errorf("web: the build lacks %s (run make web): %w", name, err)
		}
		mux.HandleFunc("GET /"+name, func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Cache-Control", "no-cache")
			h.Set("ETag", etag)
			h.Set("X-Content-Type-Options", "nosniff")
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			h.Set("Content-Type", ctype)
			w.Write(body)
		})
	}
	static := http.StripPrefix("/static/", http.FileServerFS(files))
	mux.HandleFunc("GET /static/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if strings.HasSuffix(name, ".html") || strings.HasPrefix(name, ".") || name == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if contentNamed.MatchString(name) {
			// Named after its content (build.mjs): the name changes
			// whenever the file does, so it is cached for good.
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
			w.Header().Set("ETag", etag)
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		if strings.HasSuffix(name, ".mjs") {
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		}
		static.ServeHTTP(w, r)
	})
	return mux, nil
}
