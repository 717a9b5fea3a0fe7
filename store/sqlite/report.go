package sqlite

import (
	"context"
	"database/sql"
	"math"
	"strings"
	"time"

	"github.com/pinward/pinward/requests"
)

// reportCounts counts a report's groups in one GROUP BY. SQLite has no
// percentile_cont: the quantiles come from reportHours.
const reportCounts = `SELECT %[1]s, count(*),
	count(*) FILTER (WHERE status <> 'closed'),
	count(*) FILTER (WHERE status = 'closed'),
	count(*) FILTER (WHERE status = 'closed' AND updated_at <= due_at),
	count(*) FILTER (WHERE status = 'closed' AND updated_at > due_at),
	count(*) FILTER (WHERE status <> 'closed' AND due_at < ?),
	count(*) FILTER (WHERE due_at IS NULL),
	count(*) FILTER (WHERE status = 'closed' AND close_time_known)
FROM requests WHERE %[2]s GROUP BY %[1]s`

// reportHours streams the closed requests' microseconds to close, least
// first: one pass picks every group's order statistics and the total's.
const reportHours = `SELECT %[1]s, updated_at - requested_at FROM requests
WHERE %[2]s AND status = 'closed' AND close_time_known ORDER BY 2`

// ReportRows aggregates in SQLite: see requests.Store. Both statements
// run in one read transaction, so they see the same rows.
func (s *Store) ReportRows(ctx context.Context, tenant string, q requests.ReportQuery) ([]requests.ReportRow, requests.ReportRow, error) {
	var total requests.ReportRow
	where, args := []string{"tenant_id = ?"}, []any{tenant}
	if !q.Start.IsZero() {
		where, args = append(where, "requested_at >= ?"), append(args, ceilMicros(q.Start))
	}
	if !q.End.IsZero() {
		where, args = append(where, "requested_at <= ?"), append(args, q.End.UnixMicro())
	}
	if c := q.Scope.Where("department", "ward_id", func(v any) string { args = append(args, v); return "?" }); c != "" {
		where = append(where, c)
	}
	sub := strings.NewReplacer("%[1]s", q.By.Column(), "%[2]s", strings.Join(where, " AND "))

	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, total, wrap(ctx, "report", err)
	}
	defer tx.Rollback() //nolint:errcheck // read only

	rc, err := recutFor(ctx, tx, q)
	if err != nil {
		return nil, total, err
	}
	rows, err := tx.QueryContext(ctx, rc.sql(sub.Replace(reportCounts)), rc.args(append([]any{ceilMicros(q.AsOf)}, args...)...)...)
	if err != nil {
		return nil, total, wrap(ctx, "report", err)
	}
	var out []requests.ReportRow
	// Imported rows closed at an unknown time have no time to close.
	timed, timedAll := map[string]int{}, 0
	for rows.Next() {
		var r requests.ReportRow
		var n int
		if err := rows.Scan(&r.Key, &r.Received, &r.Open, &r.Closed, &r.ClosedOnTime, &r.ClosedLate, &r.OpenOverdue, &r.NoSLA, &n); err != nil {
			rows.Close()
			return nil, total, wrap(ctx, "report", err)
		}
		out = append(out, r)
		timed[r.Key], timedAll = n, timedAll+n
		total.Received += r.Received
		total.Open += r.Open
		total.Closed += r.Closed
		total.ClosedOnTime += r.ClosedOnTime
		total.ClosedLate += r.ClosedLate
		total.OpenOverdue += r.OpenOverdue
		total.NoSLA += r.NoSLA
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, total, wrap(ctx, "report", err)
	}

	// Order statistics, picked as the sorted stream passes them.
	pickers := make(map[string]*quantilePicker, len(out))
	for _, r := range out {
		pickers[r.Key] = newQuantilePicker(timed[r.Key])
	}
	all := newQuantilePicker(timedAll)
	rows, err = tx.QueryContext(ctx, rc.sql(sub.Replace(reportHours)), rc.args(args...)...)
	if err != nil {
		return nil, total, wrap(ctx, "report", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			key string
			us  int64
		)
		if err := rows.Scan(&key, &us); err != nil {
			return nil, total, wrap(ctx, "report", err)
		}
		all.next(us)
		if p := pickers[key]; p != nil {
			p.next(us)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, total, wrap(ctx, "report", err)
	}
	for i := range out {
		out[i].MedianHoursToClose, out[i].P90HoursToClose = pickers[out[i].Key].quantiles()
	}
	total.MedianHoursToClose, total.P90HoursToClose = all.quantiles()
	return out, total, nil
}

// quantilePicker keeps the order statistics that requests.ReportQuantiles
// interpolate between, out of n values given in ascending order.
type quantilePicker struct {
	n, seen int
	at      [len(requests.ReportQuantiles)][2]int // positions below and above each quantile
	val     [len(requests.ReportQuantiles)][2]float64
}

func newQuantilePicker(n int) *quantilePicker {
	p := &quantilePicker{n: n}
	for i, q := range requests.ReportQuantiles {
		lo := int(q * float64(n-1))
		p.at[i] = [2]int{lo, min(lo+1, n-1)}
	}
	return p
}

func (p *quantilePicker) next(us int64) {
	for i := range p.at {
		for j, pos := range p.at[i] {
			if pos == p.seen {
				p.val[i][j] = (time.Duration(us) * time.Microsecond).Hours()
			}
		}
	}
	p.seen++
}

// quantiles interpolates linearly, as percentile_cont; NaN for no values.
func (p *quantilePicker) quantiles() (median, p90 float64) {
	if p.n == 0 || p.seen != p.n {
		return math.NaN(), math.NaN()
	}
	var out [len(requests.ReportQuantiles)]float64
	for i, q := range requests.ReportQuantiles {
		pos := q * float64(p.n-1)
		lo, hi := p.val[i][0], p.val[i][1]
		out[i] = lo + (hi-lo)*(pos-float64(p.at[i][0]))
	}
	return out[0], out[1]
}
