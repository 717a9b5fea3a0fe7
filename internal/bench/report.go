package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
	"github.com/pinward/pinward/wards"
)

const benchReportHelp = `
Measures the council report by ward (requests.Service.Report, as
GET /api/v1/reports/ward.json computes it) against one SQL aggregate in
PostgreSQL computing the same figures (count FILTER, percentile_cont), on
--requests synthetic requests received over the last year in a fresh
tenant (random wards and categories of the sample town; 90% with an SLA,
70% closed). Best of --runs each; the two reports are checked equal, group
by group. PostGIS only (--db, $PINWARD_DATABASE_URL or
$PINWARD_TEST_DATABASE_URL); the tenant is removed at the end.
`

// reportPeerSQL is what a GIS analyst or a BI tool would run: the report's
// figures in one GROUP BY.
const reportPeerSQL = `SELECT ward_id, count(*),
	count(*) FILTER (WHERE status <> 'closed'),
	count(*) FILTER (WHERE status = 'closed'),
	count(*) FILTER (WHERE status = 'closed' AND due_at IS NOT NULL AND updated_at <= due_at),
	count(*) FILTER (WHERE status = 'closed' AND due_at IS NOT NULL AND updated_at > due_at),
	count(*) FILTER (WHERE status <> 'closed' AND due_at IS NOT NULL AND due_at < $3),
	count(*) FILTER (WHERE due_at IS NULL),
	percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - requested_at) / 3600) FILTER (WHERE status = 'closed'),
	percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - requested_at) / 3600) FILTER (WHERE status = 'closed')
FROM requests WHERE tenant_id = $1 AND requested_at >= $2 GROUP BY ward_id`

func benchReport(ctx context.Context, env Env, args []string) (err error) {
	fs := newFlags(env, "bench report", "bench report [--requests 100000] [--runs 3] [--db URL]", benchReportHelp)
	n := fs.Int("requests", 100_000, "synthetic requests to report on")
	runs := fs.Int("runs", 3, "timed runs of each (best counts)")
	db := fs.String("db", "", "PostgreSQL+PostGIS `URL`")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *n < 1 || *n > 10_000_000 || *runs < 1 || *runs > 20 {
		return usageErrorf("--requests must be in [1, 10000000], --runs in [1, 20]")
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
	st := ps
	now := time.Now().UTC().Truncate(time.Microsecond)
	start := now.AddDate(-1, 0, 0)
	tenant := newTenant("bench-report-")
	defer func() { err = errors.Join(err, dropTenant(context.WithoutCancel(ctx), ps.Pool(), tenant)) }()
	if err := seedReport(ctx, env, st, tenant, *n, start, now, wardIDs(set.Current(now).Wards), catalog.Categories()); err != nil {
		return err
	}
	svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: catalog, Wards: set, Store: st,
		Now: func() time.Time { return now }})
	if err != nil {
		return err
	}
	var rep requests.Report
	best := func(f func() error) (time.Duration, error) {
		b := time.Duration(math.MaxInt64)
		for range *runs {
			t0 := time.Now()
			if err := f(); err != nil {
				return 0, err
			}
			b = min(b, time.Since(t0))
		}
		return b, nil
	}
	goTime, err := best(func() (err error) {
		rep, err = svc.Report(ctx, requests.ReportQuery{By: requests.ByWard, Start: start})
		return err
	})
	if err != nil {
		return err
	}
	peer := map[string]requests.ReportRow{}
	sqlTime, err := best(func() error {
		rows, err := ps.Pool().Query(ctx, reportPeerSQL, tenant, start, now)
		if err != nil {
			return fmt.Errorf("peer report: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r requests.ReportRow
			var med, p90 *float64
			if err := rows.Scan(&r.Key, &r.Received, &r.Open, &r.Closed, &r.ClosedOnTime, &r.ClosedLate, &r.OpenOverdue, &r.NoSLA, &med, &p90); err != nil {
				return fmt.Errorf("peer report: %w", err)
			}
			r.MedianHoursToClose, r.P90HoursToClose = orNaN(med), orNaN(p90)
			peer[r.Key] = r
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	agree := len(peer) == len(rep.Rows)
	for _, r := range rep.Rows {
		p := peer[r.Key]
		if p.Received != r.Received || p.Open != r.Open || p.Closed != r.Closed || p.ClosedOnTime != r.ClosedOnTime ||
			p.ClosedLate != r.ClosedLate || p.OpenOverdue != r.OpenOverdue || p.NoSLA != r.NoSLA ||
			!near(p.MedianHoursToClose, r.MedianHoursToClose) || !near(p.P90HoursToClose, r.P90HoursToClose) {
			agree = false
			fmt.Fprintf(env.Stdout, "ward %s differs: pinward %+v, PostgreSQL %+v\n", r.Key, r, p)
		}
	}
	fmt.Fprintf(env.Stdout, "report by ward, %d requests in %d wards (best of %d): pinward %s, PostgreSQL GROUP BY %s: %.2f× (pinward/PostgreSQL time); reports agree: %v\n",
		rep.Total.Received, len(rep.Rows), *runs, goTime.Round(time.Millisecond), sqlTime.Round(time.Millisecond),
		goTime.Seconds()/sqlTime.Seconds(), agree)
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

func orNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// near: equal within float rounding, or both NaN.
func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(a))
}

// seedReport stores n requests received between start and now, closed
// ones with their close time as last update, with progress on stderr.
func seedReport(ctx context.Context, env Env, st requests.Store, tenant string, n int, start, now time.Time,
	wardIDs []string, cats []requests.Category) error {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		done    int
		firstEr error
	)
	span := now.Sub(start)
	const workers = 16
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := w; i < n; i += workers {
				if ctx.Err() != nil {
					return
				}
				c := cats[rng.IntN(len(cats))]
				at := start.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Microsecond)
				r := requests.Request{TenantID: tenant, ServiceCode: c.Code, Status: requests.Open,
					Point: orb.Point{-73.066, 46.03}, WardID: wardIDs[rng.IntN(len(wardIDs))], Department: c.Department,
					RequestedAt: at, UpdatedAt: at, Lang: "en"}
				if rng.Float64() < 0.9 {
					r.DueAt = at.Add(time.Duration(24+rng.IntN(96)) * time.Hour)
				}
				if rng.Float64() < 0.7 {
					r.Status = requests.Closed
					r.UpdatedAt = at.Add(time.Duration(rng.Int64N(int64(200 * time.Hour)))).Truncate(time.Microsecond)
				}
				_, err := st.CreateRequest(ctx, requests.NewRequest{Request: r,
					Event: requests.Event{TenantID: tenant, At: at, Actor: "bench", Kind: requests.EventCreated, To: r.Status}})
				mu.Lock()
				if err != nil && firstEr == nil {
					firstEr = err
				}
				done++
				if done%(max(n/10, 1)) == 0 {
					fmt.Fprintf(env.Stderr, "bench report: %d/%d requests stored\n", done, n)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if firstEr != nil {
		return fmt.Errorf("store synthetic requests: %w", firstEr)
	}
	return ctx.Err()
}
