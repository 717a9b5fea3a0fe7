package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/tiles"
)

// mountTiles serves the vector tiles of t (nothing when t is nil):
//
//	GET /tiles/{layer}/{z}/{x}/{y}.mvt  Mapbox Vector Tile, ETag, gzip on request
//	GET /tiles/{layer}.json             TileJSON 3.0.0
//
// The layers and their feature properties are documented in package tiles.
func (h *handler) mountTiles(r chi.Router, t *tiles.Tiler) {
	if t == nil {
		return
	}
	tile := func(w http.ResponseWriter, r *http.Request) { h.tile(w, r, t) }
	tileJSON := func(w http.ResponseWriter, r *http.Request) { h.tileJSON(w, r, t) }
	r.Get("/tiles/{layer}/{z}/{x}/{y}.{ext}", tile)
	r.Head("/tiles/{layer}/{z}/{x}/{y}.{ext}", tile)
	r.Get("/tiles/{layer}.{ext}", tileJSON)
}

func (h *handler) tile(w http.ResponseWriter, r *http.Request, t *tiles.Tiler) {
	layer := chi.URLParam(r, "layer")
	addr, err := tiles.ParseTile(layer, chi.URLParam(r, "z"), chi.URLParam(r, "x"), chi.URLParam(r, "y"), chi.URLParam(r, "ext"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	rd, err := t.Tile(layer, addr)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	hd := w.Header()
	hd.Add("Vary", "Accept-Encoding")
	hd.Set("ETag", rd.ETag)
	hd.Set("Cache-Control", tiles.CacheControl(layer))
	hd.Set("Access-Control-Allow-Origin", "*")
	if etagMatch(r.Header.Get("If-None-Match"), rd.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", "application/vnd.mapbox-vector-tile")
	body := rd.Data
	if len(body) > 0 && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body = rd.Gzip()
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func (h *handler) tileJSON(w http.ResponseWriter, r *http.Request, t *tiles.Tiler) {
	layer := chi.URLParam(r, "layer")
	if ext := chi.URLParam(r, "ext"); ext != "json" {
		h.writeError(w, r, i18n.Errorf(i18n.Invalid, "format", i18n.T(
			"%q is not a format of a tile set description; ask for .json",
			"%q n'est pas un format de description de tuiles; demandez .json"), clip(ext)))
		return
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	var codes, statuses []string
	for _, c := range h.svc.Catalog().Categories() {
		codes = append(codes, c.Code)
	}
	for _, st := range requests.Statuses() {
		statuses = append(statuses, string(st))
	}
	tj, err := t.TileJSON(layer, scheme+"://"+r.Host+"/tiles/"+layer+"/{z}/{x}/{y}.mvt", codes, statuses)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, tj)
}

// etagMatch reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 wants for If-None-Match).
func etagMatch(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == "*" || v == etag {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip
// (named, or through *, and not with q=0).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "x-gzip" && name != "*" {
			continue
		}
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		return q > 0
	}
	return false
}
