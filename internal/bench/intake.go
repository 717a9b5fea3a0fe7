package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/requests"
	"github.com/prometheus/client_golang/prometheus"
)

const benchIntakeHelp = `
Measures Open311 POST requests end to end on loopback: a real HTTP server
in this process (the same api handler, Service and store as pinward serve)
and an in-process load generator, for each store.

Two phases per store, each bounded by --duration and --requests:
  throughput  --concurrency clients POST back to back (closed loop):
              acknowledged requests per second, p50 and p99 latency;
  rate        an open-loop schedule of --rate POSTs per second (latency is
              measured from each request's scheduled time, so a stalled
              server is not hidden): p50 and p99.
Before the phases, --warmup POSTs are stored unmeasured, so they measure a
store in use rather than an empty one. With --runs N each phase runs N
times and a summary line gives the median and the spread (min-max). The load generator shares the machine's cores
with the server and the database.

Requests go to random points next to the sample town's assets, in a few
categories, so ward lookup, asset snapping and duplicate clustering all run.
SQLite uses a fresh temporary folder; PostGIS uses --db (default
$PINWARD_DATABASE_URL or $PINWARD_TEST_DATABASE_URL) and writes tenant
"bench-<time>" rows there, removed at the end; without a URL PostGIS is
skipped. Each store's durability settings are read back and printed
(SQLite's journal mode and synchronous level; the PostgreSQL server's
fsync and synchronous_commit): a throwaway
test server (scripts/with-postgis.sh) runs with fsync off, which flatters
the figures; measure a durable server for numbers to quote.
`

func benchIntake(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "bench intake", "bench intake [--db URL] [--duration 10s] [--concurrency 16] [--rate 500]", benchIntakeHelp)
	db := fs.String("db", "", "PostgreSQL+PostGIS `URL` (default $PINWARD_DATABASE_URL or $PINWARD_TEST_DATABASE_URL)")
	stores := fs.String("stores", "sqlite,postgis", "comma-separated `stores` to measure")
	duration := fs.Duration("duration", 10*time.Second, "length of each phase")
	concurrency := fs.Int("concurrency", 16, "clients in the throughput phase")
	rate := fs.Int("rate", 500, "POSTs per second in the rate phase (0 skips it)")
	maxRequests := fs.Int("requests", 50000, "at most this many POSTs per phase")
	runs := fs.Int("runs", 1, "run each phase this many `times` (summary: median and spread)")
	seed := fs.Uint64("seed", 1, "random `seed` for the points")
	warmup := fs.Int("warmup", 2000, "POSTs stored before measuring (at most --requests)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to `file`")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *duration <= 0 || *duration > 10*time.Minute || *concurrency < 1 || *concurrency > 1024 || *rate < 0 || *rate > 50000 ||
		*maxRequests < 1 || *maxRequests > 1_000_000 || *runs < 1 || *runs > 10 || *warmup < 0 || *warmup > 1_000_000 {
		return usageErrorf("--duration must be in (0, 10m], --concurrency in [1, 1024], --rate in [0, 50000], --requests in [1, 1000000], --runs in [1, 10], --warmup in [0, 1000000]")
	}
	set, ix, err := cli.SampleTown(env)
	if err != nil {
		return err
	}
	catalog, err := sampleCatalog()
	if err != nil {
		return err
	}
	// Points within about 20 m of an asset, and inside a ward: in the town,
	// often near an earlier request (so clustering has work to do).
	var points []orb.Point
	rng := rand.New(rand.NewPCG(*seed, 0))
	now := time.Now()
	ix.Scan(func(a assets.Asset) bool {
		p := orb.Point{a.Point[0] + (rng.Float64()-0.5)*0.0004, a.Point[1] + (rng.Float64()-0.5)*0.0004}
		if _, ok := set.Locate(p, now); ok {
			points = append(points, p)
		}
		return true
	})
	if len(points) == 0 {
		return errors.New("the sample town has no assets to place requests near")
	}

	return forEachBenchStore(ctx, env, *stores, *db, "bench-", func(bs benchStore, tenant string) error {
		name, st := bs.name, bs.store()
		svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: catalog, Wards: set, Assets: ix, Store: st})
		if err != nil {
			return err
		}
		key, hash := requests.NewAPIKey()
		if _, err := st.CreateAPIKey(ctx, requests.Key{TenantID: tenant, Role: requests.RoleIntegrator, Label: "bench", Hash: hash, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}); err != nil {
			return err
		}
		h := api.New(api.Config{Service: svc, Keys: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: prometheus.NewRegistry()})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		l := &loader{
			url:        "http://" + ln.Addr().String() + "/open311/v2/requests.json",
			escapedKey: url.QueryEscape(key),
			points:     points,
			client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
				MaxIdleConns: 2048, MaxIdleConnsPerHost: 2048, IdleConnTimeout: time.Minute,
			}},
			seed: *seed,
		}
		fmt.Fprintf(env.Stdout, "%-8s %s\n", name, bs.settings(ctx))
		if n := min(*warmup, *maxRequests); n > 0 {
			if err := l.warm(ctx, *concurrency, n); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%-8s warmed up with %d requests\n", name, n)
		}
		var closedRuns, rateRuns []result
		for run := range *runs {
			r := l.closed(ctx, *concurrency, *duration, *maxRequests)
			closedRuns = append(closedRuns, r)
			fmt.Fprintf(env.Stdout, "%-8s throughput  %s (%d clients%s)\n", name, r, *concurrency, runLabel(run, *runs))
			if *rate > 0 {
				r = l.open(ctx, *rate, *duration, *maxRequests)
				rateRuns = append(rateRuns, r)
				fmt.Fprintf(env.Stdout, "%-8s rate %-6d %s%s\n", name, *rate, r, runLabel(run, *runs))
			}
		}
		if *runs > 1 {
			fmt.Fprintf(env.Stdout, "%-8s throughput  median of %d: %s\n", name, *runs, summarise(closedRuns))
			if *rate > 0 {
				fmt.Fprintf(env.Stdout, "%-8s rate %-6d median of %d: %s\n", name, *rate, *runs, summarise(rateRuns))
			}
		}
		return ctx.Err()
	})
}

