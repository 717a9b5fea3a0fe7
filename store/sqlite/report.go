package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pinward/pinward/requests"
)

// reportCounts counts a report's groups in one GROUP BY over the period's
// requests r, each with its events pre-aggregated (ev: one row per
// request: the first status event out of "new", the transitions to
// "reopened", whether it reached each escalation level) and its
// satisfaction (at
// most one row). SQLite has no percentile_cont and no arrays for the work
// calendar: the quantiles come from reportTimes.
func reportCounts(keys, where string) string {
	var esc, escSum []string
	for l := 1; l <= requests.ReportLevels; l++ {
		esc = append(esc, fmt.Sprintf("max(e.kind = 'escalated' AND e.level = %d) AS e%d", l, l))
		escSum = append(escSum, fmt.Sprintf("coalesce(sum(ev.e%d), 0)", l))
	}
	return `WITH ev AS (
	SELECT e.request_id,
		min(e.at) FILTER (WHERE e.kind = 'status' AND e.from_status = 'new') AS ack_at,
		count(*) FILTER (WHERE e.kind = 'status' AND e.to_status = 'reopened') AS reopened,
		` + strings.Join(esc, ",\n\t\t") + `
	FROM events e
	WHERE e.tenant_id = ? AND (e.kind = 'escalated' OR (e.kind = 'status' AND (e.from_status = 'new' OR e.to_status = 'reopened')))
	GROUP BY e.request_id)
SELECT ` + keys + `, count(*),
	count(*) FILTER (WHERE r.status <> 'closed'),
	count(*) FILTER (WHERE r.status = 'closed'),
	count(*) FILTER (WHERE r.status = 'closed' AND r.updated_at <= r.due_at),
	count(*) FILTER (WHERE r.status = 'closed' AND r.updated_at > r.due_at),
	count(*) FILTER (WHERE r.status <> 'closed' AND r.due_at < ?),
	count(*) FILTER (WHERE r.due_at IS NULL),
	count(ev.ack_at), coalesce(sum(ev.reopened), 0),
	` + strings.Join(escSum, ", ") + `,
	count(s.score), coalesce(sum(s.score), 0), count(*) FILTER (WHERE s.score >= 4)
FROM requests r
LEFT JOIN ev ON ev.request_id = r.id
LEFT JOIN satisfaction s ON s.request_id = r.id
WHERE ` + where + `
GROUP BY ` + keys
}

// reportTimes streams what the quantiles need of each request closed or
// acknowledged: microseconds received, last updated (the close) and
// first out of "new". An imported request closed at an unknown time
// (close_time_known false) has no time to close.
func reportTimes(keys, where string) string {
	return `SELECT ` + keys + `, r.id, r.status = 'closed' AND r.close_time_known, r.requested_at, r.updated_at, ev.ack_at
FROM requests r
LEFT JOIN (SELECT request_id, min(at) AS ack_at FROM events
	WHERE tenant_id = ? AND kind = 'status' AND from_status = 'new' GROUP BY request_id) ev ON ev.request_id = r.id
WHERE ` + where + ` AND (r.status = 'closed' OR ev.ack_at IS NOT NULL)`
}

// reportPauses lists the closed requests' status events into and out of
// "waiting_on_resident": the pauses of their SLA clock.
func reportPauses(where string) string {
	return `SELECT e.request_id, e.at, e.to_status = 'waiting_on_resident'
FROM events e JOIN requests r ON r.id = e.request_id
WHERE ` + where + ` AND r.status = 'closed' AND e.kind = 'status'
	AND (e.from_status = 'waiting_on_resident' OR e.to_status = 'waiting_on_resident')`
}

