package requests

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pinward/pinward/i18n"
)

// The resident's rights (Québec's Law 25 ss. 27-28.1, PIPEDA principle 9):
// with their tracking token and the e-mail address they gave, a resident
// gets a one-time link mailed to that address. The link opens once and
// gives them everything pinward holds about that address (RightsExport,
// bilingual JSON: portability) and, for a while after, the right to file
// one request for correction or deletion. Staff (admin keys) see those
// requests in a log and act on each: correct the reporter's details, carry
// out the deletion, or refuse with a reason. Each step is an event.

// The events of the rights log, on the request whose token the resident
// gave (its audit trail). Their notes name the rights request
// ("rights request 3: ..."), never an address.
const (
	EventRightsLink      EventKind = "rights_link"      // an access link was queued to the reporter's address
	EventRightsOpened    EventKind = "rights_opened"    // the link was used: the resident got their data
	EventRightsRequested EventKind = "rights_requested" // the resident asked for correction or deletion
	EventRightsCorrected EventKind = "rights_corrected" // staff corrected the reporter's details
	EventRightsDeleted   EventKind = "rights_deleted"   // staff carried out the deletion
	EventRightsRefused   EventKind = "rights_refused"   // staff refused, with the reason
)

// MailAccess is the message carrying an access link, to the address of
// the reporter who asked; it is sent even to a reporter who opted out of
// updates (they asked for it).
const MailAccess MailKind = "access"

// Lifetimes and limits of the links.
const (
	// RightsLinkTTL is how long an unused access link stays valid.
	RightsLinkTTL = 24 * time.Hour
	// RightsActionTTL is how long after opening the link the resident may
	// file their one request for correction or deletion.
	RightsActionTTL = time.Hour
	// RightsLinksPerHour caps the links mailed to one address in an hour,
	// so the form cannot be used to flood a mailbox.
	RightsLinksPerHour = 3
)

// KindGone is the kind of an access link that was already used or has
// expired (HTTP 410).
const KindGone i18n.Kind = "gone"

// RightsKind is what a resident asks for.
type RightsKind string

// The requests a resident may file.
const (
	RightsCorrection RightsKind = "correction"
	RightsDeletion   RightsKind = "deletion"
)

// RightsState is where a rights request stands.
type RightsState string

// The states: open until staff act, then one of the others for good.
const (
	RightsOpen      RightsState = "open"
	RightsCorrected RightsState = "corrected"
	RightsDeleted   RightsState = "deleted"
	RightsRefused   RightsState = "refused"
)

// RightsLinkAsk asks for an access link.
type RightsLinkAsk struct {
	Tenant string
	Token  string // the request's tracking token
	Email  string // the address the resident says they gave
	At     time.Time
}

// RightsReporter is one reporter row of an address, with its request.
type RightsReporter struct {
	ServiceRequestID string
	Reporter         Reporter
}

// RightsData is what a store holds under one address, apart from the
// requests and their events (read through RequestStore).
type RightsData struct {
	Reporters    []RightsReporter
	Messages     []MailMessage // rows to the address's reporters, no address
	Satisfaction []Satisfaction
	Requests     []RightsRequest // the address's earlier rights requests
}

// RightsRequest is one request for correction or deletion.
type RightsRequest struct {
	ID               int64
	TenantID         string
	LinkID           int64  // the access link (its rights_link event) it was filed through
	ServiceRequestID string // the request whose token was given
	Email            string // lower case; "" once the deletion was carried out
	Kind             RightsKind
	Text             string // what the resident wrote
	State            RightsState
	Reason           string // staff's reason for a refusal, or what was corrected
	CreatedAt        time.Time
	ActedAt          time.Time // zero while open
	ActedBy          string
}

// RightsFiling is a resident's request, filed through an opened link.
type RightsFiling struct {
	Tenant string
	LinkID int64
	Kind   RightsKind
	Text   string
	At     time.Time
}

// RightsAction is staff acting on a rights request.
type RightsAction struct {
	Tenant string
	ID     int64
	Action RightsState // RightsCorrected, RightsDeleted or RightsRefused
	// Correction: the reporter fields to change (nil: unchanged); an
	// empty string clears the field. Applied to every reporter row of
	// the address.
	FirstName, LastName, Email, Phone *string
	Reason                            string // required for a refusal
	Actor                             string
	At                                time.Time
}