// loader posts valid Open311 submissions and records their latencies.
type loader struct {
	url        string
	escapedKey string
	points     []orb.Point
	client     *http.Client
	seed       uint64
	n          atomic.Uint64
	form       func(i uint64) string // benchForm when nil
}

// benchForm is the i-th submission's category and required attributes,
// form-encoded, cycling through a few categories.
func benchForm(i uint64) string {
	forms := [...]string{
		"service_code=pothole&attribute%5Bsize%5D=medium",
		"service_code=graffiti&attribute%5Boffensive%5D=no",
		"service_code=streetlight_out&attribute%5Bproblem%5D=out",
		"service_code=hydrant_damage&attribute%5Bproblem%5D=leaking",
	}
	return forms[i%uint64(len(forms))]
}

func (l *loader) post(ctx context.Context) error {
	i := l.n.Add(1)
	rng := rand.New(rand.NewPCG(l.seed, i))
	p := l.points[rng.IntN(len(l.points))]
	// Written by hand rather than with url.Values: the load generator
	// shares the cores with the server it measures.
	b := make([]byte, 0, 256)
	if l.form != nil {
		b = append(b, l.form(i)...)
	} else {
		b = append(b, benchForm(i)...)
	}
	b = append(b, "&lat="...)
	b = strconv.AppendFloat(b, p[1], 'f', -1, 64)
	b = append(b, "&long="...)
	b = strconv.AppendFloat(b, p[0], 'f', -1, 64)
	b = append(b, "&api_key="...)
	b = append(b, l.escapedKey...)
	b = append(b, "&description=bench+request+"...)
	b = strconv.AppendUint(b, i, 10)
	req, err := http.NewRequestWithContext(ctx, "POST", l.url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := l.client.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("status %d: %.200s", res.StatusCode, body)
	}
	return nil
}

// warm stores n requests, not measured, so the phases measure a store in
// use rather than an empty one (on a new PostGIS database, the first
// thousand requests also get the tables their first statistics).
func (l *loader) warm(ctx context.Context, concurrency, n int) error {
	r := l.closed(ctx, concurrency, 10*time.Minute, n)
	if r.failed > 0 {
		return fmt.Errorf("warm-up: %d of %d requests failed: %w", r.failed, r.failed+r.ok, r.firstErr)
	}
	return nil
}

// result summarises one phase.
type result struct {
	ok, failed int
	elapsed    time.Duration
	lat        []time.Duration
	firstErr   error
}

