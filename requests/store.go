package requests

import (
	"context"
	"slices"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
)

// Store is everything pinward keeps, implemented by store/postgis and
// store/sqlite (each checks it at compile time) and checked by one
// contract suite (store/storetest). No capability is optional: the server
// never asks a store at run time what it can do.
type Store interface {
	RequestStore
	KeyStore
	AssetStore
	OutboxStore
	ReporterPurger
	ChangeFeed
	OpsStatsStore
	QueueStore
	MailStore
	IncidentStore
	MediaStore
	KeyAdmin
	ModerationStore
	BlockStore
	MediaPurgeLister
	FeedbackStore
	HistoryStore
	RightsStore // the resident's rights (rights.go)
}

// RequestStore is the persistence the Service needs.
//
// Every method that changes state runs in one transaction that writes the
// change together with the Event recording it (and, later, any outbox row
// for integrations): either all of it is stored or none. Every row carries
// the tenant; a method never sees another tenant's data. Errors are
// *i18n.Error: NotFound, Conflict and Invalid from the constructors in
// errors.go, anything else wrapped as Internal. Every committed change is
// also logged to the change feed (ChangeFeed) in its transaction.
type RequestStore interface {
	PublicUpdateStore // Open311's service request updates (updates.go)

	// CreateRequest stores a new request, in one transaction:
	//
	//  1. If nr.IdempotencyKey is set and the tenant already used it: return
	//     the request stored then when nr.Fingerprint matches, else
	//     IdempotencyConflictError(); write nothing. This must hold under
	//     concurrency (a unique index on tenant and key).
	//  2. If nr.Cluster is set: serialise with every other creation it
	//     could pick or be picked by, by nr.ClusterLocks() (advisory
	//     transaction locks in PostgreSQL; SQLite's write transaction
	//     already serialises), read
	//     the candidates (every stored request for which
	//     nr.Cluster.Matches is true, or a coarse superset, e.g. by Bound,
	//     same asset, codes, status and Since; bounded as hotspot.go says
	//     when the Bound is crowded) and set
	//     Request.ClusterID = nr.Cluster.Pick(candidates).
	//  3. Insert the request, assigning ID and ServiceRequestID =
	//     FormatServiceRequestID(ID); an empty ClusterID becomes the
	//     ServiceRequestID (the request starts its own cluster).
	//  4. Insert nr.Reporter unless it is nil or zero.
	//  5. Insert nr.Event with its RequestID and TenantID filled in.
	//
	// It returns the request as stored.
	CreateRequest(ctx context.Context, nr NewRequest) (Request, error)

	// GetRequest returns a request by its public ID; RequestNotFoundError
	// when the tenant has none by that ID.
	GetRequest(ctx context.Context, tenant, serviceRequestID string) (Request, error)

	// GetRequestByToken returns a request by its Open311 token;
	// TokenNotFoundError when there is none.
	GetRequestByToken(ctx context.Context, tenant, token string) (Request, error)

	// ListRequests returns the requests matching f, newest first
	// (RequestedAt descending, then ID descending), or by ID ascending
	// after f.AfterID when f.ByID, at most f.Limit of them after skipping
	// f.Offset. A Limit of zero or less means MaxListLimit.
	ListRequests(ctx context.Context, f Filter) ([]Request, error)

	// UpdateStatus is TransitionRequest(c.Transition()): the plain form
	// of a move, for integrations and tests.
	UpdateStatus(ctx context.Context, c StatusChange) (Request, error)

	// ListEvents returns a request's audit trail, oldest first (At, then
	// ID); RequestNotFoundError for an unknown request.
	ListEvents(ctx context.Context, tenant, serviceRequestID string) ([]Event, error)

	// GetReporter returns the personal information of a request's reporter
	// (zero for an anonymous report) and, in the same transaction, records
	// the read as an EventReporterRead event by a.Actor at a.At: privacy
	// law (PIPEDA, Quebec's Law 25) wants every staff access logged.
	// RequestNotFoundError for an unknown request.
	GetReporter(ctx context.Context, a ReporterAccess) (Reporter, error)

	// ClusterStore: staff merge, split and close of clusters (see
	// clusters.go).
	ClusterStore

	// TransitionStore: the staff workflow (transition.go).
	TransitionStore

	// ReportRows aggregates the tenant's requests received in q's period,
	// where the rows are: one row per value of q.By's column (per pair
	// with q.Cross's, Key2) in any order, and the total over the period,
	// with every count of ReportRow (open overdue judged at q.AsOf; the
	// escalation levels ReportLevels long; satisfaction count, sum and
	// 4s and 5s) and the ReportQuantiles of hours to close, business
	// hours to close (on q.Calendar) and hours to acknowledge,
	// interpolated as SQL's percentile_cont (NaN when none). Key is the
	// column's value; names, compliance, mean and share are the caller's.
	ReportRows(ctx context.Context, tenant string, q ReportQuery) (rows []ReportRow, total ReportRow, err error)

	// OpenRequestsNear returns the requests that are not closed, of one of
	// q.ServiceCodes, requested at or after q.Since (zero: any time), that
	// lie in q.Bound or, when q.AssetID is set, name q's asset, each once,
	// in no particular order. It takes no lock and writes nothing: it is
	// what Locate offers a resident. Both branches are read by index
	// (spatial, and tenant+asset), so the same-asset match holds however
	// many requests of the codes are open.
	OpenRequestsNear(ctx context.Context, q ClusterQuery) ([]Request, error)
}

// KeyStore keeps API keys. Only a key's hash is stored.
type KeyStore interface {
	// CreateAPIKey stores k, assigning its ID; Conflict when the hash exists.
	CreateAPIKey(ctx context.Context, k Key) (Key, error)
	// LookupAPIKey returns the key with that hash (of any tenant);
	// APIKeyNotFoundError when there is none.
	LookupAPIKey(ctx context.Context, hash string) (Key, error)
}

