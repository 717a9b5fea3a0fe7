package requests

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pinward/pinward/i18n"
)

// Scope limits what a staff key sees to some departments and wards (OWASP
// API1: object-level authorisation). The zero Scope limits nothing: admin
// keys, unscoped staff keys and the server's own work. A request is in
// scope when its department is one of Departments (any, when empty) and
// its ward one of Wards (any, when empty). Whatever is out of scope is
// answered as if it did not exist (404, never 403), so IDs do not leak.
type Scope struct {
	Departments []string
	Wards       []string
}

// IsZero reports whether s limits nothing.
func (s Scope) IsZero() bool { return len(s.Departments) == 0 && len(s.Wards) == 0 }

// Allows reports whether a request of department in ward is in scope.
func (s Scope) Allows(department, ward string) bool {
	return (len(s.Departments) == 0 || slices.Contains(s.Departments, department)) &&
		(len(s.Wards) == 0 || slices.Contains(s.Wards, ward))
}

// Where is the SQL condition keeping the rows in scope, "" for the zero
// Scope: departmentExpr and wardExpr are the row's department and ward
// (column names or expressions), and arg binds a value and returns its
// placeholder ("$3", "?"). Both stores build their filters with it, so
// the rule is written once.
func (s Scope) Where(departmentExpr, wardExpr string, arg func(any) string) string {
	var conds []string
	in := func(expr string, vals []string) {
		ph := make([]string, len(vals))
		for i, v := range vals {
			ph[i] = arg(v)
		}
		conds = append(conds, expr+" IN ("+strings.Join(ph, ", ")+")")
	}
	if len(s.Departments) > 0 {
		in(departmentExpr, s.Departments)
	}
	if len(s.Wards) > 0 {
		in(wardExpr, s.Wards)
	}
	if len(conds) == 0 {
		return ""
	}
	return "(" + strings.Join(conds, " AND ") + ")"
}

// String is the scope for people and logs: "departments=roads,parks
// wards=3"; "" for the zero Scope.
func (s Scope) String() string {
	var parts []string
	if len(s.Departments) > 0 {
		parts = append(parts, "departments="+strings.Join(s.Departments, ","))
	}
	if len(s.Wards) > 0 {
		parts = append(parts, "wards="+strings.Join(s.Wards, ","))
	}
	return strings.Join(parts, " ")
}

type scopeCtxKey struct{}

// WithScope returns ctx carrying s: what the API's authentication puts in
// a scoped staff key's requests, and what every Service read and change
// of requests, clusters, reports and work orders then honours.
func WithScope(ctx context.Context, s Scope) context.Context {
	if s.IsZero() {
		return ctx
	}
	return context.WithValue(ctx, scopeCtxKey{}, s)
}

// ScopeFrom is the Scope of ctx; zero when none was set.
func ScopeFrom(ctx context.Context) Scope {
	s, _ := ctx.Value(scopeCtxKey{}).(Scope)
	return s
}

// inScope is the one check of a single request against the caller's
// scope: out of scope reads as not found.
func inScope(ctx context.Context, r Request) error {
	if !ScopeFrom(ctx).Allows(r.Department, r.WardID) {
		return RequestNotFoundError(clip(r.ServiceRequestID))
	}
	return nil
}

// clusterInScope is the one check of a cluster change against the
// caller's scope, on the cluster's anchor: a cluster out of scope is not
// found (field names the parameter, as ClusterNotFoundError does). The
// store reads nothing more for an unscoped caller.
func (s *Service) clusterInScope(ctx context.Context, field, id string) error {
	if ScopeFrom(ctx).IsZero() {
		return nil
	}
	c, _, err := s.cfg.Store.GetCluster(ctx, s.cfg.Tenant, id)
	switch {
	case i18n.KindOf(err) == i18n.NotFound:
		return ClusterNotFoundError(field, id)
	case err != nil:
		return err
	case !ScopeFrom(ctx).Allows(c.Department, c.WardID):
		return ClusterNotFoundError(field, id)
	}
	return nil
}

// requestInScope is the one check of an action on request id against the
// caller's scope (assign, note, photos, moderation): an ID that cannot
// exist, or a request out of scope, is not found. The store reads nothing
// more for an unscoped caller.
func (s *Service) requestInScope(ctx context.Context, id string) error {
	if _, ok := ParseServiceRequestID(id); !ok {
		return RequestNotFoundError(clip(id))
	}
	if ScopeFrom(ctx).IsZero() {
		return nil
	}
	_, err := s.Get(ctx, id)
	return err
}

// mediaInScope is the one check of an action on photo id against the
// caller's scope, on the photo's request: out of scope, the photo is not
// found.
func (s *Service) mediaInScope(ctx context.Context, id string) error {
	if ScopeFrom(ctx).IsZero() {
		return nil
	}
	m, err := s.cfg.Media.GetMedia(ctx, s.cfg.Tenant, id, true) // the thumbnail: the smaller read
	if err != nil {
		return err
	}
	switch err := s.requestInScope(ctx, m.ServiceRequestID); {
	case i18n.KindOf(err) == i18n.NotFound:
		return MediaNotFoundError()
	case err != nil:
		return err
	}
	return nil
}

