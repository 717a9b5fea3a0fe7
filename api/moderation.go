package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/pinward/pinward/ratelimit"
)

// mountModeration mounts the public "report this" flag on r (limited as
// ratelimit.Flags) and the staff moderation routes on staff.
func (h *handler) mountModeration(r, staff chi.Router) {
	r.With(h.limit(ratelimit.Flags)).Post("/api/v1/requests/{id}/flag", h.flagRequest)
	staff.Get("/api/v1/flags", h.listFlags)
	staff.Get("/api/v1/requests/{id}/moderation", h.requestModeration)
	staff.Post("/api/v1/requests/{id}/description/hide", h.moderateDescription(true))
	staff.Post("/api/v1/requests/{id}/description/show", h.moderateDescription(false))
}

// flagRequest is a resident's "report this": {"reason": "..."} (optional).
func (h *handler) flagRequest(w http.ResponseWriter, r *http.Request) {
	in, err := h.readClusterBody(w, r, "reason")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	reason := ""
	if in.Reason != nil {
		reason = *in.Reason
	}
	if err := h.svc.FlagRequest(r.Context(), chi.URLParam(r, "id"), reason); err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{
		"status":     "flagged",
		"message_en": "Thank you: staff will look at this report.",
		"message_fr": "Merci : le personnel examinera ce signalement.",
	})
}

type flagOut struct {
	ServiceRequestID  string    `json:"service_request_id"`
	Count             int       `json:"count"`
	Last              time.Time `json:"last"`
	LastReason        string    `json:"last_reason"`
	DescriptionHidden bool      `json:"description_hidden"`
}

func (h *handler) listFlags(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	fs, err := h.svc.Flags(r.Context(), limit)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := make([]flagOut, 0, len(fs))
	for _, f := range fs {
		out = append(out, flagOut{f.ServiceRequestID, f.Count, f.Last.UTC(), f.LastReason, f.Hidden})
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) requestModeration(w http.ResponseWriter, r *http.Request) {
	m, err := h.svc.ModerationOf(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"description_hidden": m.DescriptionHidden, "hidden_description": m.HiddenDescription, "flags": m.Flags,
	})
}

// moderateDescription hides or shows a request's public description;
// {"reason": "..."} is required to hide and kept in the event.
func (h *handler) moderateDescription(hide bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		in, err := h.readClusterBody(w, r, "reason")
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		reason := ""
		if in.Reason != nil {
			reason = *in.Reason
		}
		req, err := h.svc.HideDescription(r.Context(), chi.URLParam(r, "id"), hide, actor(r), reason)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"service_request_id": req.ServiceRequestID, "description_hidden": hide})
	}
}
