package api

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/pinward/pinward/addresses"
	"github.com/pinward/pinward/basemap"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/ratelimit"
)

// mountMap serves pinward's own street basemap (a PMTiles archive, so no
// third-party tile server learns where residents look) and the address
// search of the resident page, each when configured:
//
//	GET /basemap/tiles.json          TileJSON 3.0.0 of the archive
//	GET /basemap/{z}/{x}/{y}.mvt     a vector tile (204 where it has none)
//	GET /api/v1/addresses?q=&limit=  addresses matching q, best first
func (h *handler) mountMap(r chi.Router, bm *basemap.Archive, ad *addresses.Index) {
	if bm != nil {
		r := r.With(h.limit(ratelimit.Tiles))
		r.Get("/basemap/tiles.json", func(w http.ResponseWriter, r *http.Request) { h.basemapJSON(w, r, bm) })
		r.Get("/basemap/{z}/{x}/{y}.{ext}", func(w http.ResponseWriter, r *http.Request) { h.basemapTile(w, r, bm) })
	}
	if ad != nil {
		r.With(h.limit(ratelimit.Locate)).Get("/api/v1/addresses", func(w http.ResponseWriter, r *http.Request) { h.addresses(w, r, ad) })
	}
}

func (h *handler) basemapJSON(w http.ResponseWriter, r *http.Request, bm *basemap.Archive) {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	info := bm.Info()
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, map[string]any{
		"tilejson": "3.0.0", "name": "pinward basemap", "scheme": "xyz",
		"tiles":   []string{scheme + "://" + r.Host + "/basemap/{z}/{x}/{y}.mvt"},
		"minzoom": info.MinZoom, "maxzoom": info.MaxZoom, "bounds": info.Bounds, "center": info.Center,
		"vector_layers": []any{},
	})
}

func (h *handler) basemapTile(w http.ResponseWriter, r *http.Request, bm *basemap.Archive) {
	z, errZ := strconv.ParseUint(chi.URLParam(r, "z"), 10, 8)
	x, errX := strconv.ParseUint(chi.URLParam(r, "x"), 10, 32)
	y, errY := strconv.ParseUint(chi.URLParam(r, "y"), 10, 32)
	if errZ != nil || errX != nil || errY != nil || z > 30 || x >= 1<<z || y >= 1<<z || chi.URLParam(r, "ext") != "mvt" {
		h.writeError(w, r, i18n.Errorf(i18n.Invalid, "tile", i18n.T(
			"%q is not a basemap tile; ask for /basemap/{z}/{x}/{y}.mvt with 0 ≤ x, y < 2^z",
			"%q n'est pas une tuile du fond de carte; demandez /basemap/{z}/{x}/{y}.mvt avec 0 ≤ x, y < 2^z"), clip(r.URL.Path)))
		return
	}
	data, gz, err := bm.Tile(uint8(z), uint32(x), uint32(y))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Cache-Control", "public, max-age=3600")
	hd.Add("Vary", "Accept-Encoding")
	if data == nil {
		w.WriteHeader(http.StatusNoContent) // no tile here: MapLibre draws nothing
		return
	}
	if gz && !acceptsGzip(r.Header.Get("Accept-Encoding")) {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err == nil {
			data, err = io.ReadAll(zr)
		}
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		gz = false
	}
	hd.Set("Content-Type", "application/vnd.mapbox-vector-tile")
	if gz {
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

// maxAddresses is the most addresses one search answers.
const maxAddresses = 20

func (h *handler) addresses(w http.ResponseWriter, r *http.Request, ad *addresses.Index) {
	q := r.URL.Query()
	text := q.Get("q")
	if text == "" || len(text) > addresses.MaxQuery {
		h.writeError(w, r, i18n.Errorf(i18n.Invalid, "q", i18n.T(
			"q is the address to search for, 1 to %d bytes", "q est l'adresse à chercher, de 1 à %d octets"), addresses.MaxQuery))
		return
	}
	limit := 8
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxAddresses {
			h.writeError(w, r, i18n.Errorf(i18n.Invalid, "limit", i18n.T(
				"limit is a whole number from 1 to %d", "limit est un nombre entier de 1 à %d"), maxAddresses))
			return
		}
		limit = n
	}
	found := ad.Search(text, limit)
	if found == nil {
		found = []addresses.Address{}
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, found)
}
