package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
	"github.com/pinward/pinward/wards"
)

const benchReportHelp = `
Measures the council report by ward (requests.Service.Report, as
GET /api/v1/reports/ward.json computes it: the store's aggregate, then
names and order) against the best single SQL GROUP BY we know computing
the same figures, groups and total (GROUPING SETS, count FILTER,
percentile_cont, the events pre-aggregated per request, business hours
from a calendar of working seconds per day, as a BI tool's date
dimension), on synthetic requests received over the last year in a fresh
tenant (random wards, categories and channels of the sample town; 90%
with an SLA, 70% closed; about three events a request: created,
acknowledged, closed, waits on the resident, reopenings, escalations to
three levels; a satisfaction answer for a third of the closed), for each
size of --requests. Runs alternate; best of --runs each after one
warm-up; the two reports are checked equal, group by group and total.
The tenant's rows are deleted at the end. PostGIS only (--db,
$PINWARD_DATABASE_URL or $PINWARD_TEST_DATABASE_URL).
`

// reportPeerSQL is what a GIS analyst or a BI tool would run, written as
// well as we know: one GROUP BY over the requests, each joined to its
// events aggregated per request (the first acknowledgement, reopenings,
// the working seconds spent waiting on the resident, the escalation
// levels reached as bits) and its satisfaction answer, the total from the
// same scan (GROUPING SETS), each pair of quantiles from one sort (an
// array of fractions) over float8 hours (extract() would compute in
// numeric). Business hours read a calendar passed as arrays ($4 to $7:
// each day's midnight, opening, working seconds and working seconds
// before it, all Unix seconds): the working seconds at t are
// cum[d] + clamp(t - open[d], 0, len[d]) for t's day d, found by
// width_bucket. pinward's PostGIS store runs a statement of the same
// shape (store/postgis/report.go).
var reportPeerSQL = `WITH ev AS (
	SELECT request_id,
		min(at) FILTER (WHERE kind = 'status' AND from_status = 'new') AS ack_at,
		count(*) FILTER (WHERE kind = 'status' AND to_status = 'reopened')::int AS reopened,
		coalesce(sum((($7::float8[])[greatest(width_bucket(date_part('epoch', at), $4::float8[]), 1)]
			+ least(greatest(date_part('epoch', at) - ($5::float8[])[greatest(width_bucket(date_part('epoch', at), $4::float8[]), 1)], 0),
				($6::float8[])[greatest(width_bucket(date_part('epoch', at), $4::float8[]), 1)])))
			FILTER (WHERE kind = 'status' AND from_status = 'waiting_on_resident'), 0)
		- coalesce(sum((($7::float8[])[greatest(width_bucket(date_part('epoch', at), $4::float8[]), 1)]
			+ least(greatest(date_part('epoch', at) - ($5::float8[])[greatest(width_bucket(date_part('epoch', at), $4::float8[]), 1)], 0),
				($6::float8[])[greatest(width_bucket(date_part('epoch', at), $4::float8[]), 1)])))
			FILTER (WHERE kind = 'status' AND to_status = 'waiting_on_resident'), 0) AS paused,
		bit_or(1 << (level - 1)) FILTER (WHERE kind = 'escalated' AND level BETWEEN 1 AND 10) AS esc
	FROM events
	WHERE tenant_id = $1 AND (kind = 'escalated' OR (kind = 'status' AND
		(from_status IN ('new', 'waiting_on_resident') OR to_status IN ('reopened', 'waiting_on_resident'))))
	GROUP BY request_id)
SELECT GROUPING(ward_id), ward_id, count(*),
	count(*) FILTER (WHERE status <> 'closed'),
	count(*) FILTER (WHERE status = 'closed'),
	count(*) FILTER (WHERE status = 'closed' AND updated_at <= due_at),
	count(*) FILTER (WHERE status = 'closed' AND updated_at > due_at),
	count(*) FILTER (WHERE status <> 'closed' AND due_at < $3),
	count(*) FILTER (WHERE due_at IS NULL),
	percentile_cont('{0.5,0.9}'::float8[]) WITHIN GROUP (ORDER BY date_part('epoch', updated_at - requested_at) / 3600)
		FILTER (WHERE status = 'closed'),
	percentile_cont('{0.5,0.9}'::float8[]) WITHIN GROUP (ORDER BY ((($7::float8[])[greatest(width_bucket(date_part('epoch', updated_at), $4::float8[]), 1)]
			+ least(greatest(date_part('epoch', updated_at) - ($5::float8[])[greatest(width_bucket(date_part('epoch', updated_at), $4::float8[]), 1)], 0),
				($6::float8[])[greatest(width_bucket(date_part('epoch', updated_at), $4::float8[]), 1)]))
		- (($7::float8[])[greatest(width_bucket(date_part('epoch', requested_at), $4::float8[]), 1)]
			+ least(greatest(date_part('epoch', requested_at) - ($5::float8[])[greatest(width_bucket(date_part('epoch', requested_at), $4::float8[]), 1)], 0),
				($6::float8[])[greatest(width_bucket(date_part('epoch', requested_at), $4::float8[]), 1)])) - coalesce(paused, 0)) / 3600)
		FILTER (WHERE status = 'closed'),
	count(ack_at),
	percentile_cont('{0.5,0.9}'::float8[]) WITHIN GROUP (ORDER BY date_part('epoch', ack_at - requested_at) / 3600)
		FILTER (WHERE ack_at IS NOT NULL),
	coalesce(sum(reopened), 0),
	ARRAY[count(*) FILTER (WHERE esc & 1 <> 0), count(*) FILTER (WHERE esc & 2 <> 0), count(*) FILTER (WHERE esc & 4 <> 0), count(*) FILTER (WHERE esc & 8 <> 0), count(*) FILTER (WHERE esc & 16 <> 0), count(*) FILTER (WHERE esc & 32 <> 0), count(*) FILTER (WHERE esc & 64 <> 0), count(*) FILTER (WHERE esc & 128 <> 0), count(*) FILTER (WHERE esc & 256 <> 0), count(*) FILTER (WHERE esc & 512 <> 0)]::int8[],
	count(score), coalesce(sum(score), 0), count(*) FILTER (WHERE score >= 4)
FROM requests r
LEFT JOIN ev ON ev.request_id = r.id
LEFT JOIN satisfaction s ON s.tenant_id = r.tenant_id AND s.request_id = r.id
WHERE r.tenant_id = $1 AND r.requested_at >= $2
GROUP BY GROUPING SETS ((ward_id), ())`

