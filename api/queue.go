package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/text"
)

// The department queue (staff key):
//
//	GET /api/v1/queue?department=&ward=&service_code=&status=&overdue=true
//	    &assignee=&channel=&sort=due|received|escalation&cursor=&limit=
//
// lists open requests with their SLA state, a page at a time; next_cursor
// (absent on the last page) is the opaque cursor of the page after.

// mountQueue mounts the queue route in the staff group; nil: none.
func (h *handler) mountQueue(r chi.Router, qs requests.QueueStore) {
	if qs == nil {
		return
	}
	qs = requests.ScopedQueue(qs) // a scoped key's queue holds its departments and wards only
	r.Get("/api/v1/queue", func(w http.ResponseWriter, r *http.Request) { h.queue(w, r, qs) })
}

type queueItem struct {
	ServiceRequestID string    `json:"service_request_id"`
	ServiceCode      string    `json:"service_code"`
	ServiceNameEn    string    `json:"service_name_en"`
	ServiceNameFr    string    `json:"service_name_fr"`
	Description      string    `json:"description"`
	Address          string    `json:"address,omitempty"`
	Lat              float64   `json:"lat"`
	Long             float64   `json:"long"`
	Status           string    `json:"status"` // Open311: open
	DetailedStatus   string    `json:"detailed_status"`
	Department       string    `json:"department"`
	WardID           string    `json:"ward_id"`
	ClusterID        string    `json:"cluster_id"`
	Assignee         string    `json:"assignee"`
	Channel          string    `json:"channel"`
	RequestedAt      time.Time `json:"requested_at"`
	DueAt            *string   `json:"due_at"` // null without an SLA
	// The SLA time left, or how far past due, in seconds of the SLA's
	// own clock (working time for a business-hour SLA); null without an
	// SLA.
	BusinessSecondsRemaining *int64     `json:"business_seconds_remaining"`
	BusinessSecondsOverdue   *int64     `json:"business_seconds_overdue"`
	Overdue                  bool       `json:"overdue"`
	Paused                   bool       `json:"paused"`
	EscalationLevel          int        `json:"escalation_level"`
	NextEscalationAt         *time.Time `json:"next_escalation_at"`
}

type queuePage struct {
	Requests   []queueItem `json:"requests"`
	NextCursor string      `json:"next_cursor,omitempty"`
	// Departments are the catalog's, for the page's choice.
	Departments []queueDepartment `json:"departments"`
}

type queueDepartment struct {
	Code   string `json:"code"`
	NameEn string `json:"name_en"`
	NameFr string `json:"name_fr"`
}

func (h *handler) queue(w http.ResponseWriter, r *http.Request, qs requests.QueueStore) {
	q, err := h.queueQuery(r.URL.Query())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	// One more than asked: whether a next page exists without a second
	// query.
	want := q.Limit
	q.Limit++
	rows, err := qs.Queue(r.Context(), q)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	page := queuePage{Requests: []queueItem{}}
	if len(rows) > want {
		rows = rows[:want]
		page.NextCursor = q.CursorAfter(rows[len(rows)-1]).Encode()
	}
	cat := h.svc.Catalog()
	for _, d := range cat.Departments() {
		page.Departments = append(page.Departments, queueDepartment{d.Code, d.Name.En, d.Name.Fr})
	}
	loc := cat.Location()
	for _, row := range rows {
		rq := row.Request
		it := queueItem{
			ServiceRequestID: rq.ServiceRequestID, ServiceCode: rq.ServiceCode, Description: rq.Description,
			Address: rq.Address, Lat: rq.Point[1], Long: rq.Point[0], Status: rq.Status.Open311(),
			DetailedStatus: string(rq.Status), Department: rq.Department, WardID: rq.WardID, ClusterID: rq.ClusterID,
			Assignee: row.Assignee, Channel: row.Channel, RequestedAt: rq.RequestedAt.In(loc),
			EscalationLevel: rq.EscalationLevel,
		}
		if c, ok := cat.Category(rq.ServiceCode); ok {
			it.ServiceNameEn, it.ServiceNameFr = c.Name.En, c.Name.Fr
		}
		if !rq.DueAt.IsZero() {
			s := rq.DueAt.In(loc).Format(time.RFC3339)
			it.DueAt = &s
		}
		if !rq.NextEscalationAt.IsZero() {
			t := rq.NextEscalationAt.In(loc)
			it.NextEscalationAt = &t
		}
		if sla := cat.SLAState(rq.ServiceCode, rq.RequestedAt, row.Pauses, q.Now); sla.HasSLA {
			left, over := int64(sla.Remaining/time.Second), int64(sla.OverdueBy/time.Second)
			it.BusinessSecondsRemaining, it.BusinessSecondsOverdue = &left, &over
			it.Overdue, it.Paused = sla.OverdueBy > 0, sla.Paused
		}
		page.Requests = append(page.Requests, it)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, page)
}

