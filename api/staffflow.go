package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// The staff workflow (staff or admin key; see requests/transition.go):
//
//	POST /api/v1/requests                      a clerk enters a request for a caller (channel phone, counter or email)
//	POST /api/v1/requests/{id}/transition      move a request: {"to", "template", "public_note_en", "public_note_fr",
//	                                           "internal_note", "reason", "referred_to"}
//	POST /api/v1/requests/{id}/assign          {"assignee": "crew-7"} ("" unassigns)
//	POST /api/v1/requests/{id}/notes           {"internal_note": "..."}: no move
//	POST /api/v1/clusters/{id}/transition      the move of every open request of the cluster that may make it
//	GET  /api/v1/templates?service_code=C      the canned responses for a category (all without it)
//
// and, public:
//
//	GET  /api/v1/requests/{ref}/history        a request's public history by its ID or tracking token:
//	                                           status, expected date, public notes (no internal note, no reporter)

// mountStaffFlow mounts the staff routes in r (a staffers group).
func (h *handler) mountStaffFlow(r chi.Router) {
	r.Post("/api/v1/requests", h.staffSubmit)
	r.Post("/api/v1/requests/{id}/transition", h.transitionRequest)
	r.Post("/api/v1/requests/{id}/assign", h.assignRequest)
	r.Post("/api/v1/requests/{id}/notes", h.noteRequest)
	r.Post("/api/v1/clusters/{id}/transition", h.transitionCluster)
	r.Get("/api/v1/templates", h.listTemplates)
}

// staffRequest is a request as staff see it after an action: the
// workflow's fields, no reporter.
type staffRequest struct {
	ServiceRequestID string     `json:"service_request_id"`
	Status           string     `json:"status"`
	CloseReason      string     `json:"close_reason,omitempty"`
	StatusNotesEn    string     `json:"status_notes_en"`
	StatusNotesFr    string     `json:"status_notes_fr"`
	Assignee         string     `json:"assignee"`
	Channel          string     `json:"channel"`
	Department       string     `json:"department"`
	ClusterID        string     `json:"cluster_id"`
	DueAt            *time.Time `json:"due_at,omitempty"`
	PausedAt         *time.Time `json:"paused_at,omitempty"`
	UpdatedAt        time.Time  `json:"updated_at"`
	Next             []string   `json:"next"` // the statuses it may go to now
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func toStaffRequest(r requests.Request) staffRequest {
	out := staffRequest{
		ServiceRequestID: r.ServiceRequestID, Status: string(r.Status), CloseReason: string(r.CloseReason),
		StatusNotesEn: r.StatusNotes, StatusNotesFr: r.StatusNotesFr, Assignee: r.Assignee, Channel: string(r.Channel),
		Department: r.Department, ClusterID: r.ClusterID, DueAt: optTime(r.DueAt), PausedAt: optTime(r.PausedAt),
		UpdatedAt: r.UpdatedAt.UTC(), Next: []string{},
	}
	for _, s := range r.Status.Next() {
		out.Next = append(out.Next, string(s))
	}
	return out
}

// transitionBody is what the transition routes read.
type transitionBody struct {
	To           string `json:"to"`
	Template     string `json:"template"`
	PublicNoteEn string `json:"public_note_en"`
	PublicNoteFr string `json:"public_note_fr"`
	InternalNote string `json:"internal_note"`
	Reason       string `json:"reason"`
	ReferredTo   string `json:"referred_to"`
}

func (b transitionBody) input(actor string) requests.TransitionInput {
	return requests.TransitionInput{To: requests.Status(b.To), Template: b.Template, PublicNoteEn: b.PublicNoteEn,
		PublicNoteFr: b.PublicNoteFr, InternalNote: b.InternalNote, Reason: b.Reason, ReferredTo: b.ReferredTo, Actor: actor}
}

// readJSONBody decodes a JSON object body into v: unknown fields, data
// after the object and other media types are refused with the bilingual
// body.
func (h *handler) readJSONBody(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return errUnsupportedMedia(ct)
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("data after the JSON object")
		}
		return jsonError(err)
	}
	return nil
}

func (h *handler) transitionRequest(w http.ResponseWriter, r *http.Request) {
	var in transitionBody
	if err := h.readJSONBody(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	id := chi.URLParam(r, "id")
	req, err := h.svc.Transition(r.Context(), id, in.input(actor(r)))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "request moved", "request", id, "to", req.Status, "actor", actor(r))
	writeJSON(w, http.StatusOK, toStaffRequest(req))
}

func (h *handler) transitionCluster(w http.ResponseWriter, r *http.Request) {
	var in transitionBody
	if err := h.readJSONBody(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	id := chi.URLParam(r, "id")
	res, err := h.svc.TransitionCluster(r.Context(), id, in.input(actor(r)))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "cluster moved", "cluster", id, "to", in.To, "moved", len(res.Changed), "actor", actor(r))
	writeJSON(w, http.StatusOK, toChange(res))
}

