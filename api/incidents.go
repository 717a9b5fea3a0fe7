package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/pinward/pinward/requests"
)

// The register of confidentiality incidents (admin key only; Law 25,
// PIPEDA):
//
//	POST /api/v1/incidents  a JSON requests.IncidentIn: 201 with the incident
//	GET  /api/v1/incidents  the register, latest discovered first
//
// There is no update or delete: the register is kept as written, at least
// five years (requests.IncidentRetention).

// admins are the roles of the admin-only routes (the incident register,
// the mail outbox).
var admins = []requests.Role{requests.RoleAdmin}

// mountIncidents mounts the register's routes when a store keeps it.
func (h *handler) mountIncidents(r chi.Router, st requests.IncidentStore) {
	if st == nil {
		return
	}
	r.Post("/api/v1/incidents", func(w http.ResponseWriter, r *http.Request) {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			h.writeError(w, r, errUnsupportedMedia(r.Header.Get("Content-Type")))
			return
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, h.maxBody))
		dec.DisallowUnknownFields()
		var in requests.IncidentIn
		err := dec.Decode(&in)
		if err == nil {
			if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
				err = errors.New("data after the JSON object")
			}
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if !errors.As(err, &mbe) {
				err = errMalformed("JSON", err)
			}
			h.writeError(w, r, err)
			return
		}
		inc, err := requests.NewIncident(in, h.svc.Tenant(), actor(r), h.now())
		if err == nil {
			inc, err = st.CreateIncident(r.Context(), inc)
		}
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusCreated, inc.Out())
	})
	r.Get("/api/v1/incidents", func(w http.ResponseWriter, r *http.Request) {
		incs, err := st.ListIncidents(r.Context(), h.svc.Tenant())
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		out := make([]requests.IncidentOut, 0, len(incs))
		for _, in := range incs {
			out = append(out, in.Out())
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, out)
	})
}
