package requests

import (
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

	// Attributes are the Open311 attribute values by attribute code,
	// normalised by Service (numbers and datetimes in canonical form,
	// multivaluelist keys joined by ",").
	Attributes map[string]string
	MediaURL   string
	// Token is the Open311 token: a random handle a client may poll
	// (tokens/{token}) instead of the ID.
	Token string
	Lang  i18n.Lang // the resident's language, for notices
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
	// NoticeVersion is the version of the privacy notice (Catalog's
	// PrivacyNotice) in force when the resident gave these details: what
	// they were told about the use and keeping of them (Law 25, s. 8).
	NoticeVersion string
}

// IsZero reports whether r holds no contact information at all (an
// anonymous report); a notice version alone is none.
func (r Reporter) IsZero() bool { return r == Reporter{NoticeVersion: r.NoticeVersion} }

func (r Reporter) trimmed() Reporter {
	return Reporter{
		FirstName: strings.TrimSpace(r.FirstName),
		LastName:  strings.TrimSpace(r.LastName),
		Email:     strings.TrimSpace(r.Email),
		Phone:     strings.TrimSpace(r.Phone),
		DeviceID:  strings.TrimSpace(r.DeviceID),
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
// Open311.
const (
	Open         Status = "open"
	Acknowledged Status = "acknowledged"
	InProgress   Status = "in_progress"
	Closed       Status = "closed"
)

// Statuses lists every status in workflow order.
func Statuses() []Status { return []Status{Open, Acknowledged, InProgress, Closed} }

// transitions lists where each status may go. Work moves forward; any
// status may close; only a closed request goes back to open (reopened when
// the fix did not hold). Staying put is not a change.
var transitions = map[Status][]Status{
	Open:         {Acknowledged, InProgress, Closed},
	Acknowledged: {InProgress, Closed},
	InProgress:   {Closed},
	Closed:       {Open},
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// CanTransition reports whether a request may go from s to to.
func (s Status) CanTransition(to Status) bool {
	for _, t := range transitions[s] {
		if t == to {
			return true
		}
	}
	return false
}

// Open311 returns the GeoReport v2 status: "closed" or "open".
func (s Status) Open311() string {
	if s == Closed {
		return "closed"
	}
	return "open"
}

// Open311Statuses returns the statuses an Open311 status filter ("open" or
// "closed") stands for, and false for any other value.
func Open311Statuses(s string) ([]Status, bool) {
	switch s {
	case "open":
		return []Status{Open, Acknowledged, InProgress}, true
	case "closed":
		return []Status{Closed}, true
	}
	return nil, false
}

// Label returns the status for people, in both languages.
func (s Status) Label() i18n.Text {
	switch s {
	case Open:
		return i18n.T("Open", "Ouverte")
	case Acknowledged:
		return i18n.T("Acknowledged", "Prise en charge")
	case InProgress:
		return i18n.T("In progress", "En cours")
	case Closed:
		return i18n.T("Closed", "Fermée")
	}
	return i18n.T(string(s), string(s))
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
}