// queueQuery reads the query string; every bad value is a bilingual 400
// naming its parameter.
func (h *handler) queueQuery(v url.Values) (requests.QueueQuery, error) {
	cat := h.svc.Catalog()
	q := requests.QueueQuery{Tenant: h.svc.Tenant(), Now: h.now().UTC().Truncate(time.Microsecond), Limit: requests.DefaultQueueLimit}
	for name := range v {
		switch name {
		case "department", "ward", "service_code", "status", "overdue", "assignee", "channel", "sort", "cursor", "limit", "api_key", "locale":
		default:
			return q, i18n.Errorf(i18n.Invalid, name, i18n.T("is not a parameter of the queue", "n'est pas un paramètre de la file"))
		}
	}
	if d := v.Get("department"); d != "" {
		if _, ok := cat.Department(d); !ok {
			return q, i18n.Errorf(i18n.Invalid, "department", i18n.T("there is no department %q", "il n'existe aucun service %q"), clipped(d))
		}
		q.Department = d
	}
	q.WardID = v.Get("ward")
	if len(q.WardID) > 64 {
		return q, i18n.Errorf(i18n.Invalid, "ward", i18n.T("is too long", "est trop long"))
	}
	if c := v.Get("service_code"); c != "" {
		if _, ok := cat.Category(c); !ok {
			return q, i18n.Errorf(i18n.Invalid, "service_code", i18n.T("there is no service %q", "il n'existe aucun service %q"), clipped(c))
		}
		q.ServiceCode = c
	}
	if s := v.Get("status"); s != "" {
		for _, one := range strings.Split(s, ",") {
			st, err := requests.ParseQueueStatus(one)
			if err != nil {
				return q, err
			}
			q.Statuses = append(q.Statuses, st)
		}
	}
	switch v.Get("overdue") {
	case "", "false":
	case "true":
		q.Overdue = true
	default:
		return q, i18n.Errorf(i18n.Invalid, "overdue", i18n.T("must be true or false", "doit être true ou false"))
	}
	q.Assignee = v.Get("assignee")
	if len(q.Assignee) > 200 {
		return q, i18n.Errorf(i18n.Invalid, "assignee", i18n.T("is too long", "est trop long"))
	}
	if c := v.Get("channel"); c != "" {
		switch c {
		case "web", "app", "phone", "counter", "email", "api":
			q.Channel = c
		default:
			return q, i18n.Errorf(i18n.Invalid, "channel", i18n.T("%q is not a channel (web, app, phone, counter, email, api)",
				"%q n'est pas un canal (web, app, phone, counter, email, api)"), clipped(c))
		}
	}
	var err error
	if q.Sort, err = requests.ParseQueueSort(v.Get("sort")); err != nil {
		return q, err
	}
	if c := v.Get("cursor"); c != "" {
		if q.After, err = requests.ParseQueueCursor(c, q.Sort); err != nil {
			return q, err
		}
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > requests.MaxQueueLimit {
			return q, i18n.Errorf(i18n.Invalid, "limit", i18n.T("must be a whole number from 1 to %d", "doit être un nombre entier de 1 à %d"), requests.MaxQueueLimit)
		}
		q.Limit = n
	}
	return q, nil
}

// clipped keeps an echoed parameter short.
func clipped(s string) string { return text.Clip(s, text.Short) }