// NewRequest is what CreateRequest stores.
type NewRequest struct {
	// Request is complete except ID and ServiceRequestID (assigned by the
	// store) and ClusterID (empty: set by the store, see CreateRequest).
	Request  Request
	Reporter *Reporter // nil for an anonymous report
	Event    Event     // the EventCreated event; RequestID is filled in
	// IdempotencyKey is the client's Idempotency-Key ("" for none) and
	// Fingerprint a digest of the submission, so a key reused for a
	// different submission is refused rather than answered wrongly.
	IdempotencyKey string
	Fingerprint    string
	Cluster        *ClusterQuery // nil: the request starts its own cluster
	// WorkOrder: when the request starts its cluster, also create the
	// cluster's work order and its outbox message (see OutboxStore).
	WorkOrder bool
	Media     []NewMedia // photos stored with the request (see MediaStore)
}

// MaxListLimit is the most requests one ListRequests call returns (and the
// Open311 page size).
const MaxListLimit = 1000

// Filter selects requests. Empty fields do not filter; slices match any of
// their values.
type Filter struct {
	Tenant            string
	ServiceRequestIDs []string
	ServiceCodes      []string
	Statuses          []Status
	WardID            string
	ClusterID         string
	// Start and End bound RequestedAt, both inclusive (as Open311's
	// start_date and end_date); a zero time leaves that side open.
	Start, End time.Time
	// BBox keeps requests whose Point lies in it, edges included.
	BBox *orb.Bound
	// ByID lists in ascending ID order, only requests with an ID greater
	// than AfterID (0: from the first): keyset paging for walking every
	// match. Each page is one index range scan however deep the walk, and
	// a request created between pages (a larger ID) comes in a later page
	// instead of shifting the rest. The next page's AfterID is the last
	// ID returned. (A transaction still open when a page is read may
	// commit an ID below the cursor: a caller that must see it follows
	// changes too, as the tiles do.)
	ByID    bool
	AfterID int64
	// Scope keeps only the requests a scoped staff key may see (Service
	// sets it from the context; stores apply Scope.Where).
	Scope Scope
	// Limit, Offset page in the list's order (Open311's page); Offset
	// costs as much as reading the rows it skips.
	Limit, Offset int
}

// StatusChange is one plain status update for Store.UpdateStatus: a public
// note in one language, closing as Reason (ReasonFixed when empty).
type StatusChange struct {
	Tenant           string
	ServiceRequestID string
	To               Status
	Note             string
	Reason           CloseReason
	Actor            string
	At               time.Time
}

// Transition is c as a Transition.
func (c StatusChange) Transition() Transition {
	t := Transition{Tenant: c.Tenant, ServiceRequestID: c.ServiceRequestID, To: c.To, PublicNoteEn: c.Note,
		Reason: c.Reason, Actor: c.Actor, At: c.At}
	if c.To == Closed && t.Reason == "" {
		t.Reason = ReasonFixed
	}
	if c.To != Closed {
		t.Reason = ""
	}
	return t
}

// ReporterAccess is one staff read of personal information.
type ReporterAccess struct {
	Tenant           string
	ServiceRequestID string
	Actor            string
	At               time.Time
}

// ClusterQuery finds the open cluster a new request joins: an open request
// of one of ServiceCodes created at or after Since (zero: any time) that is
// either within DistanceM metres of Point or, when AssetID is set, names
// the same asset.
type ClusterQuery struct {
	Tenant       string
	ServiceCodes []string // the category and its equivalents, sorted
	Point        orb.Point
	DistanceM    float64
	// Bound is Point buffered by DistanceM: every request within the
	// distance lies in it, so a store can prefilter with an index.
	Bound      orb.Bound
	Since      time.Time
	AssetLayer string
	AssetID    string
	// LockCellDeg is the side in degrees of the grid a store locks cells
	// of (see NewRequest.ClusterLocks), the same for every category of the
	// group; zero locks the whole group.
	LockCellDeg float64
}

// LockKey names the set of creations that must not assign clusters
// concurrently: one tenant's requests of one group of equivalent
// categories.
func (q ClusterQuery) LockKey() string {
	if len(q.ServiceCodes) == 0 {
		return q.Tenant
	}
	return q.Tenant + "/" + q.ServiceCodes[0]
}

// Matches reports whether r is a request the new one may join.
func (q ClusterQuery) Matches(r Request) bool {
	_, ok := q.score(r)
	return ok
}

// score is the distance of a matching candidate; a same-asset match scores
// -1 so it wins over any distance.
func (q ClusterQuery) score(r Request) (float64, bool) {
	if r.TenantID != q.Tenant || r.Status == Closed || !slices.Contains(q.ServiceCodes, r.ServiceCode) ||
		(!q.Since.IsZero() && r.RequestedAt.Before(q.Since)) {
		return 0, false
	}
	if q.AssetID != "" && r.AssetID == q.AssetID && r.AssetLayer == q.AssetLayer {
		return -1, true
	}
	if q.DistanceM <= 0 {
		return 0, false
	}
	d := geo.Distance(q.Point, r.Point)
	return d, d <= q.DistanceM
}

// Pick returns the ClusterID the new request joins, "" for a new cluster.
// Among the candidates that match, it prefers one naming the same asset,
// then the nearest; ties go to the earliest request, then the smallest ID,
// so every store picks the same one.
func (q ClusterQuery) Pick(candidates []Request) string {
	best, ok := q.Best(candidates)
	switch {
	case !ok:
		return ""
	case best.ClusterID != "":
		return best.ClusterID
	}
	return best.ServiceRequestID
}
