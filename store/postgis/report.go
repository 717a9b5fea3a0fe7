package postgis

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pinward/pinward/requests"
)

// reportSelect is a council report in one statement: the groups and the
// total from one scan (GROUPING SETS), the counts by FILTER and both
// quantiles from one sort per group (percentile_cont over an array).
// Hours are float8 (date_part): extract() would compute in numeric.
const reportSelect = `SELECT GROUPING(%[1]s) = 1, %[1]s, count(*),
	count(*) FILTER (WHERE status <> 'closed'),
	count(*) FILTER (WHERE status = 'closed'),
	count(*) FILTER (WHERE status = 'closed' AND updated_at <= due_at),
	count(*) FILTER (WHERE status = 'closed' AND updated_at > due_at),
	count(*) FILTER (WHERE status <> 'closed' AND due_at < $2),
	count(*) FILTER (WHERE due_at IS NULL),
	percentile_cont($3::float8[]) WITHIN GROUP (ORDER BY date_part('epoch', updated_at - requested_at) / 3600)
		FILTER (WHERE status = 'closed' AND close_time_known)
FROM requests WHERE %[2]s
GROUP BY GROUPING SETS ((%[1]s), ())`

// ReportRows aggregates in PostgreSQL: see requests.Store.
func (s *Store) ReportRows(ctx context.Context, tenant string, q requests.ReportQuery) ([]requests.ReportRow, requests.ReportRow, error) {
	var total requests.ReportRow
	args := []any{tenant, ceilMicro(q.AsOf), requests.ReportQuantiles[:]}
	where := []string{"tenant_id = $1"}
	// Bounds in whole microseconds, as stored: a start with nanoseconds
	// rounds up, an end down (pgx truncates).
	if !q.Start.IsZero() {
		args = append(args, ceilMicro(q.Start))
		where = append(where, "requested_at >= $"+strconv.Itoa(len(args)))
	}
	if !q.End.IsZero() {
		args = append(args, q.End)
		where = append(where, "requested_at <= $"+strconv.Itoa(len(args)))
	}
	scope := q.Scope.Where("department", "ward_id", func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	})
	if scope != "" {
		where = append(where, scope)
	}
	sql := strings.NewReplacer("%[1]s", q.By.Column(), "%[2]s", strings.Join(where, " AND ")).Replace(reportSelect)
	sql, args, err := s.withRecut(ctx, sql, args, q)
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
			r       requests.ReportRow
			isTotal bool
			key     *string
			qs      []*float64
		)
		if err := rows.Scan(&isTotal, &key, &r.Received, &r.Open, &r.Closed, &r.ClosedOnTime, &r.ClosedLate,
			&r.OpenOverdue, &r.NoSLA, &qs); err != nil {
			return nil, total, wrapCtx(ctx, "report", err)
		}
		r.MedianHoursToClose, r.P90HoursToClose = math.NaN(), math.NaN()
		if len(qs) == len(requests.ReportQuantiles) && qs[0] != nil && qs[1] != nil {
			r.MedianHoursToClose, r.P90HoursToClose = *qs[0], *qs[1]
		}
		if isTotal {
			total = r
			continue
		}
		if key != nil {
			r.Key = *key
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, total, wrapCtx(ctx, "report", err)
	}
	return out, total, nil
}

// ceilMicro is t rounded up to the microsecond PostgreSQL keeps.
func ceilMicro(t time.Time) time.Time {
	if u := t.Truncate(time.Microsecond); u.Before(t) {
		return u.Add(time.Microsecond)
	}
	return t
}
