package requests

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/pinward/pinward/i18n"
)

// Escalation in levels: a category's "escalation" lists when its open
// requests are brought to whose attention, each level a share of the SLA
// ("75%") or business days past a share ("100%+2bd"), each naming a group
// of its department's contacts ("department", "supervisor", "director").
// Each level fires once per request (see QueueStore.ClaimEscalations): it
// writes an EventEscalated event, raises Request.EscalationLevel and
// queues one message per contact. A pause (waiting on the resident) or a
// holiday moves every later level, because levels are computed on the
// same clock as the due time.

// EventEscalated is the event of a level firing; Event.Level is the level.
const EventEscalated EventKind = "escalated"

// EscalationLevel is one level of a category's escalation.
type EscalationLevel struct {
	// At is when the level falls due: "P%" of the SLA, or "P%+Nbd", N
	// business days after that.
	At string `json:"at"`
	// Notify names the group of the department's contacts told.
	Notify string `json:"notify"`

	share float64 // P / 100
	days  int     // N
}

// Contact is one person (or mailbox) a department's escalations reach.
type Contact struct {
	Email string    `json:"email"`
	Lang  i18n.Lang `json:"lang"`
}

var levelAtRE = regexp.MustCompile(`^([0-9]{1,4}(?:\.[0-9]{1,2})?)%(?:\+([0-9]{1,3})bd)?$`)

// Limits that catch a typo at start rather than in the field.
const (
	maxLevelShare = 10 // 1000% of the SLA
	maxLevelDays  = 250
	maxLevels     = 10
)

// parseLevelAt reads "75%" or "100%+2bd".
func parseLevelAt(s string) (share float64, days int, ok bool) {
	m := levelAtRE.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, false
	}
	p, err := strconv.ParseFloat(m[1], 64)
	if err != nil || p <= 0 || p/100 > maxLevelShare {
		return 0, 0, false
	}
	if m[2] != "" {
		if days, err = strconv.Atoi(m[2]); err != nil || days > maxLevelDays {
			return 0, 0, false
		}
	}
	return p / 100, days, true
}

// checkContacts validates a department's contacts.
func checkContacts(field string, d Department) error {
	for group, cs := range d.Contacts {
		gf := field + ".contacts[" + group + "]"
		if !codeRE.MatchString(group) {
			return cfgErr(field+".contacts", msgBadCode, group)
		}
		if len(cs) == 0 {
			return cfgErr(gf, i18n.T("needs at least one contact", "doit compter au moins un contact"))
		}
		for i, c := range cs {
			cf := fmt.Sprintf("%s[%d]", gf, i)
			if err := checkEmail(c.Email); err != nil || c.Email == "" {
				return cfgErr(cf+".email", i18n.T("%q is not an email address", "%q n'est pas une adresse courriel"), clip(c.Email))
			}
			if c.Lang != i18n.En && c.Lang != i18n.Fr {
				return cfgErr(cf+".lang", i18n.T("%q is not a language pinward speaks (en, fr)", "%q n'est pas une langue de pinward (en, fr)"), clip(string(c.Lang)))
			}
		}
	}
	return nil
}