// ReportRows aggregates in SQLite: see requests.Store. The statements run
// in one read transaction, so they see the same rows.
func (s *Store) ReportRows(ctx context.Context, tenant string, q requests.ReportQuery) ([]requests.ReportRow, requests.ReportRow, error) {
	var total requests.ReportRow
	where, args := []string{"r.tenant_id = ?"}, []any{tenant}
	if !q.Start.IsZero() {
		where, args = append(where, "r.requested_at >= ?"), append(args, ceilMicros(q.Start))
	}
	if !q.End.IsZero() {
		where, args = append(where, "r.requested_at <= ?"), append(args, q.End.UnixMicro())
	}
	if c := q.Scope.Where("r.department", "r.ward_id", func(v any) string { args = append(args, v); return "?" }); c != "" {
		where = append(where, c)
	}
	cond := strings.Join(where, " AND ")
	keys, nkeys := "r."+q.By.Column(), 1
	if q.Cross != "" {
		keys, nkeys = keys+", r."+q.Cross.Column(), 2
	}

	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, total, wrap(ctx, "report", err)
	}
	defer tx.Rollback() //nolint:errcheck // read only

	rc, err := recutFor(ctx, tx, q)
	if err != nil {
		return nil, total, err
	}
	rows, err := tx.QueryContext(ctx, rc.sql(reportCounts(keys, cond)), rc.args(append([]any{tenant, ceilMicros(q.AsOf)}, args...)...)...)
	if err != nil {
		return nil, total, wrap(ctx, "report", err)
	}
	var out []requests.ReportRow
	index := map[[2]string]int{}
	total.Escalations = make([]int, requests.ReportLevels)
	for rows.Next() {
		r := requests.ReportRow{Escalations: make([]int, requests.ReportLevels)}
		dest := []any{&r.Key}
		if nkeys == 2 {
			dest = append(dest, &r.Key2)
		}
		dest = append(dest, &r.Received, &r.Open, &r.Closed, &r.ClosedOnTime, &r.ClosedLate, &r.OpenOverdue, &r.NoSLA,
			&r.Acknowledged, &r.Reopened)
		for i := range r.Escalations {
			dest = append(dest, &r.Escalations[i])
		}
		dest = append(dest, &r.SatisfactionCount, &r.SatisfactionSum, &r.Satisfied)
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return nil, total, wrap(ctx, "report", err)
		}
		index[[2]string{r.Key, r.Key2}] = len(out)
		out = append(out, r)
		addCounts(&total, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, total, wrap(ctx, "report", err)
	}

	// The pauses of closed requests: few, so kept by request.
	pauses := map[int64][]pauseStep{}
	rows, err = tx.QueryContext(ctx, rc.sql(reportPauses(cond)), rc.args(args...)...)
	if err != nil {
		return nil, total, wrap(ctx, "report", err)
	}
	for rows.Next() {
		var (
			id int64
			p  pauseStep
		)
		if err := rows.Scan(&id, &p.at, &p.into); err != nil {
			rows.Close()
			return nil, total, wrap(ctx, "report", err)
		}
		pauses[id] = append(pauses[id], p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, total, wrap(ctx, "report", err)
	}

	// Each closed or acknowledged request's times, collected per group.
	var done []timedRequest
	rows, err = tx.QueryContext(ctx, rc.sql(reportTimes(keys, cond)), rc.args(append([]any{tenant}, args...)...)...)
	if err != nil {
		return nil, total, wrap(ctx, "report", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			t   timedRequest
			k   [2]string
			ack sql.NullInt64
		)
		dest := []any{&k[0]}
		if nkeys == 2 {
			dest = append(dest, &k[1])
		}
		if err := rows.Scan(append(dest, &t.id, &t.closed, &t.received, &t.updated, &ack)...); err != nil {
			return nil, total, wrap(ctx, "report", err)
		}
		t.group, t.ack = index[k], -1
		if ack.Valid {
			t.ack = ack.Int64
		}
		done = append(done, t)
	}
	if err := rows.Err(); err != nil {
		return nil, total, wrap(ctx, "report", err)
	}
	hours := reportHours(done, pauses, len(out), q.Calendar)
	for i := range out {
		hours[i].set(&out[i])
	}
	hours[len(out)].set(&total)
	return out, total, nil
}

