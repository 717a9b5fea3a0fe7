package storetest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/requests"
)

// reportCalendar is the sample town's catalog: Québec holidays, 08:30 to
// 16:30 Monday to Friday, America/Toronto.
func reportCalendar(t *testing.T) *requests.Catalog {
	t.Helper()
	cat, err := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// testReport: ReportRows aggregates exactly what the report defines,
// checked against reportOracle (the figures computed request by request in
// Go from the requests and their events as stored, business hours on the
// catalog's SLA clock) for every grouping, every pair of groupings, and
// against figures worked out by hand for two small groups.
func testReport(t *testing.T, s Stores) {
	ctx := context.Background()
	cat := reportCalendar(t)
	sat, ok := s.Store.(requests.FeedbackStore) // the status page's path
	if !ok {
		t.Fatalf("%T records no satisfaction", s.Store)
	}
	start := time.Date(2026, 1, 1, 5, 0, 0, 0, time.UTC)
	end := time.Date(2026, 3, 31, 4, 59, 59, 999999000, time.UTC)
	asOf := time.Date(2026, 4, 2, 12, 0, 0, 500, zone) // open requests due before this are overdue
	satisfied := map[int64]int{}                       // request ID → score
	satisfy := func(r requests.Request, score int) {
		t.Helper()
		if err := sat.GiveSatisfaction(ctx, requests.Satisfaction{Tenant: r.TenantID, ServiceRequestID: r.ServiceRequestID,
			Score: score, At: r.UpdatedAt.Add(time.Hour)}); err != nil {
			t.Fatalf("GiveSatisfaction: %v", err)
		}
		satisfied[r.ID] = score
	}
	step := func(r requests.Request, to requests.Status, at time.Time) requests.Request {
		t.Helper()
		got, err := s.UpdateStatus(ctx, requests.StatusChange{Tenant: r.TenantID, ServiceRequestID: r.ServiceRequestID,
			To: to, Note: "step", Actor: "crew", At: at})
		if err != nil {
			t.Fatalf("%s %s → %s: %v", r.ServiceRequestID, r.Status, to, err)
		}
		return got
	}
	// escalate fires levels through the claim until each request of
	// target (by ID) has its level.
	escalate := func(tenant string, target map[int64]int, now time.Time) {
		t.Helper()
		for range 5 {
			n, err := s.ClaimEscalations(ctx, requests.EscalationClaim{Tenant: tenant, Now: now, Limit: 1000,
				Plan: func(st requests.EscalationState) (requests.Escalation, bool) {
					if st.EscalationLevel >= target[st.ID] {
						return requests.Escalation{}, false
					}
					e := requests.Escalation{Level: st.EscalationLevel + 1, Notify: "department", Actor: "sweep"}
					if e.Level < target[st.ID] {
						e.Next = now // due again at the next claim
					}
					return e, true
				}})
			if err != nil {
				t.Fatalf("ClaimEscalations: %v", err)
			}
			if n == 0 {
				return
			}
		}
		t.Fatalf("escalations still firing after 5 claims")
	}
	var stored []requests.Request

	// Hand-worked group: ward "H", three requests received at start, one
	// at end exactly (both bounds included), one a microsecond outside
	// each bound (not counted).
	hand := func(ward string, at time.Time, status requests.Status, due time.Duration, closeAfter time.Duration) requests.Request {
		r := newReq(tenantA, origin, at)
		r.WardID, r.ServiceCode, r.Department, r.Status = ward, "graffiti", "bylaw", status
		if due > 0 {
			r.DueAt = at.Add(due)
		}
		if status == requests.Closed {
			r.UpdatedAt = at.Add(closeAfter)
		}
		return create(t, s, newRequest(r))
	}
	stored = append(stored,
		hand("H", start, requests.Closed, 24*time.Hour, 6*time.Hour),           // on time, 6 h
		hand("H", start, requests.Closed, 24*time.Hour, 30*time.Hour),          // late, 30 h
		hand("H", start, requests.New, 24*time.Hour, 0),                        // overdue
		hand("H", end, requests.Acknowledged, 0, 0),                            // open, no SLA
		hand("H", start.Add(-time.Microsecond), requests.Closed, 0, time.Hour), // before the period
		hand("H", end.Add(time.Microsecond), requests.New, 0, 0),               // after it
	)

	// Hand-worked group K, across the spring clock change (Sunday 8 March
	// 2026) in the sample's Toronto time, working hours 08:30–16:30:
	//   K1 received Fri 6 March 15:30 EST, acknowledged 16:00 (0.5 h),
	//      in progress Mon 9 March 09:00 EDT, waiting on the resident
	//      from Mon 10:00 to Tue 10:00, closed Tue 12:00: 91.5 calendar
	//      hours; working 1 (Fri) + 8 (Mon) + 3.5 (Tue) less the pause's
	//      6.5 (Mon) + 1.5 (Tue) = 4.5 business hours.
	//   K2 received Mon 08:00 EDT, acknowledged 11:00 (3 h), closed
	//      14:30, reopened Wed 11 March 09:00, closed again 10:00: 50
	//      calendar hours, 8 + 8 + 1.5 = 17.5 business hours (the clock
	//      starts at the opening); one reopening; satisfied, 5.
	//   K3 received Mon 09:00, never acknowledged, escalated to level 2.
	//   K4 received Mon 10:00, escalated to level 1, closed from new at
	//      10:30 (acknowledged 0.5 h, closed 0.5 h, 0.5 business hours);
	//      dissatisfied, 2.
	est := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, cat.Location()) }
	k1 := hand("K", est(6, 15, 30), requests.New, 0, 0)
	k1 = step(k1, requests.Acknowledged, est(6, 16, 0))
	k1 = step(k1, requests.InProgress, est(9, 9, 0))
	k1 = step(k1, requests.WaitingOnResident, est(9, 10, 0))
	k1 = step(k1, requests.InProgress, est(10, 10, 0))
	k1 = step(k1, requests.Closed, est(10, 12, 0))
	k2 := hand("K", est(9, 8, 0), requests.New, 0, 0)
	k2 = step(k2, requests.Acknowledged, est(9, 11, 0))
	k2 = step(k2, requests.Closed, est(9, 14, 30))
	k2 = step(k2, requests.Reopened, est(11, 9, 0))
	k2 = step(k2, requests.Closed, est(11, 10, 0))
	satisfy(k2, 5)
	k3 := hand("K", est(9, 9, 0), requests.New, 0, 0)
	k4 := hand("K", est(9, 10, 0), requests.New, 0, 0)
	for _, r := range []requests.Request{k3, k4} {
		setNext(t, s, r, est(9, 10, 15))
	}
	escalate(tenantA, map[int64]int{k3.ID: 2, k4.ID: 1}, est(9, 10, 15))
	k4 = step(k4, requests.Closed, est(9, 10, 30))
	satisfy(k4, 2)
	stored = append(stored, k1, k2, k3, k4)

	// Random requests of two tenants around the period, by every channel,
	// with an SLA or not, some created closed (no events), the others
	// walked through the workflow (waits, closes, reopenings), some
	// escalated while open, some answered; times at nanoseconds.
	rng := rand.New(rand.NewPCG(12, 34))
	wards := []string{"1", "2", "10", ""}
	cats := [][2]string{{"pothole", "public_works"}, {"streetlight_out", "contractor"}, {"graffiti", ""}}
	type walking struct {
		r   requests.Request
		now time.Time
	}
	var walks []*walking
	walk := func(w *walking, steps int, mayClose bool) {
		for range steps {
			next := slices.DeleteFunc(w.r.Status.Next(), func(s requests.Status) bool { return s == requests.Closed && !mayClose })
			if len(next) == 0 {
				return
			}
			w.now = w.now.Add(time.Minute + time.Duration(rng.Int64N(int64(60*time.Hour))))
			w.r = step(w.r, next[rng.IntN(len(next))], w.now)
		}
	}
	for i := range 240 {
		tenant := tenantA
		if i%5 == 0 {
			tenant = tenantB
		}
		at := start.Add(-10*24*time.Hour + time.Duration(rng.Int64N(int64(110*24*time.Hour))))
		r := newReq(tenant, origin, at)
		c := cats[rng.IntN(len(cats))]
		r.WardID, r.ServiceCode, r.Department = wards[rng.IntN(len(wards))], c[0], c[1]
		r.Channel = requests.Channels()[rng.IntN(len(requests.Channels()))]
		if rng.IntN(10) < 8 {
			r.DueAt = at.Add(time.Duration(rng.Int64N(int64(120 * time.Hour))))
		}
		if rng.IntN(4) == 0 {
			r.Status, r.UpdatedAt = requests.Closed, at.Add(time.Duration(rng.Int64N(int64(200*time.Hour))))
		}
		w := &walking{r: create(t, s, newRequest(r))}
		w.now = w.r.UpdatedAt
		if w.r.Status != requests.Closed {
			walk(w, rng.IntN(3), false)
		}
		walks = append(walks, w)
	}
	for _, tenant := range []string{tenantA, tenantB} {
		target := map[int64]int{}
		for _, w := range walks {
			if w.r.TenantID == tenant && w.r.Status != requests.Closed && rng.IntN(3) == 0 {
				target[w.r.ID] = 1 + rng.IntN(3)
				if n, err := s.SetNextEscalations(ctx, tenant, []requests.NextEscalation{{ID: w.r.ID, Status: w.r.Status,
					PausedAt: w.r.PausedAt, EscalationLevel: w.r.EscalationLevel, At: w.now}}); err != nil || n != 1 {
					t.Fatalf("SetNextEscalations(%s): %d, %v", w.r.ServiceRequestID, n, err)
				}
			}
		}
		escalate(tenant, target, end.AddDate(0, 2, 0))
	}
	for _, w := range walks {
		walk(w, rng.IntN(6), true)
		if w.r.Status == requests.Closed && rng.IntN(2) == 0 {
			satisfy(w.r, 1+rng.IntN(5))
		}
		stored = append(stored, w.r)
	}

	// The oracle reads what the stores keep: requests and events.
	events := map[int64][]requests.Event{}
	for i, r := range stored {
		got, err := s.GetRequest(ctx, r.TenantID, r.ServiceRequestID)
		if err != nil {
			t.Fatal(err)
		}
		stored[i] = got
		if events[got.ID], err = s.ListEvents(ctx, r.TenantID, r.ServiceRequestID); err != nil {
			t.Fatal(err)
		}
	}
	o := reportOracle{stored: stored, events: events, satisfied: satisfied, cat: cat}

	q := requests.ReportQuery{By: requests.ByWard, Start: start, End: end, AsOf: asOf, Calendar: cat.WorkCalendar}
	rows, total, err := s.ReportRows(ctx, tenantA, q)
	if err != nil {
		t.Fatalf("ReportRows: %v", err)
	}
	byKey := func(k string) requests.ReportRow {
		t.Helper()
		i := slices.IndexFunc(rows, func(r requests.ReportRow) bool { return r.Key == k })
		if i < 0 {
			t.Fatalf("ReportRows by ward: no row for ward %s in %+v", k, rows)
		}
		return rows[i]
	}
	nan := math.NaN()
	want := requests.ReportRow{Key: "H", Received: 4, Open: 2, Closed: 2, ClosedOnTime: 1, ClosedLate: 1, OpenOverdue: 1, NoSLA: 1,
		MedianHoursToClose: 18, P90HoursToClose: 27.6, // 6 + (30-6)×0.9
		// New Year's Day, then Friday 2 January closed before the opening.
		MedianBusinessHoursToClose: 0, P90BusinessHoursToClose: 0,
		MedianHoursToAck: nan, P90HoursToAck: nan, Escalations: make([]int, requests.ReportLevels)}
	if h := byKey("H"); !sameRow(h, want) {
		t.Errorf("ReportRows ward H:\n got %+v\nwant %+v", h, want)
	}
	want = requests.ReportRow{Key: "K", Received: 4, Open: 1, Closed: 3, NoSLA: 4,
		MedianHoursToClose: 50, P90HoursToClose: 83.2, // 0.5, 50, 91.5
		MedianBusinessHoursToClose: 4.5, P90BusinessHoursToClose: 14.9, // 0.5, 4.5, 17.5
		Acknowledged: 3, MedianHoursToAck: 0.5, P90HoursToAck: 2.5, // 0.5, 0.5, 3
		Reopened: 1, Escalations: append([]int{2, 1}, make([]int, requests.ReportLevels-2)...),
		SatisfactionCount: 2, SatisfactionSum: 7, Satisfied: 1}
	if k := byKey("K"); !sameRow(k, want) {
		t.Errorf("ReportRows ward K:\n got %+v\nwant %+v", k, want)
	}
	if total.Received <= 8 || total.Key != "" {
		t.Errorf("ReportRows total = %+v", total)
	}

	groupings := [][2]requests.ReportBy{}
	for _, by := range requests.ReportGroupings() {
		groupings = append(groupings, [2]requests.ReportBy{by, ""})
		for _, cross := range requests.ReportGroupings() {
			if cross != by {
				groupings = append(groupings, [2]requests.ReportBy{by, cross})
			}
		}
	}
	for _, g := range groupings {
		for _, tenant := range []string{tenantA, tenantB} {
			periods := [][2]time.Time{{start, end}, {}, {start, {}}, {{}, end}}
			if g[1] != "" {
				periods = periods[:2]
			}
			for _, period := range periods {
				q := requests.ReportQuery{By: g[0], Cross: g[1], Start: period[0], End: period[1], AsOf: asOf, Calendar: cat.WorkCalendar}
				rows, total, err := s.ReportRows(ctx, tenant, q)
				if err != nil {
					t.Fatalf("ReportRows(%s, %+v): %v", tenant, q, err)
				}
				wantRows, wantTotal := o.report(tenant, q)
				slices.SortFunc(rows, func(a, b requests.ReportRow) int {
					return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.Key2, b.Key2))
				})
				if len(rows) != len(wantRows) {
					t.Errorf("ReportRows(%s, %s, %v): %d rows, want %d:\n%+v\n%+v", tenant, q.Grouping(), period, len(rows), len(wantRows), rows, wantRows)
					continue
				}
				for i := range rows {
					if !sameRow(rows[i], wantRows[i]) {
						t.Errorf("ReportRows(%s, %s, %v) row %q,%q:\n got %+v\nwant %+v", tenant, q.Grouping(), period, rows[i].Key, rows[i].Key2, rows[i], wantRows[i])
					}
				}
				if !sameRow(total, wantTotal) {
					t.Errorf("ReportRows(%s, %s, %v) total:\n got %+v\nwant %+v", tenant, q.Grouping(), period, total, wantTotal)
				}
			}
		}
	}

	// Without a calendar there are no business hours; the rest stands.
	q.Calendar = nil
	rows, _, err = s.ReportRows(ctx, tenantA, q)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if !math.IsNaN(r.MedianBusinessHoursToClose) || !math.IsNaN(r.P90BusinessHoursToClose) {
			t.Errorf("ReportRows without a calendar: row %q has business hours %v, %v", r.Key, r.MedianBusinessHoursToClose, r.P90BusinessHoursToClose)
		}
	}
	if k := byKey("K"); k.Received != 4 || k.Reopened != 1 || k.MedianHoursToAck != 0.5 {
		t.Errorf("ReportRows without a calendar: ward K %+v", k)
	}

	// A period with no request: no group, a total of zeros, no quantile.
	empty := requests.ReportQuery{By: requests.ByCategory, Start: end.AddDate(1, 0, 0), AsOf: asOf, Calendar: cat.WorkCalendar}
	rows, total, err = s.ReportRows(ctx, tenantA, empty)
	if err != nil || len(rows) != 0 || !sameRow(total, requests.ReportRow{MedianHoursToClose: nan, P90HoursToClose: nan,
		MedianBusinessHoursToClose: nan, P90BusinessHoursToClose: nan, MedianHoursToAck: nan, P90HoursToAck: nan,
		Escalations: make([]int, requests.ReportLevels)}) {
		t.Errorf("ReportRows(empty period) = %+v, %+v, %v", rows, total, err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.ReportRows(cctx, tenantA, q); !errors.Is(err, context.Canceled) {
		t.Errorf("ReportRows with a canceled context: %v, want an error wrapping context.Canceled", err)
	}
}

// reportOracle computes reports request by request from the requests and
// events as stored.
type reportOracle struct {
	stored    []requests.Request
	events    map[int64][]requests.Event
	satisfied map[int64]int
	cat       *requests.Catalog
}

// report computes a report's rows (sorted by keys) and total.
func (o reportOracle) report(tenant string, q requests.ReportQuery) ([]requests.ReportRow, requests.ReportRow) {
	groups := map[[2]string]*oracleRow{}
	total := &oracleRow{}
	key := func(by requests.ReportBy, r requests.Request) string {
		switch by {
		case requests.ByWard:
			return r.WardID
		case requests.ByDepartment:
			return r.Department
		case requests.ByChannel:
			return string(r.Channel)
		case requests.ByCategory:
			return r.ServiceCode
		}
		return ""
	}
	for _, r := range o.stored {
		if r.TenantID != tenant || (!q.Start.IsZero() && r.RequestedAt.Before(q.Start)) || (!q.End.IsZero() && r.RequestedAt.After(q.End)) {
			continue
		}
		k := [2]string{key(q.By, r), key(q.Cross, r)}
		g := groups[k]
		if g == nil {
			g = &oracleRow{row: requests.ReportRow{Key: k[0], Key2: k[1]}}
			groups[k] = g
		}
		for _, row := range []*oracleRow{g, total} {
			row.add(o, r, q)
		}
	}
	var rows []requests.ReportRow
	for _, g := range groups {
		rows = append(rows, g.finish())
	}
	slices.SortFunc(rows, func(a, b requests.ReportRow) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.Key2, b.Key2))
	})
	return rows, total.finish()
}