// submitInScope is the one check of a new request against the caller's
// scope, once it is located and routed: a scoped key (a clerk's intake)
// may not enter a request that would go to another department or ward.
// It is Forbidden, not NotFound: nothing exists yet whose existence could
// leak, and the clerk must learn to pass the call on.
func submitInScope(ctx context.Context, r Request) error {
	sc := ScopeFrom(ctx)
	if sc.Allows(r.Department, r.WardID) {
		return nil
	}
	return i18n.Errorf(i18n.Forbidden, "service_code", i18n.T(
		"this request would go to department %q in ward %q, outside this key's scope (%s)",
		"cette demande irait au service %q dans le quartier %q, hors de la portée de cette clé (%s)"),
		r.Department, r.WardID, sc.String())
}

// ScopedQueue wraps the queue store the API serves, so that a scoped
// caller's queue holds only the requests of its departments and wards,
// within whatever department and ward the query asks for. The escalation
// sweep and the live views use the store unwrapped.
func ScopedQueue(q QueueStore) QueueStore { return scopedQueue{q} }

type scopedQueue struct{ QueueStore }

func (s scopedQueue) Queue(ctx context.Context, q QueueQuery) ([]QueueRow, error) {
	q.Scope = ScopeFrom(ctx)
	return s.QueueStore.Queue(ctx, q)
}

// ScopedWorkOrders wraps the work-order store the API serves, so that a
// scoped caller lists, reads, retries and moves only the work orders of
// its departments and wards (on the work order's department and its
// cluster's ward); any other is not found. The dispatcher and the
// connectors use the store unwrapped.
func ScopedWorkOrders(o OutboxStore) OutboxStore { return scopedOutbox{o} }

type scopedOutbox struct{ OutboxStore }

func (s scopedOutbox) ListWorkOrders(ctx context.Context, f WorkOrderFilter) ([]WorkOrder, error) {
	f.Scope = ScopeFrom(ctx)
	return s.OutboxStore.ListWorkOrders(ctx, f)
}

func (s scopedOutbox) GetWorkOrder(ctx context.Context, tenant string, id int64) (WorkOrder, error) {
	w, err := s.OutboxStore.GetWorkOrder(ctx, tenant, id)
	if err == nil && !ScopeFrom(ctx).Allows(w.Department, w.Payload.WardID) {
		return WorkOrder{}, WorkOrderNotFoundError(FormatServiceRequestID(id))
	}
	return w, err
}

func (s scopedOutbox) RetryWorkOrder(ctx context.Context, tenant string, id int64, at time.Time) (WorkOrder, error) {
	if !ScopeFrom(ctx).IsZero() {
		if _, err := s.GetWorkOrder(ctx, tenant, id); err != nil {
			return WorkOrder{}, err
		}
	}
	return s.OutboxStore.RetryWorkOrder(ctx, tenant, id, at)
}

func (s scopedOutbox) SetWorkOrderStatus(ctx context.Context, c WorkOrderStatusChange) (WorkOrder, int, error) {
	if !ScopeFrom(ctx).IsZero() {
		if _, err := s.GetWorkOrder(ctx, c.Tenant, c.WorkOrderID); err != nil {
			return WorkOrder{}, 0, err
		}
	}
	return s.OutboxStore.SetWorkOrderStatus(ctx, c)
}

// JoinScope is how stores keep a Scope: comma-separated codes ("" for
// all). Department and ward codes hold no comma (ParseScopeList).
func JoinScope(s Scope) (departments, wards string) {
	return strings.Join(s.Departments, ","), strings.Join(s.Wards, ",")
}

// SplitScope reads back what JoinScope wrote.
func SplitScope(departments, wards string) Scope {
	return Scope{Departments: ParseScopeList(departments), Wards: ParseScopeList(wards)}
}

// ParseScopeList reads a comma-separated list of codes ("roads,parks"),
// trimmed, without empties or repeats; nil for "".
func ParseScopeList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// NewScope reads a staff key's limits from comma-separated department
// codes and ward IDs ("" for all); Invalid for a code that cannot exist.
func NewScope(departments, wards string) (Scope, error) {
	s := SplitScope(departments, wards)
	for _, d := range s.Departments {
		if !codeRE.MatchString(d) {
			return Scope{}, invalid("departments", msgBadCode, clip(d))
		}
	}
	for _, w := range s.Wards {
		if len(w) > 64 || !utf8.ValidString(w) || strings.ContainsRune(w, 0) {
			return Scope{}, invalid("wards", i18n.T("%q is not a ward ID", "%q n'est pas un identifiant de quartier"), clip(w))
		}
	}
	return s, nil
}