func (h *handler) assignRequest(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Assignee *string `json:"assignee"`
	}
	if err := h.readJSONBody(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	if in.Assignee == nil {
		h.writeError(w, r, i18n.Errorf(i18n.Invalid, "assignee", i18n.T("is required (\"\" unassigns)", "est obligatoire (\"\" retire l'attribution)")))
		return
	}
	req, err := h.svc.Assign(r.Context(), chi.URLParam(r, "id"), *in.Assignee, actor(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toStaffRequest(req))
}

func (h *handler) noteRequest(w http.ResponseWriter, r *http.Request) {
	var in struct {
		InternalNote string `json:"internal_note"`
	}
	if err := h.readJSONBody(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	ev, err := h.svc.AddNote(r.Context(), chi.URLParam(r, "id"), in.InternalNote, actor(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, eventOut{At: ev.At.UTC(), Actor: ev.Actor, Kind: string(ev.Kind), From: string(ev.From),
		To: string(ev.To), EventID: ev.ID, InternalNote: ev.InternalNote})
}

// staffSubmit is a request a clerk enters for a resident who called or
// came to the counter: the Open311 fields (JSON or form) plus channel, the
// clerk's key recorded as the created event's actor.
func (h *handler) staffSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
	in, err := h.readSubmission(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	sub := in.sub
	if !slices.Contains(requests.StaffChannels(), sub.Channel) {
		h.writeError(w, r, i18n.Errorf(i18n.Invalid, "channel", i18n.T(
			"a request entered by staff says how it came in: phone, counter or email",
			"une demande saisie par le personnel indique comment elle est arrivée : phone, counter ou email")))
		return
	}
	sub.Lang = i18n.Lang(in.locale)
	if sub.Lang == "" {
		sub.Lang = langOf(r)
	}
	sub.IdempotencyKey = r.Header.Get("Idempotency-Key")
	sub.Actor = actor(r)
	req, err := h.svc.Submit(r.Context(), sub)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/open311/v2/requests/"+req.ServiceRequestID+".json")
	writeJSON(w, http.StatusCreated, struct {
		staffRequest
		Token string `json:"token"`
	}{toStaffRequest(req), req.Token})
}

type templateOut struct {
	ID           string   `json:"id"`
	ServiceCodes []string `json:"service_codes,omitempty"`
	Department   string   `json:"department,omitempty"`
	To           string   `json:"to"`
	Reason       string   `json:"reason,omitempty"`
	En           string   `json:"en"`
	Fr           string   `json:"fr"`
}

func (h *handler) listTemplates(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("service_code")
	if code != "" {
		if _, ok := h.svc.Catalog().Category(code); !ok {
			h.writeError(w, r, i18n.Errorf(i18n.Invalid, "service_code", i18n.T("there is no service %q", "il n'existe aucun service %q"), clip(code)))
			return
		}
	}
	out := []templateOut{}
	for _, t := range h.svc.Catalog().Templates(code) {
		out = append(out, templateOut{ID: t.ID, ServiceCodes: t.ServiceCodes, Department: t.Department, To: string(t.To),
			Reason: string(t.Reason), En: t.En, Fr: t.Fr})
	}
	writeJSON(w, http.StatusOK, out)
}

// historyOut is a request's public history, in the asked language: what
// the status page shows. No internal note, actor or reporter.
type historyOut struct {
	ServiceRequestID    string         `json:"service_request_id"`
	Status              string         `json:"status"` // Open311's open or closed
	DetailedStatus      string         `json:"detailed_status"`
	DetailedStatusLabel string         `json:"detailed_status_label"`
	CloseReason         string         `json:"close_reason,omitempty"`
	CloseReasonLabel    string         `json:"close_reason_label,omitempty"`
	StatusNotes         string         `json:"status_notes"`
	ExpectedDatetime    string         `json:"expected_datetime"`
	ExpectedDate        string         `json:"expected_date"` // the due day in the language's format
	Paused              bool           `json:"paused"`        // waiting on the resident: the date moves when they answer
	History             []historyEntry `json:"history"`

	// While closed and the catalog's reopen window runs (api/feedback.go):
	// its end, and that day in the language's format.
	ReopenUntil     string `json:"reopen_until,omitempty"`
	ReopenUntilDate string `json:"reopen_until_date,omitempty"`
}

type historyEntry struct {
	At          string `json:"at"`
	Status      string `json:"status"`
	StatusLabel string `json:"status_label"`
	Note        string `json:"note,omitempty"` // the public note in the asked language, else as written
}

// requestHistory serves a request's public history by its ID or tracking
// token (a token has letters; an ID only digits).
func (h *handler) requestHistory(w http.ResponseWriter, r *http.Request) {
	ref := chi.URLParam(r, "ref")
	lang := langOf(r)
	token := ref
	if _, ok := requests.ParseServiceRequestID(ref); ok {
		req, err := h.svc.Get(r.Context(), ref)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		token = req.Token
	}
	req, evs, err := h.svc.PublicHistory(r.Context(), token)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	loc := h.svc.Catalog().Location()
	out := historyOut{
		ServiceRequestID: req.ServiceRequestID, Status: req.Status.Open311(), DetailedStatus: string(req.Status),
		DetailedStatusLabel: req.Status.Label().In(lang), StatusNotes: req.PublicNote(lang),
		ExpectedDatetime: fmtTime(req.DueAt, loc), ExpectedDate: h.svc.DueDate(req.DueAt, lang),
		Paused: !req.PausedAt.IsZero(), History: []historyEntry{},
	}
	if req.CloseReason != "" {
		out.CloseReason, out.CloseReasonLabel = string(req.CloseReason), req.CloseReason.Label().In(lang)
	}
	for _, e := range evs {
		out.History = append(out.History, historyEntry{At: fmtTime(e.At, loc), Status: string(e.To),
			StatusLabel: e.To.Label().In(lang), Note: e.PublicNote(lang)})
	}
	if until := reopenUntil(req, evs, h.svc.Catalog()); until.After(h.now()) {
		out.ReopenUntil, out.ReopenUntilDate = fmtTime(until, loc), h.svc.DueDate(until, lang)
	}
	writeJSON(w, http.StatusOK, out)
}
