package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
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
percentile_cont), on synthetic requests received over the last year in a
fresh tenant (random wards and categories of the sample town; 90% with
an SLA, 70% closed), for each size of --requests. Runs alternate; best of
--runs each after one warm-up; the two reports are checked equal, group
by group and total. The tenant's rows are deleted at the end. PostGIS
only (--db, $PINWARD_DATABASE_URL or $PINWARD_TEST_DATABASE_URL).
`

// reportPeerSQL is what a GIS analyst or a BI tool would run, written as
// well as we know: one GROUP BY, the total from the same scan (GROUPING
// SETS), both quantiles from one sort (an array of fractions) over float8
// hours (extract() would compute in numeric). pinward's PostGIS store
// runs the same shape of statement (store/postgis/report.go).
const reportPeerSQL = `SELECT GROUPING(ward_id), ward_id, count(*),
	count(*) FILTER (WHERE status <> 'closed'),
	count(*) FILTER (WHERE status = 'closed'),
	count(*) FILTER (WHERE status = 'closed' AND updated_at <= due_at),
	count(*) FILTER (WHERE status = 'closed' AND updated_at > due_at),
	count(*) FILTER (WHERE status <> 'closed' AND due_at < $3),
	count(*) FILTER (WHERE due_at IS NULL),
	percentile_cont('{0.5,0.9}'::float8[]) WITHIN GROUP (ORDER BY date_part('epoch', updated_at - requested_at) / 3600)
		FILTER (WHERE status = 'closed')
FROM requests WHERE tenant_id = $1 AND requested_at >= $2 GROUP BY GROUPING SETS ((ward_id), ())`

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
				err = compareReports(ctx, env, svc, pool, tenant, start, now, *runs)
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
// alternating, and checks them equal.
func compareReports(ctx context.Context, env Env, svc *requests.Service, pool *pgxpool.Pool, tenant string, start, now time.Time, runs int) error {
	var (
		rep         requests.Report
		peer        map[string]requests.ReportRow
		peerTotal   requests.ReportRow
		pinwardBest = time.Duration(math.MaxInt64)
		sqlBest     = time.Duration(math.MaxInt64)
	)
	pinward := func() (err error) {
		rep, err = svc.Report(ctx, requests.ReportQuery{By: requests.ByWard, Start: start})
		return err
	}
	sql := func() error {
		peer = map[string]requests.ReportRow{}
		rows, err := pool.Query(ctx, reportPeerSQL, tenant, start, now)
		if err != nil {
			return fmt.Errorf("peer report: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				r     requests.ReportRow
				total int
				key   *string // NULL in the total
				qs    []*float64
			)
			if err := rows.Scan(&total, &key, &r.Received, &r.Open, &r.Closed, &r.ClosedOnTime, &r.ClosedLate, &r.OpenOverdue, &r.NoSLA, &qs); err != nil {
				return fmt.Errorf("peer report: %w", err)
			}
			r.MedianHoursToClose, r.P90HoursToClose = math.NaN(), math.NaN()
			if len(qs) == 2 && qs[0] != nil && qs[1] != nil {
				r.MedianHoursToClose, r.P90HoursToClose = *qs[0], *qs[1]
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
		if p.Received != r.Received || p.Open != r.Open || p.Closed != r.Closed || p.ClosedOnTime != r.ClosedOnTime ||
			p.ClosedLate != r.ClosedLate || p.OpenOverdue != r.OpenOverdue || p.NoSLA != r.NoSLA ||
			!near(p.MedianHoursToClose, r.MedianHoursToClose) || !near(p.P90HoursToClose, r.P90HoursToClose) {
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
// batches of one INSERT each (a report reads only the requests table),
// closed ones with their close time as last update, with progress on
// stderr.
func seedReport(ctx context.Context, env Env, pool *pgxpool.Pool, tenant string, n int, start, now time.Time,
	wardIDs []string, cats []requests.Category) error {
	const batch = 10_000
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	span := now.Sub(start)
	for done := 0; done < n; {
		m := min(batch, n-done)
		var (
			codes, statuses, wards, depts []string
			reqAt, updAt                  []time.Time
			dueAt                         []*time.Time
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
			wards = append(wards, wardIDs[rng.IntN(len(wardIDs))])
			reqAt, updAt, dueAt = append(reqAt, at), append(updAt, upd), append(dueAt, due)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO requests (tenant_id, service_code, status, geom, ward_id, cluster_id,
				department, requested_at, updated_at, due_at, lang)
			SELECT $1, c, s, ST_SetSRID(ST_MakePoint(-73.066, 46.03), 4326), w, 'bench', d, r, u, due, 'en'
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[])
				AS t(c, s, w, d, r, u, due)`,
			tenant, codes, statuses, wards, depts, reqAt, updAt, dueAt); err != nil {
			return fmt.Errorf("store synthetic requests: %w", err)
		}
		done += m
		if done%max(n/10, batch) == 0 || done == n {
			fmt.Fprintf(env.Stderr, "bench report: %d/%d requests stored\n", done, n)
		}
	}
	// Fresh statistics, as autovacuum would give a table this size.
	if _, err := pool.Exec(ctx, "ANALYZE requests"); err != nil {
		return fmt.Errorf("analyze requests: %w", err)
	}
	return nil
}