// checkEscalation validates a category's levels against its SLA and the
// contacts of every department it may be routed to, and parses them.
func (c *Catalog) checkEscalation(field string, cat *Category) error {
	if len(cat.Escalation) == 0 {
		return nil
	}
	field += ".escalation"
	if cat.SLA.Hours <= 0 {
		return cfgErr(field, i18n.T("needs an SLA (sla.hours) to count from", "exige un délai (sla.hours) à partir duquel compter"))
	}
	if len(cat.Escalation) > maxLevels {
		return cfgErr(field, i18n.T("has more than %d levels", "compte plus de %d niveaux"), maxLevels)
	}
	depts := []string{cat.Department}
	for _, d := range cat.WardDepartments {
		depts = append(depts, d)
	}
	levels := slices.Clone(cat.Escalation)
	for i := range levels {
		l := &levels[i]
		lf := fmt.Sprintf("%s[%d]", field, i)
		var ok bool
		if l.share, l.days, ok = parseLevelAt(l.At); !ok {
			return cfgErr(lf+".at", i18n.T(
				"%q is not a share of the SLA (\"75%%\") or business days past one (\"100%%+2bd\")",
				"%q n'est pas une part du délai (« 75%% ») ni des jours ouvrables après une part (« 100%%+2bd »)"), clip(l.At))
		}
		if i > 0 {
			p := levels[i-1]
			if l.share < p.share || l.share == p.share && l.days < p.days {
				return cfgErr(lf+".at", i18n.T("comes before the level above it: list levels in the order they fall due",
					"précède le niveau au-dessus : énumérez les niveaux dans l'ordre de leur échéance"))
			}
		}
		if !codeRE.MatchString(l.Notify) {
			return cfgErr(lf+".notify", msgBadCode, l.Notify)
		}
		for _, code := range depts {
			d, _ := c.Department(code)
			if len(d.Contacts[l.Notify]) == 0 {
				return cfgErr(lf+".notify", i18n.T("department %q has no contacts %q", "le service %q n'a pas de contacts %q"), code, l.Notify)
			}
		}
	}
	cat.Escalation = levels
	return nil
}

// Escalation returns the levels of category code (nil: none).
func (c *Catalog) Escalation(code string) []EscalationLevel {
	cat, _ := c.Category(code)
	return cat.Escalation
}

// Contacts returns the contacts of department code's group (nil: none).
func (c *Catalog) Contacts(department, group string) []Contact {
	d, _ := c.Department(department)
	return d.Contacts[group]
}

// LevelAt returns when level (1 for the first) of category code falls due
// for a request received at received whose clock stood still during
// pauses: the SLA's share counted as its due time is (working time for a
// business-hour SLA), then the business days. ok is false when the
// category has no such level; the time is zero when an open pause stops
// the clock before the level is reached.
func (c *Catalog) LevelAt(code string, received time.Time, pauses []Pause, level int) (at time.Time, ok bool) {
	levels := c.Escalation(code)
	d, business, hasSLA := c.SLATarget(code)
	if !hasSLA || level < 1 || level > len(levels) {
		return time.Time{}, false
	}
	l := levels[level-1]
	t := c.add(received, time.Duration(l.share*float64(d)), business, pauses)
	if l.days > 0 && !t.IsZero() {
		t = c.add(t, time.Duration(l.days)*c.WorkingDay(), true, pauses)
	}
	if t.IsZero() {
		return t, true
	}
	return t.UTC().Truncate(time.Microsecond), true
}

// NextEscalation returns when the level after fired falls due for s, zero
// when none is left, the request is closed or its clock is stopped before
// that level.
func (c *Catalog) NextEscalation(s EscalationState) time.Time {
	if s.Status == Closed {
		return time.Time{}
	}
	at, _ := c.LevelAt(s.ServiceCode, s.RequestedAt, s.Pauses, s.EscalationLevel+1)
	return at
}

// StatusStep is one status change of a request, as PausesOf reads it.
type StatusStep struct {
	At       time.Time
	From, To Status
}

// PausesOf returns a request's pauses from its status changes in order:
// each stretch spent waiting on the resident, the last one open (zero End)
// while it still waits. pausedAt (zero: the clock runs) opens a pause the
// steps do not show.
func PausesOf(steps []StatusStep, pausedAt time.Time) []Pause {
	var ps []Pause
	open := false
	for _, s := range steps {
		switch {
		case s.To == WaitingOnResident && !open:
			ps = append(ps, Pause{Start: s.At})
			open = true
		case s.From == WaitingOnResident && s.To != WaitingOnResident && open:
			ps[len(ps)-1].End = s.At
			open = false
		}
	}
	if !pausedAt.IsZero() && !open {
		ps = append(ps, Pause{Start: pausedAt})
	}
	if pausedAt.IsZero() && open {
		// The request says the clock runs: trust it over a missing step.
		ps = ps[:len(ps)-1]
	}
	return ps
}