// pauseStep is a status event into (into) or out of waiting on the
// resident, at microseconds.
type pauseStep struct {
	at   int64
	into bool
}

// timedRequest is a closed or acknowledged request of group (an index in
// the report's rows); microseconds, ack -1 when never acknowledged.
type timedRequest struct {
	id, received, updated, ack int64
	closed                     bool
	group                      int
}

// groupHours are one group's hours, each series to sort for quantiles.
type groupHours struct{ close, business, ack []float64 }

func (g *groupHours) set(r *requests.ReportRow) {
	r.MedianHoursToClose, r.P90HoursToClose = quantiles(g.close)
	r.MedianBusinessHoursToClose, r.P90BusinessHoursToClose = quantiles(g.business)
	r.MedianHoursToAck, r.P90HoursToAck = quantiles(g.ack)
}

// reportHours computes the hours of each request into its group's series
// and the total's (index groups). Business hours are working seconds on
// one calendar over every instant counted (see requests.WorkCalendar),
// less the working seconds spent waiting on the resident.
func reportHours(done []timedRequest, pauses map[int64][]pauseStep, groups int, calendar func(from, to time.Time) *requests.WorkCalendar) []groupHours {
	out := make([]groupHours, groups+1)
	var cal *requests.WorkCalendar
	if calendar != nil {
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		for _, t := range done {
			if t.closed {
				lo, hi = min(lo, t.received), max(hi, t.updated)
				for _, p := range pauses[t.id] {
					lo, hi = min(lo, p.at), max(hi, p.at)
				}
			}
		}
		if lo <= hi {
			cal = calendar(time.UnixMicro(lo), time.UnixMicro(hi))
		}
	}
	w := func(us int64) float64 { return cal.Seconds(time.UnixMicro(us)) }
	for _, t := range done {
		var business float64
		if t.closed && cal != nil {
			var left, entered float64 // working seconds at the ends and starts of pauses
			for _, p := range pauses[t.id] {
				if p.into {
					entered += w(p.at)
				} else {
					left += w(p.at)
				}
			}
			business = (w(t.updated) - w(t.received) - (left - entered)) / 3600
		}
		for _, g := range []*groupHours{&out[t.group], &out[groups]} {
			if t.ack >= 0 {
				g.ack = append(g.ack, microHours(t.ack-t.received))
			}
			if t.closed {
				g.close = append(g.close, microHours(t.updated-t.received))
				if cal != nil {
					g.business = append(g.business, business)
				}
			}
		}
	}
	return out
}

// microHours is microseconds in hours, as PostgreSQL's date_part gives
// them.
func microHours(us int64) float64 { return float64(us) / 1e6 / 3600 }

// quantiles sorts xs and interpolates requests.ReportQuantiles linearly
// between the two nearest values, as percentile_cont; NaN for none.
func quantiles(xs []float64) (median, p90 float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	slices.Sort(xs)
	var qs [len(requests.ReportQuantiles)]float64
	for i, q := range requests.ReportQuantiles {
		pos := q * float64(len(xs)-1)
		lo := int(pos)
		hi := min(lo+1, len(xs)-1)
		qs[i] = xs[lo] + (xs[hi]-xs[lo])*(pos-float64(lo))
	}
	return qs[0], qs[1]
}

// addCounts adds r's counts into total.
func addCounts(total *requests.ReportRow, r requests.ReportRow) {
	total.Received += r.Received
	total.Open += r.Open
	total.Closed += r.Closed
	total.ClosedOnTime += r.ClosedOnTime
	total.ClosedLate += r.ClosedLate
	total.OpenOverdue += r.OpenOverdue
	total.NoSLA += r.NoSLA
	total.Acknowledged += r.Acknowledged
	total.Reopened += r.Reopened
	for i, n := range r.Escalations {
		total.Escalations[i] += n
	}
	total.SatisfactionCount += r.SatisfactionCount
	total.SatisfactionSum += r.SatisfactionSum
	total.Satisfied += r.Satisfied
}
