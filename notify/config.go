package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"slices"
	"time"

	"github.com/pinward/pinward/i18n"
)

// Config is the catalog's "mail" section:
//
//	"mail": {
//	  "from": "311@city.example",          optional: else --mail-from
//	  "reply_to": "info@city.example",     optional
//	  "name_en": "City of Example",
//	  "name_fr": "Ville d'Exemple",
//	  "templates": {                       optional, per message
//	    "closed": {"subject": {"en": "...", "fr": "..."},
//	               "text": {"en": "...", "fr": "..."},
//	               "html": {"en": "...", "fr": "..."}}
//	  }
//	}
//
// A template given replaces the default of that message entirely: subject
// and text in both languages, html optional (text only without it). The
// unsubscribe footer is always added to residents' messages. The messages
// are received, updated, closed, reopened and escalated; see Data for the
// fields a template can use, and the functions date, datetime, status and
// reason.
type Config struct {
	From      string            `json:"from,omitempty"`
	ReplyTo   string            `json:"reply_to,omitempty"`
	NameEn    string            `json:"name_en"`
	NameFr    string            `json:"name_fr"`
	Templates map[Kind]Template `json:"templates,omitempty"`
}

func (c Config) name(lang i18n.Lang) string {
	return i18n.T(c.NameEn, c.NameFr).In(lang)
}

// ParseConfig reads a "mail" section on its own (the catalog loader
// decodes it in place and calls Validate).
func ParseConfig(r io.Reader) (Config, error) {
	var c Config
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, &i18n.Error{Kind: i18n.Invalid, Field: "mail", Err: err,
			Message: i18n.Textf(i18n.T("is not a valid mail section: %s", "n'est pas une section mail valide : %s"), err)}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

var (
	msgRequired  = i18n.T("is required", "est obligatoire")
	msgBilingual = i18n.T("needs both an English and a French text", "doit avoir un texte en anglais et en français")
	msgAddress   = i18n.T("%q is not an e-mail address", "%q n'est pas une adresse courriel")
	msgKind      = i18n.T("unknown message %q (known: %s)", "message inconnu %q (connus : %s)")
)

// Validate checks the section: a name in both languages, well-formed
// addresses, known messages, and templates that parse and run on sample
// data in both languages. Errors are *i18n.Error naming the field
// ("mail.templates.closed.text").
func (c Config) Validate() error {
	if c.NameEn == "" && c.NameFr == "" && c.From == "" && c.ReplyTo == "" && len(c.Templates) == 0 {
		return nil // no section: the defaults, the sender of --mail-from
	}
	if c.NameEn == "" || c.NameFr == "" {
		return i18n.Errorf(i18n.Invalid, "mail.name_en/name_fr", msgBilingual)
	}
	for field, addr := range map[string]string{"mail.from": c.From, "mail.reply_to": c.ReplyTo} {
		if addr == "" {
			continue
		}
		if a, err := mail.ParseAddress(addr); err != nil || a.Name != "" {
			return i18n.Errorf(i18n.Invalid, field, msgAddress, addr)
		}
	}
	kinds := Kinds()
	for k, tmpl := range c.Templates {
		field := "mail.templates." + string(k)
		if !slices.Contains(kinds, k) {
			return i18n.Errorf(i18n.Invalid, field, msgKind, k, fmt.Sprint(kinds))
		}
		for name, txt := range map[string]i18n.Text{"subject": tmpl.Subject, "text": tmpl.Text} {
			if txt.En == "" || txt.Fr == "" {
				return i18n.Errorf(i18n.Invalid, field+"."+name, msgBilingual)
			}
		}
		if (tmpl.HTML.En == "") != (tmpl.HTML.Fr == "") {
			return i18n.Errorf(i18n.Invalid, field+".html", msgBilingual)
		}
	}
	if len(c.Templates) == 0 {
		return nil
	}
	// Compile and run every override on sample data, so a typo in a
	// field name fails at start rather than when a resident is waiting.
	t := &Templates{cfg: Config{NameEn: c.NameEn, NameFr: c.NameFr}, loc: time.UTC}
	for k, tmpl := range c.Templates {
		for _, lang := range []i18n.Lang{i18n.En, i18n.Fr} {
			comp, err := t.compile(tmpl, lang)
			if err != nil {
				return templateErr(k, err)
			}
			t.set = map[Kind]map[i18n.Lang]*compiled{k: {lang: comp}}
			if _, err := t.Render(k, lang, sample(k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// sample is data that fills every field a message of kind may show.
func sample(k Kind) Data {
	at := time.Date(2026, 6, 23, 15, 0, 0, 0, time.UTC)
	d := Data{
		RequestID: "12345", Service: i18n.T("Pothole", "Nid-de-poule"), Status: "in_progress",
		Note: i18n.T("A crew is scheduled.", "Une équipe est prévue."), Reason: Referred, ReferredTo: "Hydro",
		ExpectedDate: at, ReopenUntil: at,
		TrackingURL:     "https://311.example/r/12345",
		SatisfactionURL: "https://311.example/r/12345/satisfaction?t=x",
		ReopenURL:       "https://311.example/r/12345/reopen?t=x",
		UnsubscribeURL:  "https://311.example/unsubscribe/x",
		Level:           2, DueAt: at, Overdue: true, Department: i18n.T("Roads", "Voirie"), Ward: "Ward 1",
		StaffURL:  "https://311.example/staff/queue?request=12345",
		AccessURL: "https://311.example/rights#x", AccessUntil: at,
	}
	if !k.ToResident() {
		d.UnsubscribeURL = ""
	}
	return d
}

// fieldErr is a template error in one field (subject, text, html).
type fieldErr struct {
	field string
	err   error
}

func (e *fieldErr) Error() string { return e.field + ": " + e.err.Error() }
func (e *fieldErr) Unwrap() error { return e.err }

// templateErr reports a template that does not parse or run, bilingually.
func templateErr(k Kind, err error) error {
	field := "mail.templates." + string(k)
	var fe *fieldErr
	if errors.As(err, &fe) {
		field += "." + fe.field
		err = fe.err
	}
	return &i18n.Error{Kind: i18n.Invalid, Field: field, Err: err,
		Message: i18n.Textf(i18n.T("is not a valid template: %s", "n'est pas un modèle valide : %s"), err)}
}