func (r result) String() string {
	slices.Sort(r.lat)
	q := func(f float64) time.Duration {
		if len(r.lat) == 0 {
			return 0
		}
		return r.lat[min(len(r.lat)-1, int(f*float64(len(r.lat))))]
	}
	s := fmt.Sprintf("%6d acknowledged, %d failed, %7.0f req/s, p50 %6.2f ms, p99 %6.2f ms",
		r.ok, r.failed, float64(r.ok)/r.elapsed.Seconds(), ms(q(0.50)), ms(q(0.99)))
	if r.firstErr != nil {
		s += fmt.Sprintf(" (first error: %v)", r.firstErr)
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type collector struct {
	mu sync.Mutex
	r  result
}

func (c *collector) add(d time.Duration, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.r.failed++
		if c.r.firstErr == nil {
			c.r.firstErr = err
		}
		return
	}
	c.r.ok++
	c.r.lat = append(c.r.lat, d)
}

// closed runs n clients back to back for d or until max POSTs were sent.
func (l *loader) closed(ctx context.Context, n int, d time.Duration, max int) result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var c collector
	var wg sync.WaitGroup
	var sent atomic.Int64
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && sent.Add(1) <= int64(max) {
				t := time.Now()
				err := l.post(ctx)
				if ctx.Err() != nil {
					return // cut off by the end of the phase, not a failure
				}
				c.add(time.Since(t), err)
			}
		}()
	}
	wg.Wait()
	c.r.elapsed = time.Since(start)
	return c.r
}

// open sends rate requests per second for d on a fixed schedule, each
// timed from when it was due. At most maxInFlight are outstanding; one
// that cannot start counts as failed rather than silently waiting.
func (l *loader) open(ctx context.Context, rate int, d time.Duration, max int) result {
	const maxInFlight = 2048
	var c collector
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxInFlight)
	total := min(max, int(float64(rate)*d.Seconds()))
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := 0; i < total && ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * interval)
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		select {
		case sem <- struct{}{}:
		default:
			c.add(0, errors.New("over 2048 requests in flight"))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := l.post(ctx)
			c.add(time.Since(due), err)
		}()
	}
	wg.Wait()
	c.r.elapsed = time.Since(start)
	return c.r
}

func runLabel(run, runs int) string {
	if runs == 1 {
		return ""
	}
	return fmt.Sprintf(", run %d/%d", run+1, runs)
}

// quantile is the q-quantile of the result's latencies.
func (r result) quantile(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	lat := slices.Clone(r.lat)
	slices.Sort(lat)
	return lat[min(len(lat)-1, int(q*float64(len(lat))))]
}

func (r result) rate() float64 { return float64(r.ok) / r.elapsed.Seconds() }

// summarise gives the median of each figure over several runs and its
// spread (min-max), and the failures in all.
func summarise(rs []result) string {
	med := func(f func(result) float64) (m, lo, hi float64) {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2], v[0], v[len(v)-1]
	}
	rate, rlo, rhi := med(result.rate)
	p50, p50lo, p50hi := med(func(r result) float64 { return ms(r.quantile(0.5)) })
	p99, p99lo, p99hi := med(func(r result) float64 { return ms(r.quantile(0.99)) })
	failed := 0
	for _, r := range rs {
		failed += r.failed
	}
	return fmt.Sprintf("%.0f req/s (%.0f-%.0f), p50 %.2f ms (%.2f-%.2f), p99 %.2f ms (%.2f-%.2f), %d failed",
		rate, rlo, rhi, p50, p50lo, p50hi, p99, p99lo, p99hi, failed)
}

// pgSettings describes the PostgreSQL server the bench measures, for the
// figures to be read right: without fsync a commit is not durable.
func pgSettings(ctx context.Context, pool *pgxpool.Pool) string {
	var version, fsync, syncCommit string
	err := pool.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('fsync'),
		current_setting('synchronous_commit')`).Scan(&version, &fsync, &syncCommit)
	if err != nil {
		return "PostgreSQL settings unknown: " + err.Error()
	}
	s := fmt.Sprintf("PostgreSQL %s, fsync=%s, synchronous_commit=%s, pool_max_conns=%d",
		version, fsync, syncCommit, pool.Config().MaxConns)
	if fsync != "on" || syncCommit == "off" {
		s += " (NOT durable: a crash may lose acknowledged requests, and the figures flatter a real server)"
	}
	return s
}
