package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// mountWeb serves the pages (package web, handed in as Config.Web): the
// resident page at /, status pages at /r/{id}, the staff map at /staff,
// council reports at /staff/reports and their files under /static/, all
// gzipped for clients that take it. api does not import web (ARCHITECTURE.md):
// main wires it. Without Config.Web these paths are plain 404s.
func (h *handler) mountWeb(r chi.Router, pages http.Handler) {
	if pages == nil {
		return
	}
	r = r.With(gzipped, h.bilingualErrors)
	r.Get("/", pages.ServeHTTP)
	r.Get("/r/{id}", pages.ServeHTTP)
	r.Get("/staff", pages.ServeHTTP)
	r.Get("/staff/reports", pages.ServeHTTP)
	r.Get("/staff/queue", pages.ServeHTTP)
	r.Get("/rights", pages.ServeHTTP)
	r.Get("/static/*", pages.ServeHTTP)
	r.Get("/sw.js", pages.ServeHTTP)
	r.Get("/manifest.webmanifest", pages.ServeHTTP)
}
