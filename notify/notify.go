// Package notify writes the messages pinward sends: to a resident when
// their request is received, updated with a public note, closed or
// reopened, and to staff when a request escalates. Each exists in English
// and French, as plain text and HTML, from defaults shipped here or from
// the catalog's "mail" section (Config). It renders only; package mail
// sends, the outbox decides when.
package notify

import (
	"bytes"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/pinward/pinward/i18n"
)

// Kind is one of the messages pinward sends.
type Kind string

// The messages.
const (
	Received  Kind = "received"  // to the resident: request number, tracking link, expected date
	Updated   Kind = "updated"   // to the resident: a transition with a public note
	Closed    Kind = "closed"    // to the resident: reason, note, satisfaction and reopen links
	Reopened  Kind = "reopened"  // to the resident: the request is back in the queue
	Escalated Kind = "escalated" // to staff: a request reached an escalation level
	// StaffReopened goes to the staff of the department whose request a
	// resident reopened (its "department" contacts: actors have no
	// address).
	StaffReopened Kind = "reopened_staff"
	Access        Kind = "access" // to the resident who asked: the one-time link to their personal information
)

// Kinds lists every message.
func Kinds() []Kind {
	return []Kind{Received, Updated, Closed, Reopened, Escalated, StaffReopened, Access}
}

// ToResident reports whether the message is a resident's update (and so
// carries an unsubscribe link). Escalations and reopen notices go to
// staff; an access link goes to a resident who asked for it, and stopping
// updates has nothing to do with it.
func (k Kind) ToResident() bool { return k != Escalated && k != StaffReopened && k != Access }

// Template is one message in both languages. Subject and Text are
// text/template, HTML is html/template (the body only: Render adds the
// page around it). See Data for what they can use.
type Template struct {
	Subject i18n.Text `json:"subject"`
	Text    i18n.Text `json:"text"`
	HTML    i18n.Text `json:"html,omitzero"` // optional in the catalog: text only without it
}

// Data is what a message says. Bilingual fields are given in both
// languages and shown in the message's; links are absolute http(s) URLs.
// Never put another reporter's personal information here: a message
// goes to one person.
type Data struct {
	RequestID string
	Service   i18n.Text // the category's name
	Status    string    // detailed status code (in_progress, ...), shown by name
	Note      i18n.Text // the public note of the transition, if any

	Reason     CloseReason // Closed
	ReferredTo string      // Closed with Referred: to whom

	ExpectedDate time.Time // the SLA due date (zero: none)
	ReopenUntil  time.Time // Closed: last day the resident may reopen

	TrackingURL     string // the status page /r/{id}
	SatisfactionURL string // Closed
	ReopenURL       string // Closed (empty: reopening not offered)
	UnsubscribeURL  string // every message to a resident

	// Access only: the one-time link and when it expires.
	AccessURL   string
	AccessUntil time.Time

	// Escalated only.
	Level      int
	DueAt      time.Time
	Overdue    bool
	Department i18n.Text
	Ward       string
	StaffURL   string
}

// view is Data in one language, what the templates see.
type view struct {
	Lang         i18n.Lang
	Municipality string
	RequestID    string
	Service      string
	Status       string
	Note         string
	Reason       CloseReason
	ReferredTo   string
	ExpectedDate time.Time
	ReopenUntil  time.Time

	TrackingURL, SatisfactionURL, ReopenURL, UnsubscribeURL string

	AccessURL   string
	AccessUntil time.Time

	Level      int
	DueAt      time.Time
	Overdue    bool
	Department string
	Ward       string
	StaffURL   string
}

// Rendered is one message ready for mail.Message.
type Rendered struct {
	Lang     i18n.Lang
	From     string // the catalog's sender address ("" : --mail-from)
	FromName string // the municipality's name in Lang
	ReplyTo  string
	Subject  string
	Text     string
	HTML     string // "" when the message is text only
}

