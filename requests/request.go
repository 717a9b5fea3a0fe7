package requests

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/i18n"
)

// Request is one 311 service request as the municipality sees it. It holds
// no personal information; see Reporter.
type Request struct {
	ID               int64  // store-assigned primary key
	ServiceRequestID string // public ID (Open311 service_request_id); FormatServiceRequestID(ID)
	TenantID         string // the municipality
	ServiceCode      string // the Category code
	Description      string
	Status           Status
	StatusNotes      string // the note of the last status change
	Point            orb.Point
	Address          string // address_string as the resident gave it; not geocoded
	WardID           string // the ward in force at RequestedAt

	// Unlocated marks a request imported without coordinates (pinward
	// import): Point means nothing, and it stays off the map and lists.
	Unlocated bool

	// The nearest asset of the category's layers within its radius; empty
	// when none.
	AssetLayer     string
	AssetID        string
	AssetDistanceM float64

	// ClusterID groups duplicates: the ServiceRequestID of the cluster's
	// first request (so a request that starts a cluster has its own).
	ClusterID  string
	Department string // department code, after ward overrides

	RequestedAt time.Time
	UpdatedAt   time.Time
	DueAt       time.Time // SLA due time; zero when the category has no SLA

	// EscalationLevel counts the escalation levels fired;
	// NextEscalationAt is when the next falls due (zero: none left, or
	// the clock is stopped). See EscalationLevel.
	EscalationLevel  int
	NextEscalationAt time.Time

	// Attributes are the Open311 attribute values by attribute code,
	// normalised by Service (numbers and datetimes in canonical form,
	// multivaluelist keys joined by ",").
	Attributes map[string]string
	MediaURL   string
	// Token is the Open311 token: a random handle a client may poll
	// (tokens/{token}) instead of the ID.
	Token string
	Lang  i18n.Lang // the resident's language, for notices

	// The staff workflow (see transition.go).
	Channel       Channel     // how the request came in
	Assignee      string      // the crew or person working it; "" unassigned
	CloseReason   CloseReason // why it was closed; "" unless Closed
	StatusNotesFr string      // the latest public note in French (StatusNotes: English)
	// PausedAt is when the SLA clock stopped (waiting on the resident);
	// zero while it runs.
	PausedAt time.Time
}

// Reporter is the personal information of whoever submitted a request. It
// lives in its own table, is never returned by public endpoints, and every
// staff read of it is logged (PIPEDA; Quebec's Law 25).
type Reporter struct {
	FirstName string
	LastName  string
	Email     string
	Phone     string
	DeviceID  string
	// OptOut: the reporter asked not to be told of progress (notify=false
	// at intake, or an unsubscribe link); stored as reporters.notify.
	OptOut bool
	// NoticeVersion is the version of the privacy notice (Catalog's
	// PrivacyNotice) in force when the resident gave these details: what
	// they were told about the use and keeping of them (Law 25, s. 8).
	NoticeVersion string
}

// IsZero reports whether r holds no contact information at all (an
// anonymous report); neither an opt-out nor a notice version alone is any.
func (r Reporter) IsZero() bool {
	return r == Reporter{OptOut: r.OptOut, NoticeVersion: r.NoticeVersion}
}

func (r Reporter) trimmed() Reporter {
	return Reporter{
		FirstName: strings.TrimSpace(r.FirstName),
		LastName:  strings.TrimSpace(r.LastName),
		Email:     strings.TrimSpace(r.Email),
		Phone:     strings.TrimSpace(r.Phone),
		DeviceID:  strings.TrimSpace(r.DeviceID),
		OptOut:    r.OptOut,
	}
}

// FormatServiceRequestID returns the public ID of the request with primary
// key id.
func FormatServiceRequestID(id int64) string { return strconv.FormatInt(id, 10) }

