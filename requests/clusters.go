package requests

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/i18n"
)

// A cluster is the set of requests sharing a ClusterID: one issue, however
// many residents reported it. It has no table of its own: its anchor is
// the request whose ServiceRequestID is the ClusterID (the first report,
// or the first one split out), which gives it its category, ward and
// place. Staff operations keep that invariant: a merge moves every request
// of one cluster into another, a split moves requests other than the
// anchor into a new cluster named by the smallest of their IDs, and a
// close closes every request.

// Cluster is a cluster as staff see it: its anchor and counts.
type Cluster struct {
	ID          string // the anchor's ServiceRequestID
	TenantID    string
	ServiceCode string // the anchor's category
	WardID      string // the anchor's ward
	Department  string // the anchor's department
	Point       orb.Point
	AssetLayer  string
	AssetID     string
	// Status is Closed when every request of the cluster is closed, else
	// ClusterOpen.
	Status Status
	// Requests counts the cluster's requests, OpenRequests those not
	// closed; Reporters the distinct residents who left contact details
	// (by email, else phone, else device; anonymous reports count none):
	// the people told when it changes.
	Requests, OpenRequests, Reporters int
	CreatedAt                         time.Time // the earliest RequestedAt
	UpdatedAt                         time.Time // the latest UpdatedAt
	WorkOrderID                       int64     // 0: none
}

// ClusterFilter selects clusters by their anchor. Empty fields do not
// filter.
type ClusterFilter struct {
	Tenant      string
	BBox        *orb.Bound // the anchor's point, edges included
	ServiceCode string
	WardID      string
	Status      Status // ClusterOpen, Closed or ""
	Scope       Scope  // the caller's (Service sets it): on the anchor's department and ward
	// Limit (MaxListLimit when zero or more) and Offset page the clusters,
	// newest first (anchor RequestedAt, then ID, descending).
	Limit, Offset int
}

// ClusterMerge moves every request of cluster From into cluster Into.
type ClusterMerge struct {
	Tenant     string
	From, Into string
	Note       string
	Actor      string
	At         time.Time
	Locks      []string // see ClusterLockKeys
}

// ClusterSplit moves Requests (ServiceRequestIDs of ClusterID's requests,
// not its anchor) into a new cluster.
type ClusterSplit struct {
	Tenant    string
	ClusterID string
	Requests  []string // sorted, distinct
	Actor     string
	At        time.Time
	Locks     []string
}

// ClusterResult is what a staff operation changed.
type ClusterResult struct {
	Cluster Cluster // the cluster merged into, split from, or closed
	New     Cluster // a split's new cluster (zero otherwise)
	// Changed are the requests moved or closed, as stored now (oldest
	// first).
	Changed []Request
	// WorkOrderUpdated reports an update message written for the
	// cluster's work order (none when it has no work order).
	WorkOrderUpdated bool
}

// ClusterStore is the part of Store that keeps clusters. Every change
// runs in one transaction with an event per request it touches (Actor, At)
// and, when a cluster has a work order, an update of that work order and
// an OutboxUpdate message (never a second work order). A change first
// takes Locks (exclusive advisory locks in PostgreSQL, in order; SQLite's
// write transaction already serialises), so it never interleaves with a
// CreateRequest picking one of the clusters it changes.
type ClusterStore interface {
	// ListClusters returns the clusters f selects, newest first.
	ListClusters(ctx context.Context, f ClusterFilter) ([]Cluster, error)
	// GetCluster returns a cluster and its requests, oldest first
	// (RequestedAt, then ID); ClusterNotFoundError when tenant has no
	// cluster by that ID.
	GetCluster(ctx context.Context, tenant, clusterID string) (Cluster, []Request, error)
	// MergeClusters moves every request of m.From into m.Into, each with
	// an EventMerged event. NotFound for an unknown cluster (field "into"
	// for Into), ClusterClosedError when either is closed. Work orders:
	// Into's gets an update; when only From has one it moves to Into (and
	// gets the update); when both have one, From's is closed and gets an
	// update too.
	MergeClusters(ctx context.Context, m ClusterMerge) (ClusterResult, error)
	// SplitCluster moves s.Requests into a new cluster named by the
	// smallest of them, each with an EventSplit event. NotFound for an
	// unknown cluster, ClusterClosedError when it is closed, Invalid
	// (field "requests") for a request not in it or its anchor. When the
	// cluster has a work order it gets an update and the new cluster gets
	// a work order of its own (with its create message).
	SplitCluster(ctx context.Context, s ClusterSplit) (ClusterResult, error)
}

