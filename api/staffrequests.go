package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// What staff read of one request beyond Open311 (staff or admin key):
//
//	GET /api/v1/requests/{id}/events    the audit trail: who did what, when
//	GET /api/v1/requests/{id}/reporter  the reporter's personal information;
//	                                    each read is itself an event

type eventOut struct {
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Kind    string    `json:"kind"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to,omitempty"`
	Note    string    `json:"note,omitempty"`
	EventID int64     `json:"event_id"`
	// The staff workflow's parts of an event (staffflow.go).
	PublicNoteEn string `json:"public_note_en,omitempty"`
	PublicNoteFr string `json:"public_note_fr,omitempty"`
	InternalNote string `json:"internal_note,omitempty"`
	Reason       string `json:"reason,omitempty"`
	Template     string `json:"template,omitempty"`
}

func (h *handler) requestEvents(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if _, err := h.svc.Get(r.Context(), id); err != nil { // 404 for an unknown request
		h.writeError(w, r, err)
		return
	}
	evs, err := h.svc.Events(r.Context(), id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := make([]eventOut, 0, len(evs))
	for _, e := range evs {
		out = append(out, eventOut{At: e.At.UTC(), Actor: e.Actor, Kind: string(e.Kind), From: string(e.From),
			To: string(e.To), Note: e.Note, EventID: e.ID, PublicNoteEn: e.PublicNoteEn, PublicNoteFr: e.PublicNoteFr,
			InternalNote: e.InternalNote, Reason: e.Reason, Template: e.Template})
	}
	writeJSON(w, http.StatusOK, out)
}

type reporterOut struct {
	ServiceRequestID string `json:"service_request_id"`
	FirstName        string `json:"first_name"`
	LastName         string `json:"last_name"`
	Email            string `json:"email"`
	Phone            string `json:"phone"`
	DeviceID         string `json:"device_id"`
	// Mail: whether they get messages and, when a server refused their
	// address for good, the refusal (api/mail.go).
	Mail          *reporterMail `json:"mail,omitempty"`
	NoticeVersion string        `json:"notice_version"` // the privacy notice they were shown
}

func (h *handler) requestReporter(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	rep, err := h.svc.ReporterFor(r.Context(), id, actor(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	mail, err := h.reporterMailOf(r, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	// Personal information: never cached by a browser or a proxy.
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, reporterOut{ServiceRequestID: id, FirstName: rep.FirstName, LastName: rep.LastName,
		Email: rep.Email, Phone: rep.Phone, DeviceID: rep.DeviceID, Mail: mail, NoticeVersion: rep.NoticeVersion})
}
