package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/linktoken"
	"github.com/pinward/pinward/ratelimit"
	"github.com/pinward/pinward/requests"
)

// The resident's rights (Law 25 ss. 27-28.1; see requests/rights.go).
// Public, limited as flags are (a resident does this rarely), JSON bodies:
//
//	POST /api/v1/rights/link   {"token", "email"}: mail a one-time link to the
//	                           address, when it is the one given with the
//	                           request (its tracking token or number); always
//	                           the same 202, so it tells nothing about the address
//	POST /api/v1/rights/open   {"token"} (the link's): use the link, once; 200
//	                           with everything held under the address and the
//	                           action token; 404 forged, 410 used or expired
//	POST /api/v1/rights/file   {"action_token", "kind": "correction"|"deletion",
//	                           "text"}: 201, one per opened link, within the hour
//
// Admin keys:
//
//	GET  /api/v1/rights/requests?state=open|corrected|deleted|refused  the log
//	POST /api/v1/rights/requests/{id}  {"action": "correct"|"delete"|"refuse",
//	                           "first_name", "last_name", "email", "phone",
//	                           "reason"}: act on one, an event in its log

// mountRights mounts the resident's routes on r and the log on admin,
// when the mail routes are wired (the link goes out by mail).
func (h *handler) mountRights(r, admin chi.Router) {
	if h.mail.Rights == nil || h.mail.Links == nil {
		return
	}
	lim := r.With(h.limit(ratelimit.Flags))
	lim.Post("/api/v1/rights/link", h.rightsLink)
	lim.Post("/api/v1/rights/open", h.rightsOpen)
	lim.Post("/api/v1/rights/file", h.rightsFile)
	admin.Get("/api/v1/rights/requests", h.rightsList)
	admin.Post("/api/v1/rights/requests/{id}", h.rightsAct)
}

// rightsLinkSent is the one answer to a link request, whatever the store
// found: it must not tell whether an address goes with a request.
var rightsLinkSent = i18n.T(
	"If this address is the one given with this request, a link is on its way to it. It works once, for 24 hours.",
	"Si cette adresse est celle qui a été donnée avec cette demande, un lien vous y est envoyé. Il fonctionne une seule fois, pendant 24 heures.")

// rightsLinkFloor is how long every link request takes at least: a
// match writes a link and a message, a miss nothing, and the difference
// must not show in the answer's time either.
const rightsLinkFloor = 250 * time.Millisecond

