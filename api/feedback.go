package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/linktoken"
	"github.com/pinward/pinward/requests"
)

// The resident's answers after closure, public: the link token of the
// closing message is the authority (package linktoken), each token good
// for one purpose on one request:
//
//	GET  /api/v1/requests/{id}/satisfaction?token=T  the answer given ({"given": false} before)
//	POST /api/v1/requests/{id}/satisfaction          {"token", "score": 1..5, "comment"}: once (201, then 409)
//	POST /api/v1/requests/{id}/reopen                {"token", "comment"}: back to the department's queue,
//	                                                 within the catalog's reopen_days of the close (else 409)
//
// A forged token, one for another purpose or another request, is the
// same bilingual 404 as a token never issued; a refused call changes
// nothing.
func (h *handler) mountFeedback(r chi.Router) {
	if h.mail.Feedback == nil || h.mail.Links == nil {
		return
	}
	r.Get("/api/v1/requests/{id}/satisfaction", h.getSatisfaction)
	r.Post("/api/v1/requests/{id}/satisfaction", h.postSatisfaction)
	r.Post("/api/v1/requests/{id}/reopen", h.postReopen)
}

// linkRequest checks that token allows p on request {id}, and returns id.
func (h *handler) linkRequest(r *http.Request, p linktoken.Purpose, token string) (string, error) {
	id := chi.URLParam(r, "id")
	subject, err := h.mail.Links.Verify(p, token)
	if err != nil || subject != id {
		return "", requests.UnsubscribeNotFoundError()
	}
	return id, nil
}

// satisfactionOut is a request's satisfaction as its resident sees it.
type satisfactionOut struct {
	ServiceRequestID string     `json:"service_request_id"`
	Given            bool       `json:"given"`
	Score            int        `json:"score,omitempty"`
	Comment          string     `json:"comment,omitempty"`
	At               *time.Time `json:"at,omitempty"`
}

func toSatisfactionOut(id string, s requests.Satisfaction, ok bool) satisfactionOut {
	out := satisfactionOut{ServiceRequestID: id, Given: ok}
	if ok {
		out.Score, out.Comment, out.At = s.Score, s.Comment, optTime(s.At)
	}
	return out
}

func (h *handler) getSatisfaction(w http.ResponseWriter, r *http.Request) {
	id, err := h.linkRequest(r, linktoken.Satisfaction, r.URL.Query().Get("token"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	s, ok, err := h.svc.Feedback(h.mail.Feedback).Satisfaction(r.Context(), id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, toSatisfactionOut(id, s, ok))
}

func (h *handler) postSatisfaction(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token   string `json:"token"`
		Score   *int   `json:"score"`
		Comment string `json:"comment"`
	}
	if err := h.readJSONBody(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	id, err := h.linkRequest(r, linktoken.Satisfaction, in.Token)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if in.Score == nil {
		h.writeError(w, r, i18n.Errorf(i18n.Invalid, "score", i18n.T("is required (1 to 5)", "est obligatoire (de 1 à 5)")))
		return
	}
	fb := h.svc.Feedback(h.mail.Feedback)
	if err := fb.Satisfy(r.Context(), id, *in.Score, in.Comment); err != nil {
		h.writeError(w, r, err)
		return
	}
	s, ok, err := fb.Satisfaction(r.Context(), id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "satisfaction given", "request", id, "score", s.Score)
	writeJSON(w, http.StatusCreated, toSatisfactionOut(id, s, ok))
}

func (h *handler) postReopen(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token   string `json:"token"`
		Comment string `json:"comment"`
	}
	if err := h.readJSONBody(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	id, err := h.linkRequest(r, linktoken.Reopen, in.Token)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	req, err := h.svc.Feedback(h.mail.Feedback).Reopen(r.Context(), id, in.Comment)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "request reopened by its resident", "request", id)
	lang := langOf(r)
	writeJSON(w, http.StatusOK, struct {
		ServiceRequestID    string `json:"service_request_id"`
		Status              string `json:"status"`
		DetailedStatus      string `json:"detailed_status"`
		DetailedStatusLabel string `json:"detailed_status_label"`
	}{req.ServiceRequestID, req.Status.Open311(), string(req.Status), req.Status.Label().In(lang)})
}

// reopenUntil is the end of a closed request's reopen window (its last
// close plus the catalog's reopen_days); zero when it is not closed or
// reopening is off.
func reopenUntil(req requests.Request, evs []requests.Event, cat *requests.Catalog) time.Time {
	if req.Status != requests.Closed || cat.ReopenDays() == 0 {
		return time.Time{}
	}
	var closed time.Time
	for _, e := range evs {
		if e.Kind == requests.EventStatus && e.To == requests.Closed && e.At.After(closed) {
			closed = e.At
		}
	}
	if closed.IsZero() {
		return closed
	}
	return closed.Add(cat.ReopenWindow())
}