// ParseServiceRequestID returns the primary key a public ID stands for, and
// false when s cannot be one (the caller answers NotFound without a query).
func ParseServiceRequestID(s string) (int64, bool) {
	if s == "" || len(s) > 19 || s[0] == '0' || s[0] == '+' {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// Status is where a request stands.
type Status string

// The statuses of a request. Open311 knows only "open" and "closed"; see
// Open311. ClusterOpen is not a request status: it is what a cluster (and
// Open311's status filter) calls any status but Closed.
const (
	New               Status = "new"
	Acknowledged      Status = "acknowledged"
	InProgress        Status = "in_progress"
	WaitingOnResident Status = "waiting_on_resident" // the SLA clock stands still
	Closed            Status = "closed"              // with a CloseReason
	Reopened          Status = "reopened"            // back to the department's queue

	ClusterOpen Status = "open"
)

// Statuses lists every status in workflow order.
func Statuses() []Status {
	return []Status{New, Acknowledged, InProgress, WaitingOnResident, Closed, Reopened}
}

// transitions is THE workflow: where each status may go, and nowhere
// else (staying put is not a change). Work moves forward; any status but
// closed may close; in progress and waiting on the resident go back and
// forth; a closed request only reopens, and a reopened one goes back to
// work (or waits, or closes again). Every store, the API and the pages
// read it through CanTransition; the README's status table copies it.
var transitions = map[Status][]Status{
	New:               {Acknowledged, InProgress, WaitingOnResident, Closed},
	Acknowledged:      {InProgress, WaitingOnResident, Closed},
	InProgress:        {WaitingOnResident, Closed},
	WaitingOnResident: {InProgress, Closed},
	Closed:            {Reopened},
	Reopened:          {InProgress, WaitingOnResident, Closed},
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// CanTransition reports whether a request may go from s to to.
func (s Status) CanTransition(to Status) bool {
	return slices.Contains(transitions[s], to)
}

// Next lists the statuses a request in s may go to, in workflow order.
func (s Status) Next() []Status { return slices.Clone(transitions[s]) }

// Open311 returns the GeoReport v2 status: "closed" or "open".
func (s Status) Open311() string {
	if s == Closed {
		return "closed"
	}
	return "open"
}

// OpenStatuses lists every status but Closed.
func OpenStatuses() []Status {
	return []Status{New, Acknowledged, InProgress, WaitingOnResident, Reopened}
}

// Open311Statuses returns the statuses an Open311 status filter ("open" or
// "closed") stands for, and false for any other value.
func Open311Statuses(s string) ([]Status, bool) {
	switch s {
	case "open":
		return OpenStatuses(), true
	case "closed":
		return []Status{Closed}, true
	}
	return nil, false
}

// Label returns the status for people, in both languages.
func (s Status) Label() i18n.Text {
	switch s {
	case New:
		return i18n.T("New", "Nouvelle")
	case Acknowledged:
		return i18n.T("Acknowledged", "Prise en charge")
	case InProgress:
		return i18n.T("In progress", "En cours")
	case WaitingOnResident:
		return i18n.T("Waiting on the resident", "En attente du résident")
	case Closed:
		return i18n.T("Closed", "Fermée")
	case Reopened:
		return i18n.T("Reopened", "Rouverte")
	case ClusterOpen:
		return i18n.T("Open", "Ouverte")
	}
	return i18n.T(string(s), string(s))
}

// StatusList is the statuses for error messages: "new, acknowledged, ...".
func StatusList() string {
	var b strings.Builder
	for i, s := range Statuses() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(s))
	}
	return b.String()
}

// EventKind says what an Event records.
type EventKind string

// The kinds of event in a request's audit trail.
const (
	EventCreated      EventKind = "created"       // the request was submitted
	EventStatus       EventKind = "status"        // From → To, with a note
	EventMerged       EventKind = "merged"        // staff moved it into another cluster
	EventReporterRead EventKind = "reporter_read" // staff read the reporter's personal information
)

// Event is one entry of a request's audit trail: who did what, when. Events
// are written in the same transaction as the change they record and never
// updated or deleted.
type Event struct {
	ID        int64 // store-assigned
	TenantID  string
	RequestID int64 // Request.ID
	At        time.Time
	Actor     string // "resident", "web", "key:12", a staff user name...
	Kind      EventKind
	From, To  Status // for EventCreated From is empty
	Note      string
	// A transition's public note per language (a note written in one
	// language only leaves the other empty; see PublicNote), the staff's
	// internal note (never shown to residents), the close reason or
	// referral, the canned template used, and the escalation level fired.
	PublicNoteEn string
	PublicNoteFr string
	InternalNote string
	Reason       string
	Template     string
	Level        int
}