// EscalationState is what escalation reads of a request.
type EscalationState struct {
	ID               int64
	ServiceRequestID string
	ServiceCode      string
	Department       string
	WardID           string
	Status           Status
	RequestedAt      time.Time
	DueAt            time.Time // zero: no SLA
	PausedAt         time.Time // zero: the clock runs
	EscalationLevel  int       // levels fired
	NextEscalationAt time.Time // as stored; zero: NULL
	Pauses           []Pause   // from the status history and PausedAt
}

// NextEscalation is a computed next time for SetNextEscalations: stored
// only while the request still has the Status, PausedAt and
// EscalationLevel it was computed from (else a newer change is on its way
// and will be computed in turn) and only when it differs from the stored
// one, so writing it does not start another round.
type NextEscalation struct {
	ID              int64
	Status          Status
	PausedAt        time.Time
	EscalationLevel int
	At              time.Time // zero: NULL
}

// Escalation is one level firing, written by ClaimEscalations in the
// transaction that claims it.
type Escalation struct {
	Level    int       // the level fired: the request's EscalationLevel + 1
	Next     time.Time // when the level after falls due (zero: none)
	Notify   string    // the contact group
	Contacts []Contact // one message each
	Actor    string    // the event's actor
}

// EscalationMessage is one message of a fired level to one contact: a
// MailEscalated row of the mail outbox (see MailStore), read back here.
type EscalationMessage struct {
	ID               int64
	ServiceRequestID string
	Level            int
	Notify           string
	Recipient        string
	Lang             i18n.Lang
	Created          time.Time
}

// EscalationClaim is one sweep of ClaimEscalations.
type EscalationClaim struct {
	Tenant string
	Now    time.Time
	Limit  int // requests at most (100 when zero or less)
	// Plan decides each due request's escalation; false leaves the level
	// alone and stores Escalation.Next only (the catalog changed, or the
	// clock was stopped).
	Plan func(EscalationState) (Escalation, bool)
	// AfterClaim, when set, runs inside the transaction after the levels
	// are raised and their events written, before their messages are
	// queued: crash tests stop the process there.
	AfterClaim func(context.Context)
}

// QueueStore keeps the department queues and the escalation clock.
type QueueStore interface {
	// Queue returns the open (not closed) requests q selects in q.Sort's
	// order, after q.After, at most q.Limit (MaxQueueLimit when zero or
	// more), each with its pauses.
	Queue(ctx context.Context, q QueueQuery) ([]QueueRow, error)

	// EscalationStates returns the state of the named requests (unknown
	// ones are left out), in no particular order.
	EscalationStates(ctx context.Context, tenant string, serviceRequestIDs []string) ([]EscalationState, error)

	// SetNextEscalations stores computed next times (see NextEscalation)
	// and returns how many rows changed.
	SetNextEscalations(ctx context.Context, tenant string, ns []NextEscalation) (int, error)

	// ClaimEscalations fires the levels due at c.Now, in one transaction:
	// it locks up to c.Limit requests whose next escalation time is at or
	// before c.Now, earliest first, skipping rows another transaction
	// holds (several servers sweep at once), calls c.Plan for each, and
	// for each planned escalation raises the level (only from the level
	// read, so a level never fires twice), stores its next time, writes
	// an EventEscalated event with its level and queues one
	// EscalationMessage per contact. It returns the escalations fired.
	// Either all of a sweep is stored or none.
	ClaimEscalations(ctx context.Context, c EscalationClaim) (int, error)

	// EscalationMessages returns the escalation messages (the outbox's
	// MailEscalated rows, whatever their state) of tenant created at
	// or after since (zero: all), oldest first, at most limit.
	EscalationMessages(ctx context.Context, tenant string, since time.Time, limit int) ([]EscalationMessage, error)
}