// EventSplit records a request moved out of its cluster into a new one.
const EventSplit EventKind = "split"

// CloseReason says why a request was closed, for reports; the public note
// says it to residents.
type CloseReason string

// The reasons a request is closed.
const (
	ReasonFixed          CloseReason = "fixed"            // the problem is fixed
	ReasonDuplicate      CloseReason = "duplicate"        // another request covers it
	ReasonReferred       CloseReason = "referred"         // not the municipality's: sent to whoever owns it (named)
	ReasonNotFound       CloseReason = "not_found"        // the crew found nothing there
	ReasonNoActionNeeded CloseReason = "no_action_needed" // nothing to do
	ReasonNoResponse     CloseReason = "no_response"      // the resident did not answer (auto-close)
)

// CloseReasons lists the reasons, in the order forms show them.
func CloseReasons() []CloseReason {
	return []CloseReason{ReasonFixed, ReasonDuplicate, ReasonReferred, ReasonNotFound, ReasonNoActionNeeded, ReasonNoResponse}
}

// ParseCloseReason returns the reason s names; the names of the first
// cluster-close API ("resolved", "no_action") are still understood.
func ParseCloseReason(s string) (CloseReason, bool) {
	switch s {
	case "resolved":
		return ReasonFixed, true
	case "no_action":
		return ReasonNoActionNeeded, true
	}
	r := CloseReason(s)
	return r, slices.Contains(CloseReasons(), r)
}

// Label returns the reason for people, in both languages.
func (r CloseReason) Label() i18n.Text {
	switch r {
	case ReasonFixed:
		return i18n.T("Fixed", "Réglé")
	case ReasonDuplicate:
		return i18n.T("Duplicate", "En double")
	case ReasonReferred:
		return i18n.T("Referred", "Transmis")
	case ReasonNotFound:
		return i18n.T("Not found", "Introuvable")
	case ReasonNoActionNeeded:
		return i18n.T("No action needed", "Aucune intervention requise")
	case ReasonNoResponse:
		return i18n.T("No response", "Sans réponse")
	}
	return i18n.T(string(r), string(r))
}

// CloseEventNote is the note of the events a close writes: the reason in
// brackets, then the note residents see.
func CloseEventNote(reason CloseReason, note string) string {
	return "[" + string(reason) + "] " + note
}

// MergeEventNote and SplitEventNote are the notes of the events a merge
// and a split write.
func MergeEventNote(from, into string) string {
	return "cluster " + from + " merged into cluster " + into
}

// SplitEventNote is the note of the events a split writes.
func SplitEventNote(from, into string) string {
	return "split from cluster " + from + " into cluster " + into
}

// ClusterNotFoundError is the error for an unknown cluster.
func ClusterNotFoundError(field, id string) *i18n.Error {
	return i18n.Errorf(i18n.NotFound, field, i18n.T("there is no cluster %q", "il n'existe aucun regroupement %q"), clip(id))
}

// ClusterClosedError is the error for a change to a closed cluster.
func ClusterClosedError(field, id string) *i18n.Error {
	return i18n.Errorf(i18n.Conflict, field, i18n.T("cluster %s is closed; reopen its requests first",
		"le regroupement %s est fermé; rouvrez d'abord ses demandes"), clip(id))
}

// NotInClusterError is the error for a split naming a request that is not
// in the cluster.
func NotInClusterError(requestID, clusterID string) *i18n.Error {
	return i18n.Errorf(i18n.Invalid, "requests", i18n.T("request %s is not in cluster %s",
		"la demande %s ne fait pas partie du regroupement %s"), clip(requestID), clip(clusterID))
}

// AnchorSplitError is the error for a split naming the cluster's anchor,
// which names the cluster and so stays.
func AnchorSplitError(clusterID string) *i18n.Error {
	return i18n.Errorf(i18n.Invalid, "requests", i18n.T(
		"request %s is the first of cluster %s and names it, so it stays; split the others out instead",
		"la demande %s est la première du regroupement %s et lui donne son nom, elle y reste; séparez plutôt les autres"),
		clip(clusterID), clip(clusterID))
}