func benchReport(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "bench report", "bench report [--requests 100000,1000000] [--runs 3] [--db URL]", benchReportHelp)
	sizes := fs.String("requests", "100000,1000000", "synthetic requests to report on: one `size` or several, comma-separated")
	runs := fs.Int("runs", 3, "timed runs of each (best counts)")
	db := fs.String("db", "", "PostgreSQL+PostGIS `URL`")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	var ns []int
	for f := range strings.SplitSeq(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 10_000_000 {
			return usageErrorf("--requests must be sizes in [1, 10000000], comma-separated: %q", *sizes)
		}
		ns = append(ns, n)
	}
	if *runs < 1 || *runs > 20 {
		return usageErrorf("--runs must be in [1, 20]")
	}
	u, err := databaseURL(env, *db)
	if err != nil {
		return err
	}
	set, _, err := cli.SampleTown(env)
	if err != nil {
		return err
	}
	catalog, err := sampleCatalog()
	if err != nil {
		return err
	}
	ps, err := postgis.Open(ctx, u)
	if err != nil {
		return err
	}
	defer ps.Close()
	pool := ps.Pool()
	for _, n := range ns {
		now := time.Now().UTC().Truncate(time.Microsecond)
		start := now.AddDate(-1, 0, 0)
		tenant := newTenant("bench-report-")
		err := seedReport(ctx, env, pool, tenant, n, start, now, wardIDs(set.Current(now).Wards), catalog.Categories())
		if err == nil {
			var svc *requests.Service
			svc, err = requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: catalog, Wards: set, Store: ps,
				Now: func() time.Time { return now }})
			if err == nil {
				err = compareReports(ctx, env, svc, catalog, pool, tenant, start, now, *runs)
			}
		}
		// A background context: the rows go even after an interrupt.
		err = errors.Join(err, dropTenant(context.WithoutCancel(ctx), pool, tenant))
		if err != nil {
			return err
		}
	}
	return nil
}

