package requests

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/pinward/pinward/i18n"
)

// QueueSort is the order of a department queue.
type QueueSort string

// The queue's orders. Each is a total order (the request ID breaks ties),
// so a cursor names one place in it.
const (
	// SortDue: soonest due first; requests without an SLA last.
	SortDue QueueSort = "due"
	// SortReceived: oldest first.
	SortReceived QueueSort = "received"
	// SortEscalation: highest escalation level first, then by due time.
	SortEscalation QueueSort = "escalation"
)

// MaxQueueLimit is the longest queue page; DefaultQueueLimit the default.
const (
	MaxQueueLimit     = 200
	DefaultQueueLimit = 50
)

// NoDue stands for "no SLA" in the due order, so requests without one sort
// last and a cursor can name them: stores sort on COALESCE(due_at, NoDue).
var NoDue = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// QueueQuery selects a page of a department queue. Empty fields do not
// filter.
type QueueQuery struct {
	Tenant      string
	Department  string
	WardID      string
	ServiceCode string
	Statuses    []Status
	Assignee    string
	Channel     string
	// Overdue keeps requests whose due time is before Now.
	Overdue bool
	Now     time.Time
	Sort    QueueSort
	After   *QueueCursor // nil: from the start
	Limit   int
	// Scope keeps a scoped caller's requests (see ScopedQueue), on top of
	// Department and WardID.
	Scope Scope
}

// QueueCursor is a place in a queue's order: the sort key of the last
// request of a page.
type QueueCursor struct {
	Sort  QueueSort `json:"s"`
	Level int       `json:"l,omitempty"` // SortEscalation
	Time  time.Time `json:"t"`           // due (NoDue when none) or received
	ID    int64     `json:"i"`
}

// CursorAfter returns the cursor of the page that follows row r.
func (q QueueQuery) CursorAfter(r QueueRow) QueueCursor {
	c := QueueCursor{Sort: q.Sort, ID: r.Request.ID, Time: r.Request.DueAt}
	switch q.Sort {
	case SortReceived:
		c.Time = r.Request.RequestedAt
	case SortEscalation:
		c.Level = r.Request.EscalationLevel
	}
	if q.Sort != SortReceived && c.Time.IsZero() {
		c.Time = NoDue
	}
	return c
}

// Encode returns the cursor as the opaque string clients pass back.
func (c QueueCursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseQueueCursor reads a cursor of sort s; Invalid for anything else.
func ParseQueueCursor(s string, sort QueueSort) (*QueueCursor, error) {
	bad := invalid("cursor", i18n.T("is not a cursor this queue handed out", "n'est pas un curseur donné par cette file"))
	if len(s) > 200 {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var c QueueCursor
	if err := json.Unmarshal(b, &c); err != nil || c.ID <= 0 || c.Time.IsZero() {
		return nil, bad
	}
	if c.Sort != sort {
		return nil, invalid("cursor", i18n.T("belongs to another sort order than %q", "appartient à un autre ordre de tri que %q"), string(sort))
	}
	return &c, nil
}

// ParseQueueSort reads the sort parameter ("" is SortDue).
func ParseQueueSort(s string) (QueueSort, error) {
	switch QueueSort(s) {
	case "":
		return SortDue, nil
	case SortDue, SortReceived, SortEscalation:
		return QueueSort(s), nil
	}
	return "", invalid("sort", i18n.T("%q is not a queue order (due, received, escalation)", "%q n'est pas un ordre de file (due, received, escalation)"), clip(s))
}

// QueueStatuses are the statuses a queue lists (every status but closed).
func QueueStatuses() []Status {
	return []Status{New, Acknowledged, InProgress, WaitingOnResident, Reopened}
}

// ParseQueueStatus reads one status of the status filter.
func ParseQueueStatus(s string) (Status, error) {
	for _, st := range QueueStatuses() {
		if string(st) == s {
			return st, nil
		}
	}
	return "", invalid("status", i18n.T("%q is not the status of an open request (new, acknowledged, in_progress, waiting_on_resident, reopened)",
		"%q n'est pas l'état d'une demande ouverte (new, acknowledged, in_progress, waiting_on_resident, reopened)"), clip(s))
}

// QueueRow is one request of a queue with what its SLA state is computed
// from.
type QueueRow struct {
	Request  Request
	Channel  string
	Assignee string
	PausedAt time.Time // zero: the clock runs
	Pauses   []Pause
}

// SLAState is where a request stands against its SLA at a moment.
type SLAState struct {
	HasSLA bool
	// Remaining is the SLA time left (in the SLA's units: working time
	// for a business-hour SLA); Overdue by how much it is past due.
	// At most one is non-zero.
	Remaining, OverdueBy time.Duration
	Paused               bool
}

// SLAState returns the SLA state of a request of category code received
// at received with pauses, at now.
func (c *Catalog) SLAState(code string, received time.Time, pauses []Pause, now time.Time) SLAState {
	d, _, ok := c.SLATarget(code)
	if !ok {
		return SLAState{}
	}
	st := SLAState{HasSLA: true}
	for _, p := range pauses {
		if p.End.IsZero() && !p.Start.After(now) {
			st.Paused = true
		}
	}
	left := d - c.SLAElapsed(code, received, now, pauses)
	if left >= 0 {
		st.Remaining = left
	} else {
		st.OverdueBy = -left
	}
	return st
}