// RightsFilter selects rights requests for the log.
type RightsFilter struct {
	Tenant string
	State  RightsState // "": all
}

// RightsStore keeps access links and rights requests; store/postgis and
// store/sqlite implement it (contract: storetest.RunRights). Addresses are
// compared case-insensitively.
type RightsStore interface {
	// QueueRightsLink, when a.Token names a request whose reporter gave
	// a.Email and fewer than RightsLinksPerHour links went to that
	// address in the last hour, writes in one transaction the
	// rights_link event (its ID is the link's), the link (expiring
	// RightsLinkTTL after a.At) and a MailAccess row to the reporter. It
	// returns the link's ID, 0 when nothing was queued; whether it
	// queued must not show in how the caller answers.
	QueueRightsLink(ctx context.Context, a RightsLinkAsk) (int64, error)
	// UseRightsLink marks the link used, once, with a rights_opened
	// event, and returns the address it was sent to. NotFound for an
	// unknown link, KindGone for one used before or expired at now.
	UseRightsLink(ctx context.Context, tenant string, link int64, now time.Time) (string, error)
	// RightsData returns what is kept under the address.
	RightsData(ctx context.Context, tenant, email string) (RightsData, error)
	// FileRightsRequest stores a resident's request with its
	// rights_requested event. KindGone unless the link was used less than
	// RightsActionTTL before f.At; Conflict when one was already filed
	// through it; NotFound for an unknown link.
	FileRightsRequest(ctx context.Context, f RightsFiling) (RightsRequest, error)
	// ListRightsRequests returns the log, the latest first.
	ListRightsRequests(ctx context.Context, f RightsFilter) ([]RightsRequest, error)
	// ActOnRightsRequest carries out a (checked by CheckRightsAction) in
	// one transaction with its event: a correction updates every reporter
	// row of the address; a deletion deletes them (their queued messages
	// go with them), with a reporter_purged event on each of their
	// requests as the retention purge writes, deletes the address's
	// links and blanks its address on its rights requests; the requests,
	// their descriptions and counts stay. NotFound for an unknown ID,
	// Conflict when it is no longer open.
	ActOnRightsRequest(ctx context.Context, a RightsAction) (RightsRequest, error)
}

// RightsGoneError is the answer to a used or expired link.
func RightsGoneError() *i18n.Error {
	return i18n.Errorf(KindGone, "token", i18n.T("this link was already used or has expired: ask for a new one",
		"ce lien a déjà servi ou a expiré : demandez-en un nouveau"))
}

// RightsLinkNotFoundError is the answer to a forged or unknown link.
func RightsLinkNotFoundError() *i18n.Error {
	return i18n.Errorf(i18n.NotFound, "token", i18n.T("this link is not valid", "ce lien n'est pas valide"))
}

// RightsRequestNotFoundError is the answer to an unknown rights request.
func RightsRequestNotFoundError(id int64) *i18n.Error {
	return i18n.Errorf(i18n.NotFound, "id", i18n.T("no rights request %d", "aucune demande d'exercice de droits %d"), id)
}

// RightsFiledError is the answer to a second request through one link.
func RightsFiledError() *i18n.Error {
	return i18n.Errorf(i18n.Conflict, "token", i18n.T("a request was already filed through this link: ask for a new link to file another",
		"une demande a déjà été déposée par ce lien : demandez un nouveau lien pour en déposer une autre"))
}

// CheckRightsState refuses to act on a request that is no longer open.
func CheckRightsState(r RightsRequest) error {
	if r.State != RightsOpen {
		return i18n.Errorf(i18n.Conflict, "id", i18n.T("rights request %d was already answered (%s)",
			"la demande d'exercice de droits %d a déjà reçu une réponse (%s)"), r.ID, r.State)
	}
	return nil
}

// RightsNote is the note of a rights event: it names the rights request.
func RightsNote(id int64, what string) string {
	if what == "" {
		return fmt.Sprintf("rights request %d", id)
	}
	return fmt.Sprintf("rights request %d: %s", id, what)
}

// NormalEmail is an address as links and rights requests keep it.
func NormalEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CheckRightsAsk checks a resident's ask for a link: a token and a
// well-formed address (the address is not compared here).
func CheckRightsAsk(token, email string) error {
	if strings.TrimSpace(token) == "" {
		return invalid("token", msgRequired)
	}
	if err := checkText("token", token, MaxKeyLen, false); err != nil {
		return err
	}
	email = strings.TrimSpace(email)
	if email == "" {
		return invalid("email", msgRequired)
	}
	return checkEmail(email)
}