// compareReports times pinward's report and the peer GROUP BY, runs
// alternating, and checks them equal. The peer's calendar is built once,
// outside its time, as a BI tool keeps its date dimension; pinward builds
// its own in each run.
func compareReports(ctx context.Context, env Env, svc *requests.Service, catalog *requests.Catalog, pool *pgxpool.Pool,
	tenant string, start, now time.Time, runs int) error {
	var (
		rep         requests.Report
		peer        map[string]requests.ReportRow
		peerTotal   requests.ReportRow
		pinwardBest = time.Duration(math.MaxInt64)
		sqlBest     = time.Duration(math.MaxInt64)
	)
	cal := catalog.WorkCalendar(start, now.AddDate(1, 0, 0))
	pinward := func() (err error) {
		rep, err = svc.Report(ctx, requests.ReportQuery{By: requests.ByWard, Start: start})
		return err
	}
	sql := func() error {
		peer = map[string]requests.ReportRow{}
		rows, err := pool.Query(ctx, reportPeerSQL, tenant, start, now, cal.Starts, cal.Opens, cal.Lens, cal.Cum)
		if err != nil {
			return fmt.Errorf("peer report: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				r                  requests.ReportRow
				total              int
				key                *string // NULL in the total
				closeQ, busQ, ackQ []*float64
				esc                []int64
			)
			if err := rows.Scan(&total, &key, &r.Received, &r.Open, &r.Closed, &r.ClosedOnTime, &r.ClosedLate, &r.OpenOverdue, &r.NoSLA,
				&closeQ, &busQ, &r.Acknowledged, &ackQ, &r.Reopened, &esc, &r.SatisfactionCount, &r.SatisfactionSum, &r.Satisfied); err != nil {
				return fmt.Errorf("peer report: %w", err)
			}
			r.MedianHoursToClose, r.P90HoursToClose = peerQuantiles(closeQ)
			r.MedianBusinessHoursToClose, r.P90BusinessHoursToClose = peerQuantiles(busQ)
			r.MedianHoursToAck, r.P90HoursToAck = peerQuantiles(ackQ)
			for _, n := range esc {
				r.Escalations = append(r.Escalations, int(n))
			}
			if total == 1 {
				peerTotal = r
			} else {
				r.Key = *key
				peer[r.Key] = r
			}
		}
		return rows.Err()
	}
	for i := range runs + 1 { // run 0 warms up
		for _, m := range []struct {
			f    func() error
			best *time.Duration
		}{{pinward, &pinwardBest}, {sql, &sqlBest}} {
			t0 := time.Now()
			if err := m.f(); err != nil {
				return err
			}
			if i > 0 {
				*m.best = min(*m.best, time.Since(t0))
			}
		}
	}
	agree := len(peer) == len(rep.Rows)
	same := func(what string, r, p requests.ReportRow) {
		esc := slices.Clone(p.Escalations)
		for len(esc) > rep.Levels && esc[len(esc)-1] == 0 {
			esc = esc[:len(esc)-1]
		}
		if p.Received != r.Received || p.Open != r.Open || p.Closed != r.Closed || p.ClosedOnTime != r.ClosedOnTime ||
			p.ClosedLate != r.ClosedLate || p.OpenOverdue != r.OpenOverdue || p.NoSLA != r.NoSLA ||
			!near(p.MedianHoursToClose, r.MedianHoursToClose) || !near(p.P90HoursToClose, r.P90HoursToClose) ||
			!near(p.MedianBusinessHoursToClose, r.MedianBusinessHoursToClose) || !near(p.P90BusinessHoursToClose, r.P90BusinessHoursToClose) ||
			p.Acknowledged != r.Acknowledged || !near(p.MedianHoursToAck, r.MedianHoursToAck) || !near(p.P90HoursToAck, r.P90HoursToAck) ||
			p.Reopened != r.Reopened || !slices.Equal(esc, r.Escalations) ||
			p.SatisfactionCount != r.SatisfactionCount || p.SatisfactionSum != r.SatisfactionSum || p.Satisfied != r.Satisfied {
			agree = false
			fmt.Fprintf(env.Stdout, "%s differs: pinward %+v, PostgreSQL %+v\n", what, r, p)
		}
	}
	for _, r := range rep.Rows {
		same("ward "+r.Key, r, peer[r.Key])
	}
	same("total", rep.Total, peerTotal)
	fmt.Fprintf(env.Stdout, "report by ward, %d requests in %d wards (best of %d): pinward %s, PostgreSQL GROUP BY %s: %.2f× (pinward/PostgreSQL time); reports agree: %v\n",
		rep.Total.Received, len(rep.Rows), runs, pinwardBest.Round(time.Millisecond), sqlBest.Round(time.Millisecond),
		pinwardBest.Seconds()/sqlBest.Seconds(), agree)
	if !agree {
		return fmt.Errorf("the reports differ")
	}
	return nil
}

