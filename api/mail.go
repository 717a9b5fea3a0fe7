package api

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/linktoken"
	"github.com/pinward/pinward/requests"
)

// MailAPI is what the mail routes need: the outbox and the keyring of the
// links in messages (package mailer's LinkKeys). Without it the routes are
// not mounted.
type MailAPI struct {
	Store requests.MailStore
	Links *linktoken.Keyring
	// Feedback keeps the residents' satisfaction and reopens, authorised
	// by the same links (api/feedback.go); nil: no such routes.
	Feedback requests.FeedbackStore
	// Rights, when set, mounts the resident's rights (rights.go): their
	// access link goes out by mail.
	Rights requests.RightsBackend
}

// mountMailAdmin mounts, behind the admin key:
//
//	GET /api/v1/outbox/mail?state=pending|dead|sent&after=ID&limit=N
func (h *handler) mountMailAdmin(r chi.Router) {
	if h.mail.Store == nil {
		return
	}
	r.Get("/api/v1/outbox/mail", h.listMail)
}

// mountUnsubscribe mounts the unsubscribe link of every message, public
// (the token is the authority):
//
//	GET  /u/{token}  a page that says what the link does, with its button
//	POST /u/{token}  unsubscribe (RFC 8058 one-click, or the page's button)
//
// Both answer 200 however often they are used; a forged or unknown token
// is a bilingual 404. GET changes nothing: mail scanners fetch links.
func (h *handler) mountUnsubscribe(r chi.Router) {
	if h.mail.Store == nil || h.mail.Links == nil {
		return
	}
	r.Get("/u/{token}", h.unsubscribePage)
	r.Post("/u/{token}", h.unsubscribe)
}

// mailOut is one outbox row as admins see it: no address, no message.
type mailOut struct {
	ID               int64      `json:"id"`
	ServiceRequestID string     `json:"service_request_id"`
	EventID          int64      `json:"event_id"`
	Kind             string     `json:"kind"`
	State            string     `json:"state"` // pending, sent, dead
	Attempts         int        `json:"attempts"`
	NextAttemptAt    *time.Time `json:"next_attempt_at,omitempty"`
	LastError        string     `json:"last_error,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	SentAt           *time.Time `json:"sent_at,omitempty"`
}

type mailList struct {
	Counts   map[string]int `json:"counts"`
	Messages []mailOut      `json:"messages"`
	// Next is the after= of the next page ("" on the last).
	Next string `json:"next,omitempty"`
}

// The API says "sent" for the store's "delivered".
var mailStates = map[string]requests.OutboxState{
	"": "", "pending": requests.OutboxPending, "sent": requests.OutboxDelivered, "dead": requests.OutboxDead,
}

func (h *handler) listMail(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state, ok := mailStates[q.Get("state")]
	if !ok {
		h.writeError(w, r, i18n.Errorf(i18n.Invalid, "state", i18n.T("%q is not a state (pending, sent, dead)",
			"%q n'est pas un état (pending, sent, dead)"), clip(q.Get("state"))))
		return
	}
	f := requests.MailFilter{Tenant: h.svc.Tenant(), State: state, Limit: 100}
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			h.writeError(w, r, i18n.Errorf(i18n.Invalid, "after", i18n.T("must be a message id", "doit être un numéro de message")))
			return
		}
		f.AfterID = n
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > requests.MaxListLimit {
			h.writeError(w, r, i18n.Errorf(i18n.Invalid, "limit", i18n.T("must be between 1 and %d", "doit être entre 1 et %d"), requests.MaxListLimit))
			return
		}
		f.Limit = n
	}
	ms, err := h.mail.Store.ListMail(r.Context(), f)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	c, err := h.mail.Store.CountMail(r.Context(), f.Tenant)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := mailList{Counts: map[string]int{"pending": c.Pending, "sent": c.Delivered, "dead": c.Dead}, Messages: make([]mailOut, 0, len(ms))}
	for _, m := range ms {
		o := mailOut{ID: m.ID, ServiceRequestID: m.RequestID, EventID: m.EventID, Kind: string(m.Kind), State: string(m.State),
			Attempts: m.Attempts, LastError: m.LastError, CreatedAt: m.CreatedAt}
		switch m.State {
		case requests.OutboxDelivered:
			o.State = "sent"
			o.SentAt = &m.DeliveredAt
		case requests.OutboxPending:
			o.NextAttemptAt = &m.NextAttemptAt
		}
		out.Messages = append(out.Messages, o)
	}
	if len(ms) == f.Limit {
		out.Next = strconv.FormatInt(ms[len(ms)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, out)
}

// unsubscribeID is the request a token stops the messages of.
func (h *handler) unsubscribeID(r *http.Request) (string, error) {
	id, err := h.mail.Links.Verify(linktoken.Unsubscribe, chi.URLParam(r, "token"))
	if err != nil {
		return "", requests.UnsubscribeNotFoundError()
	}
	return id, nil
}

func (h *handler) unsubscribe(w http.ResponseWriter, r *http.Request) {
	id, err := h.unsubscribeID(r)
	if err == nil {
		err = h.mail.Store.Unsubscribe(r.Context(), h.svc.Tenant(), id)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "unsubscribed", "request", id)
	if strings.Contains(r.Header.Get("Content-Type"), "form") && r.PostFormValue("List-Unsubscribe") == "One-Click" {
		// A mail client's one-click POST: nobody reads the answer.
		w.WriteHeader(http.StatusOK)
		return
	}
	writePage(w, unsubscribedPage, pageData{Lang: langOf(r), ID: id})
}

func (h *handler) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	id, err := h.unsubscribeID(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writePage(w, confirmPage, pageData{Lang: langOf(r), ID: id, Action: r.URL.RequestURI()})
}

type pageData struct {
	Lang   i18n.Lang
	ID     string
	Action string
}

func (p pageData) T(en, fr string) string { return i18n.T(en, fr).In(p.Lang) }

const pageHead = `<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.T "Messages about your request" "Messages sur votre demande"}}</title></head>
<body style="font-family:sans-serif;line-height:1.5;max-width:40em;margin:2em auto;padding:0 1em">
`

var (
	confirmPage = template.Must(template.New("confirm").Parse(pageHead + `<h1>{{.T "Stop these messages?" "Ne plus recevoir ces messages?"}}</h1>