// ClusterLockKeys are the locks a staff change takes: every cluster-lock
// group of the tenant's catalog (ClusterQuery.LockKey), which excludes
// every concurrent CreateRequest that could pick a cluster (they hold
// their group's lock shared), and the tenant's own key, which serialises
// staff changes even in a catalog without duplicate rules. Sorted, so two
// changes take them in one order. Staff act at human pace: pausing intake
// for the milliseconds of a merge costs nothing, and a change can never
// miss a request that joined a cluster while it ran.
func (s *Service) ClusterLockKeys() []string {
	keys := []string{s.cfg.Tenant + "#clusters"}
	for _, c := range s.cfg.Catalog.Categories() {
		keys = append(keys, ClusterQuery{Tenant: s.cfg.Tenant, ServiceCodes: s.cfg.Catalog.Equivalents(c.Code)}.LockKey())
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// ListClusters returns the clusters f selects, newest first; the tenant is
// the Service's.
func (s *Service) ListClusters(ctx context.Context, f ClusterFilter) ([]Cluster, error) {
	f.Tenant, f.Scope = s.cfg.Tenant, ScopeFrom(ctx)
	if f.ServiceCode != "" {
		if _, ok := s.cfg.Catalog.Category(f.ServiceCode); !ok {
			return nil, invalid("category", i18n.T("there is no service %q", "il n'existe aucun service %q"), clip(f.ServiceCode))
		}
	}
	if f.Status != "" && f.Status != ClusterOpen && f.Status != Closed {
		return nil, invalid("status", i18n.T("%q is not a cluster status (open, closed)",
			"%q n'est pas un état de regroupement (open, closed)"), clip(string(f.Status)))
	}
	if err := checkText("ward", f.WardID, MaxKeyLen, false); err != nil {
		return nil, err
	}
	if f.Offset < 0 {
		return nil, invalid("page", i18n.T("must not be negative", "ne doit pas être négatif"))
	}
	if f.Limit <= 0 || f.Limit > MaxListLimit {
		f.Limit = MaxListLimit
	}
	return s.cfg.Store.ListClusters(ctx, f)
}

// Cluster returns a cluster and its requests, oldest first.
func (s *Service) Cluster(ctx context.Context, id string) (Cluster, []Request, error) {
	if _, ok := ParseServiceRequestID(id); !ok {
		return Cluster{}, nil, ClusterNotFoundError("cluster_id", id)
	}
	c, rs, err := s.cfg.Store.GetCluster(ctx, s.cfg.Tenant, id)
	if err == nil && !ScopeFrom(ctx).Allows(c.Department, c.WardID) {
		return Cluster{}, nil, ClusterNotFoundError("cluster_id", id)
	}
	return c, rs, err
}

// MergeClusters moves every request of cluster from into cluster into, on
// behalf of actor.
func (s *Service) MergeClusters(ctx context.Context, from, into, note, actor string) (ClusterResult, error) {
	note = strings.TrimSpace(note)
	switch {
	case actor == "":
		return ClusterResult{}, invalid("actor", msgRequired)
	case into == "":
		return ClusterResult{}, invalid("into", msgRequired)
	}
	if _, ok := ParseServiceRequestID(from); !ok {
		return ClusterResult{}, ClusterNotFoundError("cluster_id", from)
	}
	if _, ok := ParseServiceRequestID(into); !ok {
		return ClusterResult{}, ClusterNotFoundError("into", into)
	}
	if err := s.clusterInScope(ctx, "cluster_id", from); err != nil {
		return ClusterResult{}, err
	}
	if err := s.clusterInScope(ctx, "into", into); err != nil {
		return ClusterResult{}, err
	}
	if from == into {
		return ClusterResult{}, invalid("into", i18n.T("a cluster cannot be merged into itself", "un regroupement ne peut pas être fusionné avec lui-même"))
	}
	if err := checkText("note", note, MaxTextLen, true); err != nil {
		return ClusterResult{}, err
	}
	return s.cfg.Store.MergeClusters(ctx, ClusterMerge{
		Tenant: s.cfg.Tenant, From: from, Into: into, Note: note, Actor: actor, At: s.now(), Locks: s.ClusterLockKeys(),
	})
}

// SplitCluster moves the requests ids of cluster id into a new cluster.
func (s *Service) SplitCluster(ctx context.Context, id string, ids []string, actor string) (ClusterResult, error) {
	if actor == "" {
		return ClusterResult{}, invalid("actor", msgRequired)
	}
	if _, ok := ParseServiceRequestID(id); !ok {
		return ClusterResult{}, ClusterNotFoundError("cluster_id", id)
	}
	// Out of scope is not found, before anything about the body is said.
	if err := s.clusterInScope(ctx, "cluster_id", id); err != nil {
		return ClusterResult{}, err
	}
	if len(ids) == 0 {
		return ClusterResult{}, invalid("requests", i18n.T("name at least one request to split out", "nommez au moins une demande à séparer"))
	}
	if len(ids) > MaxListLimit {
		return ClusterResult{}, invalid("requests", i18n.T("at most %d requests per split", "au plus %d demandes par séparation"), MaxListLimit)
	}
	nums := make([]int64, 0, len(ids))
	for _, r := range ids {
		n, ok := ParseServiceRequestID(r)
		if !ok {
			return ClusterResult{}, NotInClusterError(r, id)
		}
		nums = append(nums, n)
	}
	slices.Sort(nums)
	nums = slices.Compact(nums)
	sorted := make([]string, len(nums))
	for i, n := range nums {
		sorted[i] = FormatServiceRequestID(n)
	}
	if slices.Contains(sorted, id) {
		return ClusterResult{}, AnchorSplitError(id)
	}
	return s.cfg.Store.SplitCluster(ctx, ClusterSplit{
		Tenant: s.cfg.Tenant, ClusterID: id, Requests: sorted, Actor: actor, At: s.now(), Locks: s.ClusterLockKeys(),
	})
}

// CloseCluster closes cluster id and its open requests with note
// (required: residents see it, kept as written) and reason (ReasonFixed
// when empty): the first staff API, now a TransitionCluster to closed.
func (s *Service) CloseCluster(ctx context.Context, id, note string, reason CloseReason, referredTo, actor string) (ClusterResult, error) {
	note = strings.TrimSpace(note)
	if reason == "" {
		reason = ReasonFixed
	}
	if note == "" && actor != "" {
		return ClusterResult{}, invalid("note", i18n.T("a cluster is closed with a note for the residents who reported it",
			"un regroupement est fermé avec une note pour les résidents qui l'ont signalé"))
	}
	return s.TransitionCluster(ctx, id, TransitionInput{To: Closed, Reason: string(reason), ReferredTo: referredTo,
		PublicNoteEn: note, Actor: actor})
}

// SplitRequestIDs checks what a split of src names and returns the row IDs
// of the requests to move, in order: the cluster must be open, and the
// list non-empty, of request IDs, without the anchor. Whether each request
// is in src is the store's to check.
func SplitRequestIDs(src Cluster, requestIDs []string) ([]int64, error) {
	if src.Status == Closed {
		return nil, ClusterClosedError("cluster_id", src.ID)
	}
	if len(requestIDs) == 0 {
		return nil, NotInClusterError("", src.ID)
	}
	ids := make([]int64, 0, len(requestIDs))
	for _, r := range requestIDs {
		id, ok := ParseServiceRequestID(r)
		switch {
		case !ok:
			return nil, NotInClusterError(r, src.ID)
		case r == src.ID:
			return nil, AnchorSplitError(src.ID)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// MergeNote checks a merge of from into into, both read in the merging
// transaction, and returns the note of the events it writes: neither may be
// closed, and the staff note follows the standard one.
func MergeNote(from, into Cluster, staffNote string) (string, error) {
	if from.Status == Closed {
		return "", ClusterClosedError("cluster_id", from.ID)
	}
	if into.Status == Closed {
		return "", ClusterClosedError("into", into.ID)
	}
	note := MergeEventNote(from.ID, into.ID)
	if staffNote != "" {
		note += ": " + staffNote
	}
	return note, nil
}
