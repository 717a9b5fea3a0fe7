package requests

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/pinward/pinward/i18n"
)

// WorkOrder is the one order of work a cluster of duplicate requests gets
// in the asset-management system of its department (Cityworks, Maximo, a
// contractor's webhook...): one per cluster, however many residents report
// the issue. It is created in the transaction of the request that starts
// the cluster, with an outbox message that a dispatcher delivers.
type WorkOrder struct {
	ID         int64
	TenantID   string
	ClusterID  string // the ServiceRequestID of the cluster's first request
	Department string
	Status     Status // moves with the cluster (status back from the integrator)
	// ExternalID is the receiving system's ID for it (the Open311
	// service_request_id an outbound Open311 connector got back), "" until
	// known.
	ExternalID string
	Payload    WorkOrderPayload
	CreatedAt  time.Time
	UpdatedAt  time.Time

	// Filled on reads: the requests in the cluster now, and the state of
	// the work order's latest outbox message.
	RequestCount int
	Delivery     OutboxState
	Attempts     int
	LastError    string
}

// WorkOrderPayload is what a work order says about the issue: a snapshot of
// the cluster's first request. It holds no personal information of any
// reporter, by construction (Request has none).
type WorkOrderPayload struct {
	Category    string            `json:"category"`
	WardID      string            `json:"ward_id"`
	AssetLayer  string            `json:"asset_layer,omitempty"`
	AssetID     string            `json:"asset_id,omitempty"`
	Lon         float64           `json:"lon"`
	Lat         float64           `json:"lat"`
	Address     string            `json:"address,omitempty"`
	Description string            `json:"description"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	RequestedAt time.Time         `json:"requested_at"`
	DueAt       time.Time         `json:"due_at,omitzero"`
}

// NewWorkOrderPayload is the payload of the work order r starts.
func NewWorkOrderPayload(r Request) WorkOrderPayload {
	norm := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return t.UTC().Truncate(time.Microsecond)
	}
	return WorkOrderPayload{
		Category: r.ServiceCode, WardID: r.WardID, AssetLayer: r.AssetLayer, AssetID: r.AssetID,
		Lon: r.Point[0], Lat: r.Point[1], Address: r.Address, Description: r.Description,
		Attributes: r.Attributes, RequestedAt: norm(r.RequestedAt), DueAt: norm(r.DueAt),
	}
}

// OutboxKind says what an outbox message tells the receiving system.
type OutboxKind string

// The kinds of outbox message.
const (
	OutboxCreate OutboxKind = "create" // a new work order
	OutboxUpdate OutboxKind = "update" // the cluster changed (merge, close): send the work order again
)

// OutboxState is where an outbox message stands.
type OutboxState string

// The states of an outbox message.
const (
	OutboxPending   OutboxState = "pending"   // waiting for its next attempt
	OutboxDelivered OutboxState = "delivered" // the receiver acknowledged it
	OutboxDead      OutboxState = "dead"      // out of attempts (or refused for good): staff retry it
)

// Valid reports whether s is a known state.
func (s OutboxState) Valid() bool {
	return s == OutboxPending || s == OutboxDelivered || s == OutboxDead
}

// OutboxMessage is one delivery of a work order to its connector. Its
// IdempotencyKey is fixed when it is written, so every retry carries the
// same key and the receiver can drop duplicates.
type OutboxMessage struct {
	ID             int64
	TenantID       string
	WorkOrderID    int64
	Kind           OutboxKind
	State          OutboxState
	Attempts       int // attempts started, this one included once claimed
	NextAttemptAt  time.Time
	LastError      string
	IdempotencyKey string
	CreatedAt      time.Time
	WorkOrder      WorkOrder // filled by ClaimOutbox, RequestCount included
}

// WorkOrderIdempotencyKey is the Idempotency-Key of outbox message msgID of
// work order woID: the create message's key names only the work order, so
// a receiver sees one key per work order however often it is retried.
func WorkOrderIdempotencyKey(tenant string, woID, msgID int64, kind OutboxKind) string {
	k := "pinward-" + tenant + "-wo-" + strconv.FormatInt(woID, 10)
	if kind == OutboxUpdate {
		k += "-update-" + strconv.FormatInt(msgID, 10)
	}
	return k
}

// AttemptResult is the outcome of one delivery attempt.
type AttemptResult struct {
	MessageID  int64
	Delivered  bool
	ExternalID string    // when delivered: the receiver's ID for the work order, if it gave one
	At         time.Time // when the attempt ended
	Error      string    // when not delivered: why
	Next       time.Time // when not delivered: the next attempt
	Dead       bool      // when not delivered: no more attempts
}

// WorkOrderFilter selects work orders. Empty fields do not filter.
type WorkOrderFilter struct {
	Tenant     string
	Delivery   OutboxState // the state of the latest outbox message
	Department string
	// Polling keeps work orders with an ExternalID that are not closed:
	// those an Open311 connector asks the receiving system about.
	Polling bool
	Limit   int // MaxListLimit when zero or more
	// AfterID pages: only work orders with a greater ID (the list is in
	// ID order); 0 from the start.
	AfterID int64
	// Scope keeps a scoped caller's work orders (see ScopedWorkOrders).
	Scope Scope
}

// WorkOrderStatusChange is the integrator's word on a work order, moving
// its cluster's requests.
type WorkOrderStatusChange struct {
	Tenant      string
	WorkOrderID int64
	To          Status
	Note        string
	Actor       string
	At          time.Time
	Clock       SLAClock // moves due times on resume; nil: they stay
}

// WorkOrderTransition is the move a work order's status change makes of
// each request of its cluster: a work order that closes closes its
// requests as fixed, with its note as the public note (kept as written).
func WorkOrderTransition(c WorkOrderStatusChange) Transition {
	t := Transition{Tenant: c.Tenant, To: c.To, PublicNoteEn: c.Note, Actor: c.Actor, At: c.At, Clock: c.Clock}
	if c.To == Closed {
		t.Reason = ReasonFixed
	}
	return t
}

// OutboxStore keeps work orders and their outbox; store/sqlite and
// store/postgis implement it (contract: storetest.RunOutbox). Work orders
// are created by CreateRequest when NewRequest.WorkOrder is set and the
// request starts its cluster.
type OutboxStore interface {
	// ClaimOutbox takes up to limit pending messages of tenant due at now,
	// oldest first, never a message while an earlier one of its work order
	// is undelivered; it counts the attempt and leases them until
	// now+lease (another dispatcher, or this one after a crash, takes them
	// again after that).
	ClaimOutbox(ctx context.Context, tenant string, now time.Time, lease time.Duration, limit int) ([]OutboxMessage, error)
	// RecordAttempts records the outcome of claimed attempts, in one
	// transaction (one disk sync for a whole batch): a delivered message
	// is done (its ExternalID, when not "", goes on the work order); a
	// failed one is pending again at Next, or dead. A message no longer
	// pending (delivered meanwhile by another dispatcher) is left alone.
	RecordAttempts(ctx context.Context, tenant string, rs []AttemptResult) error
	// RetryWorkOrder puts a work order's dead messages back to pending, due
	// at, with their attempts reset (same Idempotency-Key). NotFound for an
	// unknown work order, Conflict when none is dead.
	RetryWorkOrder(ctx context.Context, tenant string, id int64, at time.Time) (WorkOrder, error)
	// GetWorkOrder returns a work order; NotFound when there is none.
	GetWorkOrder(ctx context.Context, tenant string, id int64) (WorkOrder, error)
	// ListWorkOrders returns the work orders f selects, oldest first.
	ListWorkOrders(ctx context.Context, f WorkOrderFilter) ([]WorkOrder, error)
	// SetWorkOrderStatus moves a work order and, in the same transaction,
	// every request of its cluster that may go to c.To, each with an
	// EventStatus event; it returns the work order and how many requests
	// moved. The same status again is a no-op (an integrator's retry);
	// a transition the workflow forbids is TransitionError.
	SetWorkOrderStatus(ctx context.Context, c WorkOrderStatusChange) (WorkOrder, int, error)
	// EnqueueWorkOrderUpdate writes an update message for the work order of
	// tenant's cluster clusterID (a merge or close changed it) and reports
	// whether the cluster has a work order.
	EnqueueWorkOrderUpdate(ctx context.Context, tenant, clusterID string, at time.Time) (bool, error)
}

// WorkOrderNotFoundError is the error for an unknown work order.
func WorkOrderNotFoundError(id string) *i18n.Error {
	return i18n.Errorf(i18n.NotFound, "id", i18n.T("there is no work order %q", "il n'existe aucun bon de travail %q"), clip(id))
}

// NothingToRetryError is the error for a retry of a work order with no
// dead delivery.
func NothingToRetryError() *i18n.Error {
	return i18n.Errorf(i18n.Conflict, "id", i18n.T("this work order has no failed delivery to retry",
		"ce bon de travail n'a aucun envoi en échec à relancer"))
}

// ParseWorkOrderID returns the ID s stands for, false when it cannot be one.
func ParseWorkOrderID(s string) (int64, bool) { return ParseServiceRequestID(s) }

// WorkOrderStatus checks an integrator's status change before the store
// sees it: a known status, a note no longer than a status note may be, a
// reason to close, an actor.
func WorkOrderStatus(c WorkOrderStatusChange) error {
	c.Note = strings.TrimSpace(c.Note)
	switch {
	case !c.To.Valid():
		return invalid("status", i18n.T("%q is not a status (%s)", "%q n'est pas un état (%s)"), clip(string(c.To)), StatusList())
	case c.To == Closed && c.Note == "":
		return invalid("status_notes", i18n.T("a work order is closed with a reason", "un bon de travail est fermé avec un motif"))
	case c.Actor == "":
		return invalid("actor", msgRequired)
	}
	return checkText("status_notes", c.Note, MaxTextLen, true)
}
