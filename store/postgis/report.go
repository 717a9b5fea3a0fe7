package postgis

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pinward/pinward/requests"
)

// reportSQL is a council report in one statement, over the grouping
// columns cols (one or two, each "r.<column>") and the conditions where
// on requests r. Parameters: $1 tenant, $2 as of, $3 the quantiles, $4 to
// $7 the work calendar's Starts, Opens, Lens and Cum (see
// requests.WorkCalendar), then those of where.
//
// One scan of the period's requests gives the groups and the total
// (GROUPING SETS): counts by FILTER, each pair of quantiles from one sort
// per group (percentile_cont over an array) over float8 hours
// (date_part: extract() would compute in numeric). Each request's events
// arrive pre-aggregated (ev: one row per request, only the events the
// report reads), so the outer aggregate sees one row per request:
//   - acknowledgement: the first status event out of "new";
//   - reopened: status events to "reopened";
//   - paused: working seconds spent waiting on the resident, which is
//     W(end) - W(start) summed over the pauses, i.e. W over the events
//     leaving "waiting_on_resident" less W over those entering it, W being
//     the calendar's working seconds (work below);
//   - escalations: the levels it reached, as bits (level l is bit l-1),
//     counted per level by the outer FILTERs.
//
// An imported request closed at an unknown time (close_time_known false)
// has no time to close. Satisfaction is at most one row per request (its
// primary key).
func reportSQL(cols []string, where string) string {
	var esc []string
	for l := 1; l <= requests.ReportLevels; l++ {
		esc = append(esc, fmt.Sprintf("count(*) FILTER (WHERE ev.esc & %d <> 0)", 1<<(l-1)))
	}
	g := strings.Join(cols, ", ")
	return `WITH ev AS (
	SELECT e.request_id,
		min(e.at) FILTER (WHERE e.kind = 'status' AND e.from_status = 'new') AS ack_at,
		count(*) FILTER (WHERE e.kind = 'status' AND e.to_status = 'reopened')::int AS reopened,
		coalesce(sum(` + work("e.at") + `) FILTER (WHERE e.kind = 'status' AND e.from_status = 'waiting_on_resident'), 0)
			- coalesce(sum(` + work("e.at") + `) FILTER (WHERE e.kind = 'status' AND e.to_status = 'waiting_on_resident'), 0) AS paused,
		bit_or(1 << (e.level - 1)) FILTER (WHERE e.kind = 'escalated' AND e.level BETWEEN 1 AND ` + strconv.Itoa(requests.ReportLevels) + `) AS esc
	FROM events e
	WHERE e.tenant_id = $1 AND (e.kind = 'escalated' OR (e.kind = 'status' AND
		(e.from_status IN ('new', 'waiting_on_resident') OR e.to_status IN ('reopened', 'waiting_on_resident'))))
	GROUP BY e.request_id)
SELECT GROUPING(` + cols[0] + `) = 1, ` + g + `, count(*),
	count(*) FILTER (WHERE r.status <> 'closed'),
	count(*) FILTER (WHERE r.status = 'closed'),
	count(*) FILTER (WHERE r.status = 'closed' AND r.updated_at <= r.due_at),
	count(*) FILTER (WHERE r.status = 'closed' AND r.updated_at > r.due_at),
	count(*) FILTER (WHERE r.status <> 'closed' AND r.due_at < $2),
	count(*) FILTER (WHERE r.due_at IS NULL),
	percentile_cont($3::float8[]) WITHIN GROUP (ORDER BY date_part('epoch', r.updated_at - r.requested_at) / 3600)
		FILTER (WHERE r.status = 'closed' AND r.close_time_known),
	percentile_cont($3::float8[]) WITHIN GROUP (ORDER BY (` + work("r.updated_at") + ` - ` + work("r.requested_at") + ` - coalesce(ev.paused, 0)) / 3600)
		FILTER (WHERE r.status = 'closed' AND r.close_time_known),
	count(ev.ack_at),
	percentile_cont($3::float8[]) WITHIN GROUP (ORDER BY date_part('epoch', ev.ack_at - r.requested_at) / 3600)
		FILTER (WHERE ev.ack_at IS NOT NULL),
	coalesce(sum(ev.reopened), 0),
	ARRAY[` + strings.Join(esc, ", ") + `]::int8[],
	count(s.score), coalesce(sum(s.score), 0), count(*) FILTER (WHERE s.score >= 4)
FROM requests r
LEFT JOIN ev ON ev.request_id = r.id
LEFT JOIN satisfaction s ON s.tenant_id = r.tenant_id AND s.request_id = r.id
WHERE ` + where + `
GROUP BY GROUPING SETS ((` + g + `), ())`
}

// work is the SQL for the working seconds at instant t (see
// requests.WorkCalendar) over the calendar in $4 to $7: its day by a
// binary search of the midnights (width_bucket), then that day's open
// time clamped.
func work(t string) string {
	x := "date_part('epoch', " + t + ")"
	day := "greatest(width_bucket(" + x + ", $4::float8[]), 1)"
	return "(($7::float8[])[" + day + "] + least(greatest(" + x + " - ($5::float8[])[" + day + "], 0), ($6::float8[])[" + day + "]))"
}