type oracleRow struct {
	row                  requests.ReportRow
	hours, business, ack []float64
}

func (g *oracleRow) add(o reportOracle, q requests.Request, rq requests.ReportQuery) {
	r := &g.row
	if r.Escalations == nil {
		r.Escalations = make([]int, requests.ReportLevels)
	}
	r.Received++
	closed := q.Status == requests.Closed
	var steps []requests.StatusStep
	acked := false
	levels := map[int]bool{}
	for _, e := range o.events[q.ID] {
		switch {
		case e.Kind == requests.EventEscalated && !levels[e.Level]:
			levels[e.Level] = true
			r.Escalations[e.Level-1]++
		case e.Kind != requests.EventStatus:
		case e.From == requests.New && !acked:
			acked = true
			r.Acknowledged++
			g.ack = append(g.ack, e.At.Sub(q.RequestedAt).Hours())
		}
		if e.Kind == requests.EventStatus {
			steps = append(steps, requests.StatusStep{At: e.At, From: e.From, To: e.To})
			if e.To == requests.Reopened {
				r.Reopened++
			}
		}
	}
	if closed {
		r.Closed++
		g.hours = append(g.hours, q.UpdatedAt.Sub(q.RequestedAt).Hours())
		if rq.Calendar != nil {
			g.business = append(g.business, o.cat.WorkingTime(q.RequestedAt, q.UpdatedAt, requests.PausesOf(steps, time.Time{})).Hours())
		}
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
	case rq.AsOf.After(q.DueAt):
		r.OpenOverdue++
	}
	if score, ok := o.satisfied[q.ID]; ok {
		r.SatisfactionCount++
		r.SatisfactionSum += score
		if score >= 4 {
			r.Satisfied++
		}
	}
}