// CheckRightsFiling checks what a resident files.
func CheckRightsFiling(kind, text string) (RightsKind, string, error) {
	k := RightsKind(kind)
	if k != RightsCorrection && k != RightsDeletion {
		return "", "", invalid("kind", i18n.T("%q is not a request (correction, deletion)", "%q n'est pas une demande (correction, deletion)"), clip(kind))
	}
	text = strings.TrimSpace(text)
	if k == RightsCorrection && text == "" {
		return "", "", invalid("text", i18n.T("say what to correct", "indiquez ce qu'il faut corriger"))
	}
	if err := checkText("text", text, MaxTextLen, true); err != nil {
		return "", "", err
	}
	return k, text, nil
}

// CheckRightsAction checks staff's action against the request it acts on:
// a correction only on a correction request with at least one valid
// field, a deletion only on a deletion request, a refusal with a reason.
func CheckRightsAction(a *RightsAction, kind RightsKind) error {
	if err := checkText("actor", a.Actor, MaxKeyLen, false); err != nil || a.Actor == "" {
		return invalid("actor", msgRequired)
	}
	a.Reason = strings.TrimSpace(a.Reason)
	if err := checkText("reason", a.Reason, MaxTextLen, true); err != nil {
		return err
	}
	switch a.Action {
	case RightsCorrected:
		if kind != RightsCorrection {
			return invalid("action", i18n.T("this request asks for deletion, not correction", "cette demande vise une suppression, pas une correction"))
		}
		fields := []struct {
			name string
			v    *string
			max  int
		}{{"first_name", a.FirstName, MaxNameLen}, {"last_name", a.LastName, MaxNameLen}, {"email", a.Email, MaxEmailLen}, {"phone", a.Phone, 40}}
		n := 0
		for _, f := range fields {
			if f.v == nil {
				continue
			}
			n++
			*f.v = strings.TrimSpace(*f.v)
			if err := checkText(f.name, *f.v, f.max, false); err != nil {
				return err
			}
		}
		if n == 0 {
			return invalid("reporter", i18n.T("give at least one field to correct (first_name, last_name, email, phone)",
				"donnez au moins un champ à corriger (first_name, last_name, email, phone)"))
		}
		if a.Email != nil {
			if *a.Email == "" {
				return invalid("email", i18n.T("cannot be cleared: the address is how the resident is reached; carry out a deletion instead",
					"ne peut être effacée : c'est l'adresse du résident; faites plutôt une suppression"))
			}
			if err := checkEmail(*a.Email); err != nil {
				return err
			}
		}
		if a.Phone != nil {
			if err := checkPhone(*a.Phone); err != nil {
				return err
			}
		}
	case RightsDeleted:
		if kind != RightsDeletion {
			return invalid("action", i18n.T("this request asks for correction, not deletion", "cette demande vise une correction, pas une suppression"))
		}
	case RightsRefused:
		if a.Reason == "" {
			return invalid("reason", i18n.T("a refusal needs its reason", "un refus doit être motivé"))
		}
	default:
		return invalid("action", i18n.T("%q is not an action (correct, delete, refuse)", "%q n'est pas une action (correct, delete, refuse)"), clip(string(a.Action)))
	}
	return nil
}

// CorrectedFields names the fields a correction changes, for its event.
func (a RightsAction) CorrectedFields() string {
	var f []string
	for _, x := range []struct {
		name string
		v    *string
	}{{"first_name", a.FirstName}, {"last_name", a.LastName}, {"email", a.Email}, {"phone", a.Phone}} {
		if x.v != nil {
			f = append(f, x.name)
		}
	}
	return strings.Join(f, ", ")
}

// RightsEventsOf keeps the events of rights request id among a request's
// events: the rights log's history of it.
func RightsEventsOf(id int64, evs []Event) []Event {
	var out []Event
	prefix := RightsNote(id, "")
	for _, e := range evs {
		if strings.HasPrefix(string(e.Kind), "rights_") || e.Kind == EventReporterPurged {
			if e.Note == prefix || strings.HasPrefix(e.Note, prefix+":") {
				out = append(out, e)
			}
		}
	}
	return out
}
