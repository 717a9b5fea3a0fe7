package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// The privacy notice the resident page shows before the contact fields
// (public, no key):
//
//	GET /api/v1/privacy-notice  {"version", "purpose", "retention", "contact"},
//	                            each text {"en", "fr"}; 404 when the
//	                            catalog has none
func (h *handler) mountNotice(r chi.Router) {
	r.Get("/api/v1/privacy-notice", func(w http.ResponseWriter, r *http.Request) {
		n, ok := h.svc.Catalog().PrivacyNotice()
		if !ok {
			h.writeError(w, r, errNotFound())
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		writeJSON(w, http.StatusOK, n)
	})
}
