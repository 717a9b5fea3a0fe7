package storetest

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/requests"
)

// testRecut: a report re-cut by another generation of wards
// (ReportQuery.Recut) counts each listed request in its re-cut ward and
// every other one in its stored ward, with every figure as the plain
// report computes it; a pair naming another tenant's request changes
// nothing of this tenant's report.
func testRecut(t *testing.T, s Stores) {
	ctx := context.Background()
	start := time.Date(2025, 1, 1, 5, 0, 0, 0, time.UTC)
	asOf := start.AddDate(0, 3, 0)
	rng := rand.New(rand.NewPCG(7, 11))
	var stored []requests.Request
	for i := range 120 {
		tenant := tenantA
		if i%4 == 0 {
			tenant = tenantB
		}
		at := start.Add(time.Duration(rng.Int64N(int64(60 * 24 * time.Hour))))
		r := newReq(tenant, origin, at)
		r.WardID = []string{"1", "2", "3", ""}[rng.IntN(4)]
		if rng.IntN(3) > 0 {
			r.DueAt = at.Add(time.Duration(rng.Int64N(int64(96 * time.Hour))))
		}
		if rng.IntN(2) == 0 {
			r.Status, r.UpdatedAt = requests.Closed, at.Add(time.Duration(rng.Int64N(int64(150*time.Hour))))
		}
		stored = append(stored, create(t, s, newRequest(r)))
	}
	// The re-cut moves about half the requests, of both tenants, to wards
	// "1", "2", "A" and "B" (new IDs as well as reused ones).
	rc := &requests.Recut{}
	recut := slices.Clone(stored)
	for i := range recut {
		if rng.IntN(2) == 0 {
			w := []string{"1", "2", "A", "B"}[rng.IntN(4)]
			rc.IDs, rc.Wards = append(rc.IDs, recut[i].ID), append(rc.Wards, w)
			recut[i].WardID = w
		}
	}
	for _, period := range [][2]time.Time{{}, {start.AddDate(0, 0, 10), start.AddDate(0, 0, 40)}} {
		for _, tenant := range []string{tenantA, tenantB} {
			q := requests.ReportQuery{By: requests.ByWard, Start: period[0], End: period[1], AsOf: asOf, Recut: rc}
			rows, total, err := s.ReportRows(ctx, tenant, q)
			if err != nil {
				t.Fatalf("ReportRows(re-cut): %v", err)
			}
			wantRows, wantTotal := reportOracle{stored: recut}.report(tenant, q)
			slices.SortFunc(rows, func(a, b requests.ReportRow) int { return strings.Compare(a.Key, b.Key) })
			if len(rows) != len(wantRows) {
				t.Fatalf("ReportRows(re-cut, %s, %v): %d rows, want %d:\n%+v\n%+v", tenant, period, len(rows), len(wantRows), rows, wantRows)
			}
			for i := range rows {
				if !sameRow(rows[i], wantRows[i]) {
					t.Errorf("ReportRows(re-cut, %s, %v) row %q:\n got %+v\nwant %+v", tenant, period, rows[i].Key, rows[i], wantRows[i])
				}
			}
			if !sameRow(total, wantTotal) {
				t.Errorf("ReportRows(re-cut, %s, %v) total:\n got %+v\nwant %+v", tenant, period, total, wantTotal)
			}
		}
	}
	// An empty re-cut is the plain report.
	q := requests.ReportQuery{By: requests.ByWard, AsOf: asOf, Recut: &requests.Recut{}}
	rows, _, err := s.ReportRows(ctx, tenantA, q)
	wantRows, _ := reportOracle{stored: stored}.report(tenantA, q)
	slices.SortFunc(rows, func(a, b requests.ReportRow) int { return strings.Compare(a.Key, b.Key) })
	if err != nil || len(rows) != len(wantRows) {
		t.Fatalf("ReportRows(empty re-cut) = %d rows, %v; want %d", len(rows), err, len(wantRows))
	}
}