<p>{{.T "You will no longer receive e-mail about request" "Vous ne recevrez plus de courriel au sujet de la demande"}} {{.ID}}.</p>
<form method="post" action="{{.Action}}"><button type="submit" id="unsubscribe">{{.T "Unsubscribe" "Me désabonner"}}</button></form>
</body></html>
`))
	unsubscribedPage = template.Must(template.New("done").Parse(pageHead + `<h1 id="done">{{.T "You are unsubscribed" "Vous êtes désabonné"}}</h1>
<p>{{.T "You will no longer receive e-mail about request" "Vous ne recevrez plus de courriel au sujet de la demande"}} {{.ID}}.</p>
</body></html>
`))
)

func writePage(w http.ResponseWriter, t *template.Template, d pageData) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, d); err != nil {
		http.Error(w, "page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer") // the token stays here
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// applyNotify reads the submission's notify field: "false" (0, no, off)
// opts the reporter out of messages; empty or true keeps them.
func (s *submission) applyNotify() error {
	switch strings.ToLower(strings.TrimSpace(s.notify)) {
	case "", "true", "1", "yes", "on":
	case "false", "0", "no", "off":
		s.sub.Reporter.OptOut = true
	default:
		return i18n.Errorf(i18n.Invalid, "notify", i18n.T("must be true or false", "doit être true ou false"))
	}
	return nil
}

// statedLang is the language a submission states: its locale, else the
// Accept-Language header when it names English or French; "" when
// neither does (the catalog's default language then applies).
func statedLang(locale, accept string) i18n.Lang {
	if l := strings.ToLower(strings.ReplaceAll(locale, "_", "-")); l != "" {
		if l == "fr" || strings.HasPrefix(l, "fr-") {
			return i18n.Fr
		}
		if l == "en" || strings.HasPrefix(l, "en-") {
			return i18n.En
		}
	}
	for _, part := range strings.Split(accept, ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(tag)
		if tag == "fr" || strings.HasPrefix(tag, "fr-") || tag == "en" || strings.HasPrefix(tag, "en-") {
			return i18n.Negotiate("", accept)
		}
	}
	return ""
}

// reporterMail is what staff see of a reporter's messages on the
// reporter read.
type reporterMail struct {
	Notify        bool              `json:"notify"`
	Undeliverable *undeliverableOut `json:"undeliverable,omitempty"`
}

type undeliverableOut struct {
	Code   int       `json:"code"`
	Detail string    `json:"detail"`
	At     time.Time `json:"at"`
}

// reporterMailOf is the reporter's mail status, nil without the mail API.
func (h *handler) reporterMailOf(r *http.Request, id string) (*reporterMail, error) {
	if h.mail.Store == nil {
		return nil, nil
	}
	notify, u, err := h.mail.Store.ReporterMail(r.Context(), h.svc.Tenant(), id)
	if err != nil {
		var ie *i18n.Error
		if errors.As(err, &ie) && ie.Kind == i18n.NotFound {
			return nil, nil
		}
		return nil, err
	}
	out := &reporterMail{Notify: notify}
	if u != nil {
		out.Undeliverable = &undeliverableOut{Code: u.Code, Detail: u.Detail, At: u.At}
	}
	return out, nil
}
