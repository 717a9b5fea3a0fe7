package storetest

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/requests"
)

// testReport: ReportRows aggregates exactly what the report defines,
// checked against reportOracle (the figures computed request by request in
// Go, as pinward did before the stores aggregated) for every grouping and
// against figures worked out by hand for one small group.
func testReport(t *testing.T, s Stores) {
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 5, 0, 0, 0, time.UTC)
	end := time.Date(2026, 3, 31, 4, 59, 59, 999999000, time.UTC)
	asOf := time.Date(2026, 4, 2, 12, 0, 0, 500, zone) // open requests due before this are overdue

	// Hand-worked group: ward "H", three requests received at start, one
	// at end exactly (both bounds included), one a microsecond outside
	// each bound (not counted).
	hand := func(at time.Time, status requests.Status, due time.Duration, closeAfter time.Duration) requests.Request {
		r := newReq(tenantA, origin, at)
		r.WardID, r.ServiceCode, r.Department, r.Status = "H", "graffiti", "bylaw", status
		if due > 0 {
			r.DueAt = at.Add(due)
		}
		if status == requests.Closed {
			r.UpdatedAt = at.Add(closeAfter)
		}
		return r
	}
	var stored []requests.Request
	for _, r := range []requests.Request{
		hand(start, requests.Closed, 24*time.Hour, 6*time.Hour),           // on time, 6 h
		hand(start, requests.Closed, 24*time.Hour, 30*time.Hour),          // late, 30 h
		hand(start, requests.New, 24*time.Hour, 0),                        // overdue
		hand(end, requests.Acknowledged, 0, 0),                            // open, no SLA
		hand(start.Add(-time.Microsecond), requests.Closed, 0, time.Hour), // before the period
		hand(end.Add(time.Microsecond), requests.New, 0, 0),               // after it
	} {
		stored = append(stored, create(t, s, newRequest(r)))
	}

	// Random requests of two tenants around the period, with an SLA or
	// not, open, in progress or closed (some through UpdateStatus), due
	// before or after asOf, with times at nanoseconds.
	rng := rand.New(rand.NewPCG(12, 34))
	wards := []string{"1", "2", "10", ""}
	cats := [][2]string{{"pothole", "public_works"}, {"streetlight_out", "contractor"}, {"graffiti", ""}}
	for i := range 240 {
		tenant := tenantA
		if i%5 == 0 {
			tenant = tenantB
		}
		at := start.Add(-10*24*time.Hour + time.Duration(rng.Int64N(int64(110*24*time.Hour))))
		r := newReq(tenant, origin, at)
		c := cats[rng.IntN(len(cats))]
		r.WardID, r.ServiceCode, r.Department = wards[rng.IntN(len(wards))], c[0], c[1]
		if rng.IntN(10) < 8 {
			r.DueAt = at.Add(time.Duration(rng.Int64N(int64(120 * time.Hour))))
		}
		closeAt := at.Add(time.Duration(rng.Int64N(int64(200 * time.Hour))))
		switch rng.IntN(4) {
		case 0:
			r.Status, r.UpdatedAt = requests.Closed, closeAt
		case 1:
			r.Status = requests.InProgress
		}
		got := create(t, s, newRequest(r))
		if rng.IntN(4) == 0 && got.Status != requests.Closed {
			var err error
			got, err = s.UpdateStatus(ctx, requests.StatusChange{Tenant: tenant, ServiceRequestID: got.ServiceRequestID,
				To: requests.Closed, Note: "fixed", Actor: "crew", At: closeAt})
			if err != nil {
				t.Fatalf("UpdateStatus: %v", err)
			}
		}
		stored = append(stored, got)
	}

	q := requests.ReportQuery{By: requests.ByWard, Start: start, End: end, AsOf: asOf}
	rows, total, err := s.ReportRows(ctx, tenantA, q)
	if err != nil {
		t.Fatalf("ReportRows: %v", err)
	}
	i := slices.IndexFunc(rows, func(r requests.ReportRow) bool { return r.Key == "H" })
	if i < 0 {
		t.Fatalf("ReportRows by ward: no row for ward H in %+v", rows)
	}
	h := rows[i]
	want := requests.ReportRow{Key: "H", Received: 4, Open: 2, Closed: 2, ClosedOnTime: 1, ClosedLate: 1, OpenOverdue: 1, NoSLA: 1,
		MedianHoursToClose: 18, P90HoursToClose: 27.6} // 6 + (30-6)×0.9
	if !sameRow(h, want) {
		t.Errorf("ReportRows ward H = %+v, want %+v", h, want)
	}
	if total.Received <= 4 || total.Key != "" {
		t.Errorf("ReportRows total = %+v", total)
	}

	for _, by := range []requests.ReportBy{requests.ByWard, requests.ByDepartment, requests.ByCategory} {
		for _, tenant := range []string{tenantA, tenantB} {
			for _, period := range [][2]time.Time{{start, end}, {}, {start, {}}, {{}, end}} {
				q := requests.ReportQuery{By: by, Start: period[0], End: period[1], AsOf: asOf}
				rows, total, err := s.ReportRows(ctx, tenant, q)
				if err != nil {
					t.Fatalf("ReportRows(%s, %+v): %v", tenant, q, err)
				}
				wantRows, wantTotal := reportOracle(stored, tenant, q)
				slices.SortFunc(rows, func(a, b requests.ReportRow) int { return strings.Compare(a.Key, b.Key) })
				if len(rows) != len(wantRows) {
					t.Errorf("ReportRows(%s, %+v): %d rows, want %d:\n%+v\n%+v", tenant, q, len(rows), len(wantRows), rows, wantRows)
					continue
				}
				for i := range rows {
					if !sameRow(rows[i], wantRows[i]) {
						t.Errorf("ReportRows(%s, %+v) row %q:\n got %+v\nwant %+v", tenant, q, rows[i].Key, rows[i], wantRows[i])
					}
				}
				if !sameRow(total, wantTotal) {
					t.Errorf("ReportRows(%s, %+v) total:\n got %+v\nwant %+v", tenant, q, total, wantTotal)
				}
			}
		}
	}

	// A period with no request: no group, a total of zeros, no quantile.
	empty := requests.ReportQuery{By: requests.ByCategory, Start: end.AddDate(1, 0, 0), AsOf: asOf}
	rows, total, err = s.ReportRows(ctx, tenantA, empty)
	if err != nil || len(rows) != 0 || !sameRow(total, requests.ReportRow{MedianHoursToClose: math.NaN(), P90HoursToClose: math.NaN()}) {
		t.Errorf("ReportRows(empty period) = %+v, %+v, %v", rows, total, err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.ReportRows(cctx, tenantA, q); !errors.Is(err, context.Canceled) {
		t.Errorf("ReportRows with a canceled context: %v, want an error wrapping context.Canceled", err)
	}
}

// reportOracle computes a report's rows (sorted by key) and total request
// by request, from the requests as stored.
func reportOracle(stored []requests.Request, tenant string, q requests.ReportQuery) ([]requests.ReportRow, requests.ReportRow) {
	groups := map[string]*oracleRow{}
	var total oracleRow
	for _, r := range stored {
		if r.TenantID != tenant || (!q.Start.IsZero() && r.RequestedAt.Before(q.Start)) || (!q.End.IsZero() && r.RequestedAt.After(q.End)) {
			continue
		}
		key := r.ServiceCode
		switch q.By {
		case requests.ByWard:
			key = r.WardID
		case requests.ByDepartment:
			key = r.Department
		}
		g := groups[key]
		if g == nil {
			g = &oracleRow{row: requests.ReportRow{Key: key}}
			groups[key] = g
		}
		g.add(r, q.AsOf)
		total.add(r, q.AsOf)
	}
	var rows []requests.ReportRow
	for _, g := range groups {
		rows = append(rows, g.finish())
	}
	slices.SortFunc(rows, func(a, b requests.ReportRow) int { return strings.Compare(a.Key, b.Key) })
	return rows, total.finish()
}

type oracleRow struct {
	row   requests.ReportRow
	hours []float64
}

func (o *oracleRow) add(q requests.Request, now time.Time) {
	r := &o.row
	r.Received++
	closed := q.Status == requests.Closed
	if closed {
		r.Closed++
		o.hours = append(o.hours, q.UpdatedAt.Sub(q.RequestedAt).Hours())
	} else {
		r.Open++
	}
	switch {
	case q.DueAt.IsZero():
		r.NoSLA++
	case closed && !q.UpdatedAt.After(q.DueAt):
		r.ClosedOnTime++
	case closed:
		r.ClosedLate++
	case now.After(q.DueAt):
		r.OpenOverdue++
	}
}

func (o *oracleRow) finish() requests.ReportRow {
	slices.Sort(o.hours)
	o.row.MedianHoursToClose, o.row.P90HoursToClose = oracleQuantile(o.hours, 0.5), oracleQuantile(o.hours, 0.9)
	return o.row
}

// oracleQuantile of sorted xs by linear interpolation; NaN for none.
func oracleQuantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(xs)-1)
	i := int(pos)
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[i] + (xs[i+1]-xs[i])*(pos-float64(i))
}

// sameRow: the same key and counts, quantiles equal within float rounding
// (PostgreSQL computes hours in its own arithmetic) or both NaN. Names and
// compliance are the service's.
func sameRow(a, b requests.ReportRow) bool {
	near := func(x, y float64) bool {
		if math.IsNaN(x) || math.IsNaN(y) {
			return math.IsNaN(x) && math.IsNaN(y)
		}
		return math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(x))
	}
	return a.Key == b.Key && a.Received == b.Received && a.Open == b.Open && a.Closed == b.Closed &&
		a.ClosedOnTime == b.ClosedOnTime && a.ClosedLate == b.ClosedLate && a.OpenOverdue == b.OpenOverdue &&
		a.NoSLA == b.NoSLA && near(a.MedianHoursToClose, b.MedianHoursToClose) && near(a.P90HoursToClose, b.P90HoursToClose)
}
