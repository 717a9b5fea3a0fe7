package storetest

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/pinward/pinward/requests"
)

// testIncidents: the register keeps every field of an incident, lists a
// tenant's own, latest discovered first, and the retention purge of
// reporters leaves it whole.
func testIncidents(t *testing.T, s Stores) {
	ctx := context.Background()
	mk := func(tenant string, discovered time.Time, people *int, to time.Time) requests.Incident {
		in := requests.IncidentIn{
			OccurredFrom: t0.Add(-48 * time.Hour).Format(time.RFC3339Nano), DiscoveredAt: discovered.Format(time.RFC3339Nano),
			Description: "Un courriel de suivi envoyé au mauvais résident", Information: "name, e-mail",
			PeopleCount: people, RiskAssessment: "low: one address, no sensitive data", RiskFactors: "sensitivity; misuse",
			Measures: "recalled the message; template fixed",
		}
		if !to.IsZero() {
			in.OccurredTo = to.Format(time.RFC3339Nano)
			in.SeriousRisk = true
			in.RegulatorNotifiedAt = discovered.Add(24 * time.Hour).Format(time.RFC3339Nano)
			in.PeopleNotifiedAt = discovered.Add(48 * time.Hour).Format(time.RFC3339Nano)
		}
		inc, err := requests.NewIncident(in, tenant, "key:1", t0.Add(1000*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.CreateIncident(ctx, inc)
		if err != nil || got.ID == 0 {
			t.Fatalf("CreateIncident: %+v, %v", got, err)
		}
		return got
	}
	three := 3
	first := mk(tenantA, t0, &three, time.Time{})
	second := mk(tenantA, t0.Add(time.Hour), nil, t0.Add(-24*time.Hour))
	theirs := mk(tenantB, t0.Add(2*time.Hour), &three, time.Time{})

	list := func(tenant string) []requests.Incident {
		t.Helper()
		got, err := s.ListIncidents(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := list(tenantA); !reflect.DeepEqual(got, []requests.Incident{second, first}) {
		t.Errorf("ListIncidents(A) =\n%+v\nwant (latest discovered first)\n%+v", got, []requests.Incident{second, first})
	}
	if got := list(tenantB); len(got) != 1 || got[0].ID != theirs.ID {
		t.Errorf("ListIncidents(B) = %+v, want only B's", got)
	}
	if first.PeopleCount != 3 || second.PeopleCount != -1 || second.OccurredTo.IsZero() || !first.OccurredTo.IsZero() ||
		second.RegulatorNotifiedAt.IsZero() || !first.PeopleNotifiedAt.IsZero() || !second.SeriousRisk {
		t.Errorf("fields not kept: %+v / %+v", first, second)
	}

	// The retention purge, however late and however wide, keeps them.
	if _, err := s.PurgeReporters(ctx, requests.ReporterPurge{Tenant: tenantA, ClosedBefore: t0.Add(100 * 365 * 24 * time.Hour),
		At: t0.Add(100 * 365 * 24 * time.Hour), Actor: "retention", Limit: 1000}); err != nil {
		t.Fatal(err)
	}
	if got := list(tenantA); len(got) != 2 {
		t.Errorf("after the purge the register holds %d incidents, want 2", len(got))
	}
}

// testKeyScope: a staff key's departments and wards round-trip, and every
// list a scoped key reads (requests, clusters, reports, work orders) keeps
// only what its scope allows.
func testKeyScope(t *testing.T, s Stores) {
	ctx := context.Background()
	_, hash := requests.NewAPIKey()
	scope := requests.Scope{Departments: []string{"parks", "water"}, Wards: []string{"3"}}
	k, err := s.CreateAPIKey(ctx, requests.Key{TenantID: tenantA, Role: requests.RoleStaff, Label: "parks desk", Hash: hash,
		CreatedAt: t0.UTC().Truncate(time.Microsecond), Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.LookupAPIKey(ctx, hash)
	if err != nil || !reflect.DeepEqual(got, k) || !reflect.DeepEqual(got.Scope, scope) {
		t.Errorf("LookupAPIKey = %+v, %v; want %+v", got, err, k)
	}

	mk := func(dept, ward string, m float64) requests.Request {
		r := newReq(tenantA, east(m), t0)
		r.Department, r.WardID = dept, ward
		nr := newRequest(r)
		nr.WorkOrder = true
		return create(t, s, nr)
	}
	mk("parks", "3", 0)
	mk("parks", "4", 1000) // another ward
	mk("roads", "3", 2000) // another department
	mk("water", "3", 3000) // in
	mk("water", "3", 4000)

	reqs, err := s.ListRequests(ctx, requests.Filter{Tenant: tenantA, Scope: scope, ByID: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 3 {
		t.Errorf("ListRequests in scope: %d requests, want 3", len(reqs))
	}
	for _, r := range reqs {
		if !scope.Allows(r.Department, r.WardID) {
			t.Errorf("ListRequests in scope returned %s (%s, ward %s)", r.ServiceRequestID, r.Department, r.WardID)
		}
	}
	all, err := s.ListRequests(ctx, requests.Filter{Tenant: tenantA, ByID: true})
	if err != nil || len(all) != 5 {
		t.Errorf("ListRequests unscoped: %d, %v; want 5", len(all), err)
	}

	cs, err := s.ListClusters(ctx, requests.ClusterFilter{Tenant: tenantA, Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 {
		t.Errorf("ListClusters in scope: %d, want 3", len(cs))
	}
	for _, c := range cs {
		if !scope.Allows(c.Department, c.WardID) {
			t.Errorf("ListClusters in scope returned %s (%s, ward %s)", c.ID, c.Department, c.WardID)
		}
	}

	rows, total, err := s.ReportRows(ctx, tenantA, requests.ReportQuery{By: requests.ByDepartment, AsOf: t0.Add(time.Hour), Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for _, r := range rows {
		keys = append(keys, r.Key)
	}
	slices.Sort(keys)
	if total.Received != 3 || !slices.Equal(keys, []string{"parks", "water"}) {
		t.Errorf("report in scope: total %d, rows %v; want 3 in parks and water", total.Received, keys)
	}

	wos, err := s.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenantA, Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	if len(wos) != 3 {
		t.Errorf("ListWorkOrders in scope: %d, want 3", len(wos))
	}
	for _, w := range wos {
		if !scope.Allows(w.Department, w.Payload.WardID) {
			t.Errorf("ListWorkOrders in scope returned %d (%s, ward %s)", w.ID, w.Department, w.Payload.WardID)
		}
	}
}
