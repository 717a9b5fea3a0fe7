package requests

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pinward/pinward/i18n"
)

// After closure the resident answers "Are you satisfied?" (a score of 1 to
// 5 and an optional comment, once per request) and, within the reopen
// window, may reopen the request with a comment: it goes back to its
// department's queue as Reopened, and the department's staff are told
// through the mail outbox. What authorises a resident (the link tokens of
// package linktoken) is the API's business; this file is what is kept.

// ResidentActor is the actor of the events a resident's own action writes
// (a reopen).
const ResidentActor = "resident"

// MailReopenedStaff is the message to the staff of a department whose
// request a resident reopened: one per contact, to the contact's address
// in the contact's language (a staff row of the outbox, like
// MailEscalated); it names the request and nothing of its reporter.
const MailReopenedStaff MailKind = "reopened_staff"

// Limits of the resident's answers.
const (
	MaxFeedbackLen    = 2000 // characters of a satisfaction or reopen comment
	DefaultReopenDays = 14   // the reopen window when the catalog sets none
	maxReopenDays     = 366
)

// Satisfaction is a resident's answer about a closed request.
type Satisfaction struct {
	Tenant           string
	ServiceRequestID string
	Score            int // 1 to 5
	Comment          string
	At               time.Time
}

// Reopening is a resident's reopen of a closed request: Transition (to
// Reopened, from Closed, by ResidentActor, the comment as its internal
// note) applied only when the request's latest close is at or after
// ClosedSince, and one MailReopenedStaff message queued per Staff contact
// in the same transaction.
type Reopening struct {
	Transition  Transition
	ClosedSince time.Time
	Staff       []Contact
}

// FeedbackStore keeps the residents' answers after closure; store/sqlite
// and store/postgis implement it (contract: storetest.RunFeedback).
type FeedbackStore interface {
	// GiveSatisfaction stores s, once per request: RequestNotFoundError
	// for an unknown request, NotClosedError when it is not closed,
	// SatisfactionGivenError when it already has one (nothing changes).
	GiveSatisfaction(ctx context.Context, s Satisfaction) error
	// GetSatisfaction returns the request's answer; ok is false when it
	// has none. RequestNotFoundError for an unknown request.
	GetSatisfaction(ctx context.Context, tenant, serviceRequestID string) (s Satisfaction, ok bool, err error)
	// ReopenRequest locks the request and, when it is closed and its
	// latest close is at or after r.ClosedSince, applies r.Transition
	// (TransitionRequest) and queues the staff messages, in one
	// transaction. RequestNotFoundError, TransitionError when it is not
	// closed, ReopenWindowError when the window has passed.
	ReopenRequest(ctx context.Context, r Reopening) (Request, error)
}

// NotClosedError answers satisfaction about a request that is not closed.
func NotClosedError() *i18n.Error {
	return i18n.Errorf(i18n.Conflict, "status", i18n.T("the request is not closed", "la demande n'est pas fermée"))
}

// SatisfactionGivenError answers a second satisfaction for one request.
func SatisfactionGivenError() *i18n.Error {
	return i18n.Errorf(i18n.Conflict, "satisfaction", i18n.T("you have already told us how satisfied you are with this request",
		"vous nous avez déjà dit votre satisfaction au sujet de cette demande"))
}

// ReopenWindowError answers a reopen after the window.
func ReopenWindowError(days int) *i18n.Error {
	return i18n.Errorf(i18n.Conflict, "reopen", i18n.T("a request can be reopened only within %d days of its closing",
		"une demande ne peut être rouverte que dans les %d jours suivant sa fermeture"), days)
}

// ReopenDays is the number of days after closing during which a resident
// may reopen a request (the catalog's "reopen_days", DefaultReopenDays
// when absent; 0 turns reopening off).
func (c *Catalog) ReopenDays() int {
	if c.reopenDays == nil {
		return DefaultReopenDays
	}
	return *c.reopenDays
}

// ReopenWindow is ReopenDays as a duration (calendar days).
func (c *Catalog) ReopenWindow() time.Duration { return time.Duration(c.ReopenDays()) * 24 * time.Hour }