// Templates renders messages from the catalog's mail section and the
// defaults; build it with New. Safe for concurrent use.
type Templates struct {
	cfg Config
	loc *time.Location
	set map[Kind]map[i18n.Lang]*compiled
}

type compiled struct {
	subject, text *texttemplate.Template
	html          *htmltemplate.Template // nil: text only
	textFooter    *texttemplate.Template
	htmlPage      *htmltemplate.Template
}

// New compiles the defaults with cfg's overrides, for dates shown in loc
// (the municipality's time zone; nil: UTC). cfg is validated first.
func New(cfg Config, loc *time.Location) (*Templates, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if loc == nil {
		loc = time.UTC
	}
	t := &Templates{cfg: cfg, loc: loc, set: map[Kind]map[i18n.Lang]*compiled{}}
	for _, k := range Kinds() {
		tmpl := defaults[k]
		if o, ok := cfg.Templates[k]; ok {
			tmpl = o
		}
		t.set[k] = map[i18n.Lang]*compiled{}
		for _, lang := range []i18n.Lang{i18n.En, i18n.Fr} {
			c, err := t.compile(tmpl, lang)
			if err != nil {
				return nil, templateErr(k, err)
			}
			t.set[k][lang] = c
		}
	}
	return t, nil
}

func (t *Templates) funcs(lang i18n.Lang) map[string]any {
	return map[string]any{
		"date":     func(v time.Time) string { return FormatDate(v.In(t.loc), lang) },
		"datetime": func(v time.Time) string { return FormatDateTime(v.In(t.loc), lang) },
		"status":   func(s string) string { return StatusText(s, lang) },
		"reason": func(r CloseReason) string {
			if txt, ok := r.Text(); ok {
				return txt.In(lang)
			}
			return string(r)
		},
	}
}

// compile parses one language of a template.
func (t *Templates) compile(tmpl Template, lang i18n.Lang) (*compiled, error) {
	f := t.funcs(lang)
	var c compiled
	var err error
	if c.subject, err = texttemplate.New("subject").Funcs(f).Parse(tmpl.Subject.In(lang)); err != nil {
		return nil, &fieldErr{"subject", err}
	}
	if c.text, err = texttemplate.New("text").Funcs(f).Parse(tmpl.Text.In(lang)); err != nil {
		return nil, &fieldErr{"text", err}
	}
	if h := tmpl.HTML.In(lang); h != "" {
		if c.html, err = htmltemplate.New("html").Funcs(f).Parse(h); err != nil {
			return nil, &fieldErr{"html", err}
		}
	}
	c.textFooter = texttemplate.Must(texttemplate.New("footer").Parse(footer.Text.In(lang)))
	c.htmlPage = htmltemplate.Must(htmltemplate.New("page").Parse(page + footer.HTML.In(lang) + pageEnd))
	return &c, nil
}

// page wraps a message's HTML body; the footer follows for residents.
const page = `<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family:sans-serif;line-height:1.5">
{{.Body}}
{{if .Resident}}`

const pageEnd = `{{end}}
</body></html>
`