// ReportRows aggregates in PostgreSQL: see requests.Store.
func (s *Store) ReportRows(ctx context.Context, tenant string, q requests.ReportQuery) ([]requests.ReportRow, requests.ReportRow, error) {
	var total requests.ReportRow
	cal, err := s.reportCalendar(ctx, tenant, q)
	if err != nil {
		return nil, total, wrapCtx(ctx, "report", err)
	}
	args := []any{tenant, ceilMicro(q.AsOf), requests.ReportQuantiles[:], cal.Starts, cal.Opens, cal.Lens, cal.Cum}
	where := []string{"r.tenant_id = $1"}
	// Bounds in whole microseconds, as stored: a start with nanoseconds
	// rounds up, an end down (pgx truncates).
	if !q.Start.IsZero() {
		args = append(args, ceilMicro(q.Start))
		where = append(where, "r.requested_at >= $"+strconv.Itoa(len(args)))
	}
	if !q.End.IsZero() {
		args = append(args, q.End)
		where = append(where, "r.requested_at <= $"+strconv.Itoa(len(args)))
	}
	scope := q.Scope.Where("r.department", "r.ward_id", func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	})
	if scope != "" {
		where = append(where, scope)
	}
	cols := []string{"r." + q.By.Column()}
	if q.Cross != "" {
		cols = append(cols, "r."+q.Cross.Column())
	}
	sql, args, err := s.withRecut(ctx, reportSQL(cols, strings.Join(where, " AND ")), args, q)
	if err != nil {
		return nil, total, err
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, total, wrapCtx(ctx, "report", err)
	}
	defer rows.Close()
	var out []requests.ReportRow
	for rows.Next() {
		var (
			isTotal bool
			key     [2]*string
		)
		dest := []any{&isTotal, &key[0]}
		if q.Cross != "" {
			dest = append(dest, &key[1])
		}
		r, err := scanReportRow(rows, dest...)
		if err != nil {
			return nil, total, wrapCtx(ctx, "report", err)
		}
		if isTotal {
			total = r
			continue
		}
		if key[0] != nil {
			r.Key = *key[0]
		}
		if key[1] != nil {
			r.Key2 = *key[1]
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, total, wrapCtx(ctx, "report", err)
	}
	return out, total, nil
}

// scanReportRow reads the figures of one row of reportSQL after the
// columns lead points to (the total flag and the keys).
func scanReportRow(rows pgx.Rows, lead ...any) (requests.ReportRow, error) {
	var (
		r                  requests.ReportRow
		closeQ, busQ, ackQ []*float64
		esc                []int64
	)
	if err := rows.Scan(append(lead, &r.Received, &r.Open, &r.Closed, &r.ClosedOnTime, &r.ClosedLate,
		&r.OpenOverdue, &r.NoSLA, &closeQ, &busQ, &r.Acknowledged, &ackQ, &r.Reopened, &esc,
		&r.SatisfactionCount, &r.SatisfactionSum, &r.Satisfied)...); err != nil {
		return r, err
	}
	r.MedianHoursToClose, r.P90HoursToClose = quantiles(closeQ)
	r.MedianBusinessHoursToClose, r.P90BusinessHoursToClose = quantiles(busQ)
	r.MedianHoursToAck, r.P90HoursToAck = quantiles(ackQ)
	r.Escalations = make([]int, len(esc))
	for i, n := range esc {
		r.Escalations[i] = int(n)
	}
	return r, nil
}

// quantiles reads percentile_cont's array: NaN for none.
func quantiles(qs []*float64) (median, p90 float64) {
	if len(qs) != len(requests.ReportQuantiles) || qs[0] == nil || qs[1] == nil {
		return math.NaN(), math.NaN()
	}
	return *qs[0], *qs[1]
}

// reportCalendar lays out working time over every instant the report
// counts: from the first request of the period (read by index) to a year
// past the period's end or now, whichever is later, which holds every
// close and event of requests received in the period. An empty calendar
// (no Calendar in q) leaves business hours NULL.
func (s *Store) reportCalendar(ctx context.Context, tenant string, q requests.ReportQuery) (*requests.WorkCalendar, error) {
	if q.Calendar == nil {
		return &requests.WorkCalendar{Starts: []float64{}, Opens: []float64{}, Lens: []float64{}, Cum: []float64{}}, nil
	}
	var first *time.Time
	if err := s.pool.QueryRow(ctx, `SELECT min(requested_at) FROM requests WHERE tenant_id = $1 AND requested_at >= $2`,
		tenant, ceilMicro(q.Start)).Scan(&first); err != nil {
		return nil, fmt.Errorf("first request: %w", err)
	}
	from, to := q.AsOf, q.AsOf
	if first != nil {
		from = *first
	}
	if q.End.After(to) {
		to = q.End
	}
	return q.Calendar(from, to.AddDate(1, 0, 0)), nil
}

// ceilMicro is t rounded up to the microsecond PostgreSQL keeps.
func ceilMicro(t time.Time) time.Time {
	if u := t.Truncate(time.Microsecond); u.Before(t) {
		return u.Add(time.Microsecond)
	}
	return t
}