func (g *oracleRow) finish() requests.ReportRow {
	if g.row.Escalations == nil {
		g.row.Escalations = make([]int, requests.ReportLevels)
	}
	for _, xs := range [][]float64{g.hours, g.business, g.ack} {
		slices.Sort(xs)
	}
	g.row.MedianHoursToClose, g.row.P90HoursToClose = oracleQuantile(g.hours, 0.5), oracleQuantile(g.hours, 0.9)
	g.row.MedianBusinessHoursToClose, g.row.P90BusinessHoursToClose = oracleQuantile(g.business, 0.5), oracleQuantile(g.business, 0.9)
	g.row.MedianHoursToAck, g.row.P90HoursToAck = oracleQuantile(g.ack, 0.5), oracleQuantile(g.ack, 0.9)
	return g.row
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

// sameRow: the same keys and counts, quantiles equal within float rounding
// (PostgreSQL computes hours in its own arithmetic) or both NaN. Names and
// derived shares are the service's.
func sameRow(a, b requests.ReportRow) bool {
	near := func(x, y float64) bool {
		if math.IsNaN(x) || math.IsNaN(y) {
			return math.IsNaN(x) && math.IsNaN(y)
		}
		return math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(x))
	}
	return a.Key == b.Key && a.Key2 == b.Key2 && a.Received == b.Received && a.Open == b.Open && a.Closed == b.Closed &&
		a.ClosedOnTime == b.ClosedOnTime && a.ClosedLate == b.ClosedLate && a.OpenOverdue == b.OpenOverdue &&
		a.NoSLA == b.NoSLA && near(a.MedianHoursToClose, b.MedianHoursToClose) && near(a.P90HoursToClose, b.P90HoursToClose) &&
		near(a.MedianBusinessHoursToClose, b.MedianBusinessHoursToClose) && near(a.P90BusinessHoursToClose, b.P90BusinessHoursToClose) &&
		a.Acknowledged == b.Acknowledged && near(a.MedianHoursToAck, b.MedianHoursToAck) && near(a.P90HoursToAck, b.P90HoursToAck) &&
		a.Reopened == b.Reopened && slices.Equal(a.Escalations, b.Escalations) &&
		a.SatisfactionCount == b.SatisfactionCount && a.SatisfactionSum == b.SatisfactionSum && a.Satisfied == b.Satisfied
}