// Render writes message kind in lang from d. It refuses data a message
// cannot do without (its links), so a broken message is never queued.
func (t *Templates) Render(kind Kind, lang i18n.Lang, d Data) (Rendered, error) {
	if lang != i18n.Fr {
		lang = i18n.En
	}
	byLang, ok := t.set[kind]
	if !ok {
		return Rendered{}, i18n.Errorf(i18n.Invalid, "kind", i18n.T("unknown message %q", "message inconnu %q"), kind)
	}
	if err := checkData(kind, d); err != nil {
		return Rendered{}, err
	}
	c := byLang[lang]
	v := t.view(lang, d)

	var subj, text bytes.Buffer
	if err := c.subject.Execute(&subj, v); err != nil {
		return Rendered{}, templateErr(kind, &fieldErr{"subject", err})
	}
	if err := c.text.Execute(&text, v); err != nil {
		return Rendered{}, templateErr(kind, &fieldErr{"text", err})
	}
	if kind.ToResident() {
		if err := c.textFooter.Execute(&text, v); err != nil {
			return Rendered{}, templateErr(kind, &fieldErr{"text", err})
		}
	}
	r := Rendered{
		Lang: lang, From: t.cfg.From, FromName: t.cfg.name(lang), ReplyTo: t.cfg.ReplyTo,
		Subject: strings.Join(strings.Fields(subj.String()), " "), // one line, whatever the template did
		Text:    text.String(),
	}
	if c.html != nil {
		var body, html bytes.Buffer
		if err := c.html.Execute(&body, v); err != nil {
			return Rendered{}, templateErr(kind, &fieldErr{"html", err})
		}
		pv := struct {
			Lang           i18n.Lang
			Subject        string
			Body           htmltemplate.HTML
			Resident       bool
			UnsubscribeURL string
		}{lang, r.Subject, htmltemplate.HTML(body.String()), kind.ToResident(), d.UnsubscribeURL}
		if err := c.htmlPage.Execute(&html, pv); err != nil {
			return Rendered{}, templateErr(kind, &fieldErr{"html", err})
		}
		r.HTML = html.String()
	}
	return r, nil
}

func (t *Templates) view(lang i18n.Lang, d Data) view {
	return view{
		Lang: lang, Municipality: t.cfg.name(lang),
		RequestID: d.RequestID, Service: d.Service.In(lang), Status: d.Status, Note: d.Note.In(lang),
		Reason: d.Reason, ReferredTo: d.ReferredTo,
		ExpectedDate: d.ExpectedDate, ReopenUntil: d.ReopenUntil,
		TrackingURL: d.TrackingURL, SatisfactionURL: d.SatisfactionURL,
		ReopenURL: d.ReopenURL, UnsubscribeURL: d.UnsubscribeURL,
		AccessURL: d.AccessURL, AccessUntil: d.AccessUntil,
		Level: d.Level, DueAt: d.DueAt, Overdue: d.Overdue,
		Department: d.Department.In(lang), Ward: d.Ward, StaffURL: d.StaffURL,
	}
}

// checkData refuses a message without what it must carry.
func checkData(kind Kind, d Data) error {
	if d.RequestID == "" {
		return i18n.Errorf(i18n.Invalid, "request_id", msgRequired)
	}
	links := map[string]string{}
	switch kind {
	case Received, Updated, Reopened:
		links["tracking_url"] = d.TrackingURL
	case Closed:
		links["tracking_url"] = d.TrackingURL
		links["satisfaction_url"] = d.SatisfactionURL
		if _, ok := d.Reason.Text(); !ok {
			return i18n.Errorf(i18n.Invalid, "reason", i18n.T("unknown close reason %q", "motif de fermeture inconnu %q"), d.Reason)
		}
	case StaffReopened:
		links["staff_url"] = d.StaffURL
	case Access:
		links["access_url"] = d.AccessURL
		if d.AccessUntil.IsZero() {
			return i18n.Errorf(i18n.Invalid, "access_until", msgRequired)
		}
	case Escalated:
		links["staff_url"] = d.StaffURL
		if d.DueAt.IsZero() || d.Level < 1 {
			return i18n.Errorf(i18n.Invalid, "due_at", i18n.T("an escalation needs its level and due time", "une escalade exige son niveau et son échéance"))
		}
	}
	if kind.ToResident() {
		links["unsubscribe_url"] = d.UnsubscribeURL
	}
	if d.ReopenURL != "" {
		links["reopen_url"] = d.ReopenURL
	}
	for field, link := range links {
		if !isLink(link) {
			return i18n.Errorf(i18n.Invalid, field, i18n.T("must be an absolute http(s) URL", "doit être une URL http(s) absolue"))
		}
	}
	return nil
}

func isLink(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