func (h *handler) rightsLink(w http.ResponseWriter, r *http.Request) {
	floor := time.NewTimer(rightsLinkFloor)
	defer floor.Stop()
	var in struct {
		Token string `json:"token"`
		Email string `json:"email"`
	}
	if err := h.readJSONBody(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := requests.CheckRightsAsk(in.Token, in.Email); err != nil {
		h.writeError(w, r, err)
		return
	}
	token := in.Token
	// The request's number works as well as its token (it is what the
	// receipt shows): the link still goes only to the address on file.
	if _, ok := requests.ParseServiceRequestID(token); ok {
		token = ""
		if req, err := h.svc.Get(r.Context(), in.Token); err == nil {
			token = req.Token
		} else if i18n.KindOf(err) != i18n.NotFound {
			h.writeError(w, r, err)
			return
		}
	}
	if token != "" {
		if _, err := h.mail.Rights.QueueRightsLink(r.Context(), requests.RightsLinkAsk{Tenant: h.svc.Tenant(), Token: token,
			Email: in.Email, At: h.now().UTC().Truncate(time.Microsecond)}); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	select {
	case <-floor.C:
	case <-r.Context().Done():
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted", "message_en": rightsLinkSent.En, "message_fr": rightsLinkSent.Fr})
}

// rightsLinkID is the link a token of purpose p names.
func (h *handler) rightsLinkID(p linktoken.Purpose, token string) (int64, error) {
	s, err := h.mail.Links.Verify(p, token)
	if err != nil {
		return 0, requests.RightsLinkNotFoundError()
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, requests.RightsLinkNotFoundError()
	}
	return id, nil
}

type rightsOpened struct {
	Export requests.RightsExport `json:"export"`
	// ActionToken files the one request for correction or deletion this
	// link allows, until ActionUntil.
	ActionToken string    `json:"action_token"`
	ActionUntil time.Time `json:"action_until"`
}

func (h *handler) rightsOpen(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token string `json:"token"`
	}
	if err := h.readJSONBody(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	link, err := h.rightsLinkID(linktoken.Rights, in.Token)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	now := h.now().UTC().Truncate(time.Microsecond)
	email, err := h.mail.Rights.UseRightsLink(r.Context(), h.svc.Tenant(), link, now)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := rightsOpened{ActionUntil: now.Add(requests.RightsActionTTL)}
	out.Export, err = requests.BuildRightsExport(r.Context(), h.mail.Rights, h.svc.Tenant(), email, now)
	if err == nil {
		out.ActionToken, err = h.mail.Links.Mint(linktoken.RightsAction, strconv.FormatInt(link, 10))
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// rightsRequestOut is one request of the log, with its events.
type rightsRequestOut struct {
	ID               int64            `json:"id"`
	ServiceRequestID string           `json:"service_request_id"`
	Email            string           `json:"email"` // "" once deleted
	Kind             string           `json:"kind"`
	Text             string           `json:"text"`
	State            string           `json:"state"`
	Reason           string           `json:"reason,omitempty"`
	CreatedAt        time.Time        `json:"created_at"`
	ActedAt          *time.Time       `json:"acted_at,omitempty"`
	ActedBy          string           `json:"acted_by,omitempty"`
	Events           []rightsEventOut `json:"events,omitempty"`
}

type rightsEventOut struct {
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"`
	Actor string    `json:"actor"`
	Note  string    `json:"note"`
}

func toRightsOut(rr requests.RightsRequest, evs []requests.Event) rightsRequestOut {
	o := rightsRequestOut{ID: rr.ID, ServiceRequestID: rr.ServiceRequestID, Email: rr.Email, Kind: string(rr.Kind),
		Text: rr.Text, State: string(rr.State), Reason: rr.Reason, CreatedAt: rr.CreatedAt, ActedAt: optTime(rr.ActedAt), ActedBy: rr.ActedBy}
	for _, e := range requests.RightsEventsOf(rr.ID, evs) {
		o.Events = append(o.Events, rightsEventOut{At: e.At, Kind: string(e.Kind), Actor: e.Actor, Note: e.Note})
	}
	return o
}

func (h *handler) rightsFile(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ActionToken string `json:"action_token"`
		Kind        string `json:"kind"`
		Text        string `json:"text"`
	}
	if err := h.readJSONBody(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	link, err := h.rightsLinkID(linktoken.RightsAction, in.ActionToken)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	kind, text, err := requests.CheckRightsFiling(in.Kind, in.Text)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	rr, err := h.mail.Rights.FileRightsRequest(r.Context(), requests.RightsFiling{Tenant: h.svc.Tenant(), LinkID: link,
		Kind: kind, Text: text, At: h.now().UTC().Truncate(time.Microsecond)})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": rr.ID, "kind": rr.Kind, "state": rr.State, "created_at": rr.CreatedAt,
		"message_en": "Your request was sent to the municipality, which will answer it within 30 days.",
		"message_fr": "Votre demande a été transmise à la municipalité, qui y répondra dans les 30 jours.",
	})
}

var rightsStates = map[string]requests.RightsState{
	"": "", "open": requests.RightsOpen, "corrected": requests.RightsCorrected,
	"deleted": requests.RightsDeleted, "refused": requests.RightsRefused,
}

func (h *handler) rightsList(w http.ResponseWriter, r *http.Request) {
	state, ok := rightsStates[r.URL.Query().Get("state")]
	if !ok {
		h.writeError(w, r, i18n.Errorf(i18n.Invalid, "state", i18n.T("%q is not a state (open, corrected, deleted, refused)",
			"%q n'est pas un état (open, corrected, deleted, refused)"), clip(r.URL.Query().Get("state"))))
		return
	}
	rs, err := h.mail.Rights.ListRightsRequests(r.Context(), requests.RightsFilter{Tenant: h.svc.Tenant(), State: state})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := make([]rightsRequestOut, 0, len(rs))
	for _, rr := range rs {
		evs, err := h.mail.Rights.ListEvents(r.Context(), h.svc.Tenant(), rr.ServiceRequestID)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		out = append(out, toRightsOut(rr, evs))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

var rightsActions = map[string]requests.RightsState{
	"correct": requests.RightsCorrected, "delete": requests.RightsDeleted, "refuse": requests.RightsRefused,
}

func (h *handler) rightsAct(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		h.writeError(w, r, errNotFound())
		return
	}
	var in struct {
		Action    string  `json:"action"`
		FirstName *string `json:"first_name"`
		LastName  *string `json:"last_name"`
		Email     *string `json:"email"`
		Phone     *string `json:"phone"`
		Reason    string  `json:"reason"`
	}
	if err := h.readJSONBody(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	action, ok := rightsActions[in.Action]
	if !ok {
		h.writeError(w, r, i18n.Errorf(i18n.Invalid, "action", i18n.T("%q is not an action (correct, delete, refuse)",
			"%q n'est pas une action (correct, delete, refuse)"), clip(in.Action)))
		return
	}
	rr, err := h.mail.Rights.ActOnRightsRequest(r.Context(), requests.RightsAction{Tenant: h.svc.Tenant(), ID: id, Action: action,
		FirstName: in.FirstName, LastName: in.LastName, Email: in.Email, Phone: in.Phone, Reason: in.Reason,
		Actor: actor(r), At: h.now().UTC().Truncate(time.Microsecond)})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	evs, err := h.mail.Rights.ListEvents(r.Context(), h.svc.Tenant(), rr.ServiceRequestID)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, toRightsOut(rr, evs))
}