// peerQuantiles reads percentile_cont's array: NaN for none.
func peerQuantiles(qs []*float64) (median, p90 float64) {
	if len(qs) != 2 || qs[0] == nil || qs[1] == nil {
		return math.NaN(), math.NaN()
	}
	return *qs[0], *qs[1]
}

func wardIDs(ws []wards.Ward) []string {
	ids := make([]string, len(ws))
	for i, w := range ws {
		ids[i] = w.ID
	}
	return ids
}

// near: equal within float rounding, or both NaN.
func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(a))
}

// seedReport stores n requests received between start and now in
// batches of one INSERT each, closed ones with their close time as last
// update, then their events and satisfaction answers in a few INSERTs
// (see reportEventsSQL), with progress on stderr.
func seedReport(ctx context.Context, env Env, pool *pgxpool.Pool, tenant string, n int, start, now time.Time,
	wardIDs []string, cats []requests.Category) error {
	const batch = 10_000
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	span := now.Sub(start)
	channels := requests.Channels()
	for done := 0; done < n; {
		m := min(batch, n-done)
		var (
			codes, statuses, wards, depts, chans []string
			reqAt, updAt                         []time.Time
			dueAt                                []*time.Time
		)
		for range m {
			c := cats[rng.IntN(len(cats))]
			at := start.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Microsecond)
			status, upd := requests.New, at
			var due *time.Time
			if rng.Float64() < 0.9 {
				d := at.Add(time.Duration(24+rng.IntN(96)) * time.Hour)
				due = &d
			}
			if rng.Float64() < 0.7 {
				status, upd = requests.Closed, at.Add(time.Duration(rng.Int64N(int64(200*time.Hour)))).Truncate(time.Microsecond)
			}
			codes, statuses, depts = append(codes, c.Code), append(statuses, string(status)), append(depts, c.Department)
			wards, chans = append(wards, wardIDs[rng.IntN(len(wardIDs))]), append(chans, string(channels[rng.IntN(len(channels))]))
			reqAt, updAt, dueAt = append(reqAt, at), append(updAt, upd), append(dueAt, due)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO requests (tenant_id, service_code, status, geom, ward_id, cluster_id,
				department, requested_at, updated_at, due_at, lang, channel)
			SELECT $1, c, s, ST_SetSRID(ST_MakePoint(-73.066, 46.03), 4326), w, 'bench', d, r, u, due, 'en', ch
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::text[])
				AS t(c, s, w, d, r, u, due, ch)`,
			tenant, codes, statuses, wards, depts, reqAt, updAt, dueAt, chans); err != nil {
			return fmt.Errorf("store synthetic requests: %w", err)
		}
		done += m
		if done%max(n/10, batch) == 0 || done == n {
			fmt.Fprintf(env.Stderr, "bench report: %d/%d requests stored\n", done, n)
		}
	}
	for _, stmt := range reportEventsSQL {
		if _, err := pool.Exec(ctx, stmt, tenant); err != nil {
			return fmt.Errorf("store synthetic events: %w", err)
		}
	}
	fmt.Fprintf(env.Stderr, "bench report: events and satisfaction stored\n")
	// Fresh statistics, as autovacuum would give tables this size.
	if _, err := pool.Exec(ctx, "ANALYZE requests, events, satisfaction"); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

// reportEventsSQL gives the synthetic requests of tenant $1 their history,
// chosen by request ID so runs repeat: a created event each; for the
// closed and 70% of the open, acknowledgement (a share of the time to
// close, or up to 4 days); for closed ones a close at their last update,
// one in ten after a wait on the resident and one in 31 after a
// reopening; escalations (one in 5 to level 1, one in 15 to 2, one in 45
// to 3); a satisfaction answer (1 to 5) for one closed request in 3.
var reportEventsSQL = []string{
	`INSERT INTO events (tenant_id, request_id, at, actor, kind, from_status, to_status)
	SELECT tenant_id, id, requested_at, 'resident', 'created', '', 'new' FROM requests WHERE tenant_id = $1
	UNION ALL
	SELECT tenant_id, id, CASE WHEN status = 'closed' THEN requested_at + (updated_at - requested_at) * ((id % 50) / 100.0)
		ELSE requested_at + make_interval(mins => (id % 5760)::int) END, 'crew', 'status', 'new', 'acknowledged'
	FROM requests WHERE tenant_id = $1 AND (status = 'closed' OR id % 10 < 7)
	UNION ALL
	SELECT tenant_id, id, requested_at + (updated_at - requested_at) * 0.55, 'crew', 'status', 'in_progress', 'waiting_on_resident'
	FROM requests WHERE tenant_id = $1 AND status = 'closed' AND id % 10 = 3
	UNION ALL
	SELECT tenant_id, id, requested_at + (updated_at - requested_at) * 0.7, 'crew', 'status', 'waiting_on_resident', 'in_progress'
	FROM requests WHERE tenant_id = $1 AND status = 'closed' AND id % 10 = 3
	UNION ALL
	SELECT tenant_id, id, requested_at + (updated_at - requested_at) * 0.8, 'crew', 'status', 'in_progress', 'closed'
	FROM requests WHERE tenant_id = $1 AND status = 'closed' AND id % 31 = 0
	UNION ALL
	SELECT tenant_id, id, requested_at + (updated_at - requested_at) * 0.9, 'resident', 'status', 'closed', 'reopened'
	FROM requests WHERE tenant_id = $1 AND status = 'closed' AND id % 31 = 0
	UNION ALL
	SELECT tenant_id, id, updated_at, 'crew', 'status', CASE WHEN id % 31 = 0 THEN 'reopened' ELSE 'in_progress' END, 'closed'
	FROM requests WHERE tenant_id = $1 AND status = 'closed'`,
	`INSERT INTO events (tenant_id, request_id, at, actor, kind, level)
	SELECT tenant_id, id, requested_at + make_interval(hours => 24 * l), 'sweep', 'escalated', l
	FROM requests, generate_series(1, 3) AS l
	WHERE tenant_id = $1 AND ((l = 1 AND id % 5 = 0) OR (l = 2 AND id % 15 = 0) OR (l = 3 AND id % 45 = 0))`,
	`INSERT INTO satisfaction (tenant_id, request_id, score, comment, at)
	SELECT tenant_id, id, 1 + id % 5, '', updated_at + interval '1 day'
	FROM requests WHERE tenant_id = $1 AND status = 'closed' AND id % 3 = 0`,
}