// buildReopen checks the catalog's "reopen_days".
func (f *catalogFile) buildReopen(c *Catalog) error {
	if d := f.ReopenDays; d != nil && (*d < 0 || *d > maxReopenDays) {
		return cfgErr("reopen_days", msgRange, 0.0, float64(maxReopenDays))
	}
	c.reopenDays = f.ReopenDays
	return nil
}

// ReopenContacts are who hear of a reopen of a request of department
// code: staff actors (API keys) have no address, so the department's
// "department" contacts stand for whoever closed it, else every contact
// of the department (each address once); nil when it has none.
func (c *Catalog) ReopenContacts(department string) []Contact {
	d, ok := c.Department(department)
	if !ok {
		return nil
	}
	if cs := d.Contacts["department"]; len(cs) > 0 {
		return cs
	}
	var out []Contact
	seen := map[string]bool{}
	for _, group := range slices.Sorted(maps.Keys(d.Contacts)) {
		for _, ct := range d.Contacts[group] {
			if k := strings.ToLower(ct.Email); !seen[k] {
				seen[k] = true
				out = append(out, ct)
			}
		}
	}
	return out
}

// Feedback is the Service's side of the residents' answers, kept in fs.
type Feedback struct {
	svc   *Service
	store FeedbackStore
}

// Feedback returns the residents' answers kept in fs.
func (s *Service) Feedback(fs FeedbackStore) Feedback { return Feedback{svc: s, store: fs} }

func checkFeedbackComment(c string) (string, error) {
	c = strings.TrimSpace(c)
	return c, checkText("comment", c, MaxFeedbackLen, true)
}

// Satisfy stores the resident's score (1 to 5) and comment about closed
// request id.
func (f Feedback) Satisfy(ctx context.Context, id string, score int, comment string) error {
	if score < 1 || score > 5 {
		return invalid("score", i18n.T("must be a whole number from 1 to 5", "doit être un nombre entier de 1 à 5"))
	}
	comment, err := checkFeedbackComment(comment)
	if err != nil {
		return err
	}
	if _, ok := ParseServiceRequestID(id); !ok {
		return RequestNotFoundError(clip(id))
	}
	return f.store.GiveSatisfaction(ctx, Satisfaction{Tenant: f.svc.cfg.Tenant, ServiceRequestID: id, Score: score,
		Comment: comment, At: f.svc.now()})
}

// Satisfaction returns the answer given about request id, if any.
func (f Feedback) Satisfaction(ctx context.Context, id string) (Satisfaction, bool, error) {
	if _, ok := ParseServiceRequestID(id); !ok {
		return Satisfaction{}, false, RequestNotFoundError(clip(id))
	}
	return f.store.GetSatisfaction(ctx, f.svc.cfg.Tenant, id)
}

// Reopen moves closed request id back to its department's queue with the
// resident's comment (an internal note: it may name the resident, and
// the cluster's other reporters are told of the reopen), within the
// catalog's reopen window, and tells the department's staff.
func (f Feedback) Reopen(ctx context.Context, id, comment string) (Request, error) {
	comment, err := checkFeedbackComment(comment)
	if err != nil {
		return Request{}, err
	}
	if comment == "" {
		return Request{}, invalid("comment", i18n.T("say what is still wrong", "dites-nous ce qui ne va toujours pas"))
	}
	cat := f.svc.cfg.Catalog
	if _, ok := ParseServiceRequestID(id); !ok {
		return Request{}, RequestNotFoundError(clip(id))
	}
	r, err := f.svc.cfg.Store.GetRequest(ctx, f.svc.cfg.Tenant, id)
	if err != nil {
		return Request{}, err
	}
	if cat.ReopenDays() == 0 {
		return Request{}, ReopenWindowError(0)
	}
	now := f.svc.now()
	return f.store.ReopenRequest(ctx, Reopening{
		Transition: Transition{Tenant: f.svc.cfg.Tenant, ServiceRequestID: id, From: Closed, To: Reopened,
			InternalNote: comment, Actor: ResidentActor, At: now, Clock: cat},
		ClosedSince: now.Add(-cat.ReopenWindow()),
		Staff:       cat.ReopenContacts(r.Department),
	})
}
