package notify

import (
	"fmt"
	"time"

	"github.com/pinward/pinward/i18n"
)

// CloseReason says why a request was closed (the issue "Staff work each
// request to its end").
type CloseReason string

// The reasons a request can be closed for.
const (
	Fixed          CloseReason = "fixed"
	Duplicate      CloseReason = "duplicate"
	Referred       CloseReason = "referred" // not the municipality's; Data.ReferredTo says to whom
	NotFound       CloseReason = "not_found"
	NoActionNeeded CloseReason = "no_action_needed"
	NoResponse     CloseReason = "no_response"
)

var reasonText = map[CloseReason]i18n.Text{
	Fixed:          i18n.T("fixed", "problème réglé"),
	Duplicate:      i18n.T("a duplicate of another request", "doublon d'une autre demande"),
	Referred:       i18n.T("referred to another organization", "transmise à un autre organisme"),
	NotFound:       i18n.T("the problem was not found on site", "problème introuvable sur place"),
	NoActionNeeded: i18n.T("no action needed", "aucune intervention requise"),
	NoResponse:     i18n.T("no answer to our question", "sans réponse à notre question"),
}

// CloseReasons lists every close reason.
func CloseReasons() []CloseReason {
	return []CloseReason{Fixed, Duplicate, Referred, NotFound, NoActionNeeded, NoResponse}
}

// Text is the reason as a resident reads it; ok is false for an unknown
// reason.
func (r CloseReason) Text() (i18n.Text, bool) {
	t, ok := reasonText[r]
	return t, ok
}

// statusText names the detailed statuses in messages. Unknown statuses
// are shown as their code.
var statusText = map[string]i18n.Text{
	"new":                 i18n.T("received", "reçue"),
	"acknowledged":        i18n.T("acknowledged", "prise en charge"),
	"in_progress":         i18n.T("in progress", "en cours"),
	"waiting_on_resident": i18n.T("waiting for your answer", "en attente de votre réponse"),
	"closed":              i18n.T("closed", "fermée"),
	"reopened":            i18n.T("reopened", "rouverte"),
}

// StatusText names a detailed status in lang (the code itself when
// unknown).
func StatusText(status string, lang i18n.Lang) string {
	if t, ok := statusText[status]; ok {
		return t.In(lang)
	}
	return status
}

var frMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet",
	"août", "septembre", "octobre", "novembre", "décembre"}

// FormatDate writes t's day in lang: "June 23, 2026", "23 juin 2026",
// "1er juillet 2026".
func FormatDate(t time.Time, lang i18n.Lang) string {
	if lang != i18n.Fr {
		return t.Format("January 2, 2006")
	}
	day := fmt.Sprint(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return fmt.Sprintf("%s %s %d", day, frMonths[t.Month()-1], t.Year())
}

// FormatDateTime writes t's day and time in lang: "June 23, 2026, 3:30 p.m.",
// "23 juin 2026, 15 h 30" (the Canadian style of each language).
func FormatDateTime(t time.Time, lang i18n.Lang) string {
	if lang != i18n.Fr {
		ampm := "a.m."
		if t.Hour() >= 12 {
			ampm = "p.m."
		}
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		return fmt.Sprintf("%s, %d:%02d %s", FormatDate(t, lang), h, t.Minute(), ampm)
	}
	if t.Minute() == 0 {
		return fmt.Sprintf("%s, %d h", FormatDate(t, lang), t.Hour())
	}
	return fmt.Sprintf("%s, %d h %02d", FormatDate(t, lang), t.Hour(), t.Minute())
}
