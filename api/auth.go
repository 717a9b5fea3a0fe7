package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// Who may call what. Routes are mounted in groups, one per set of roles
// below, and the group's middleware (require) authenticates the key once;
// handlers read it with keyOf and never check roles themselves. The table
// "Who may call what" in README.md is the contract: TestRoutesByRole walks
// every mounted route with every role and holds both to it.
var (
	// submitters may submit Open311 requests: every role, including the
	// reporter key the resident page publishes.
	submitters = []requests.Role{requests.RoleReporter, requests.RoleIntegrator, requests.RoleStaff, requests.RoleAdmin}
	// integrators push assets and read the asset change feed.
	integrators = []requests.Role{requests.RoleIntegrator, requests.RoleAdmin}
	// statusReporters report a work order's progress: the receiving
	// system's integrator key, or staff; never the public reporter key.
	statusReporters = []requests.Role{requests.RoleIntegrator, requests.RoleStaff, requests.RoleAdmin}
	// staffers manage clusters and work orders and read reporters' details.
	staffers = []requests.Role{requests.RoleStaff, requests.RoleAdmin}
)

type keyCtxKey struct{}

// keyOf is the key require authenticated for this request (with its
// Scope, which require also puts in the context for requests.Service); the
// zero Key on a public route.
func keyOf(r *http.Request) requests.Key {
	k, _ := r.Context().Value(keyCtxKey{}).(requests.Key)
	return k
}

// actor is who a change is recorded as: the request's key.
func actor(r *http.Request) string { return "key:" + strconv.FormatInt(keyOf(r).ID, 10) }

// require is the middleware of a route group: the request's key (X-Api-Key
// header, api_key query parameter, or an Open311 body's api_key read by
// readPost) must be one of this municipality's, of one of roles. Missing
// is 401, unknown or of another role 403, each with the bilingual body.
func (h *handler) require(roles ...requests.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k, err := h.authenticate(r)
			if err == nil && !slices.Contains(roles, k.Role) {
				err = errRole(k.Role, roles)
			}
			if err != nil {
				h.writeError(w, r, err)
				return
			}
			ctx := context.WithValue(r.Context(), keyCtxKey{}, k)
			if k.Role == requests.RoleStaff {
				// The Service and the stores keep a scoped staff key to
				// its departments and wards; admin keys see everything.
				ctx = requests.WithScope(ctx, k.Scope)
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// authenticate finds and checks the request's key: missing is 401,
// unknown or another municipality's is 403. The header keeps keys out of
// URLs and access logs; the query parameter and Open311's body field are
// accepted as the spec has them.
func (h *handler) authenticate(r *http.Request) (requests.Key, error) {
	apiKey := r.Header.Get("X-Api-Key")
	if apiKey == "" {
		apiKey = r.URL.Query().Get("api_key")
	}
	if apiKey == "" {
		if sub, ok := r.Context().Value(submissionCtxKey{}).(*submission); ok {
			apiKey = sub.apiKey
		}
	}
	if apiKey == "" {
		return requests.Key{}, errAPIKeyMissing(r)
	}
	k, err := h.keys.LookupAPIKey(r.Context(), requests.HashAPIKey(apiKey))
	switch {
	case i18n.KindOf(err) == i18n.NotFound:
		return k, errAPIKeyInvalid()
	case err != nil:
		return k, err
	case k.TenantID != h.svc.Tenant() || !k.Role.Valid():
		return k, errAPIKeyInvalid()
	case !k.Usable(h.now()):
		return k, errAPIKeyRevoked()
	}
	return k, nil
}

// errRole refuses a valid key whose role may not call the route.
func errRole(has requests.Role, need []requests.Role) error {
	names := make([]string, len(need))
	for i, ro := range need {
		names[i] = string(ro)
	}
	return &i18n.Error{Kind: i18n.Forbidden, Field: "api_key", Message: i18n.Text{
		En: fmt.Sprintf("a key of role %s may not do this; it needs a key of role %s", has, strings.Join(names, " or ")),
		Fr: fmt.Sprintf("une clé de rôle %s ne peut pas faire ceci; il faut une clé de rôle %s", has, strings.Join(names, " ou ")),
	}}
}
