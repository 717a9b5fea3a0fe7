package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"time"

	"github.com/paulmach/orb"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/requests"
)

const benchHotspotHelp = `
A busy spot (issue 15): a flooded street or a viral pothole, where everyone
reports at once. For each store, on loopback (the same api handler, Service
and store as pinward serve, without rate limits):

  serial    --serial POSTs one at a time at the point, empty (p50, p99):
            the cost of one report, whatever else the host is doing;
  empty     --rate POSTs per second at one point for --baseline, on an
            empty store: the cost of a report with nothing near it;
  preload   --preload reports stored at that point (closed loop, not
            measured): that many open reports of one cluster there;
  hotspot   --rate POSTs per second at the point for --duration, each
            timed from when it was due (open loop): p50, p99 and failures.

Every report is a pothole (its duplicate rule: 30 m, 14 days) at the same
coordinates, so each one's cluster is chosen among all the reports there.
The target is 0 failures and p99 under 25 ms at 300/s for 60 s after 5,000.
SQLite uses a fresh temporary folder; PostGIS uses --db (default
$PINWARD_DATABASE_URL or $PINWARD_TEST_DATABASE_URL), tenant "hotspot-<time>",
removed at the end; without a URL PostGIS is skipped.
`

func benchHotspot(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "bench hotspot", "bench hotspot [--db URL] [--preload 5000] [--rate 300] [--duration 60s]", benchHotspotHelp)
	db := fs.String("db", "", "PostgreSQL+PostGIS `URL` (default $PINWARD_DATABASE_URL or $PINWARD_TEST_DATABASE_URL)")
	stores := fs.String("stores", "sqlite,postgis", "comma-separated `stores` to measure")
	preload := fs.Int("preload", 5000, "open reports stored at the point before measuring")
	rate := fs.Int("rate", 300, "POSTs per second to the point")
	duration := fs.Duration("duration", 60*time.Second, "length of the hotspot phase")
	baseline := fs.Duration("baseline", 10*time.Second, "length of the empty phase (0 skips it)")
	serialN := fs.Int("serial", 200, "POSTs sent one at a time, before the empty phase and before the hotspot phase (0 skips them)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of each store's hotspot phase to `file`.STORE")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *preload < 0 || *preload > 1_000_000 || *rate < 1 || *rate > 20000 || *duration <= 0 || *duration > 10*time.Minute ||
		*baseline < 0 || *baseline > 10*time.Minute {
		return usageErrorf("--preload must be in [0, 1000000], --rate in [1, 20000], --duration in (0, 10m], --baseline in [0, 10m]")
	}
	set, ix, err := cli.SampleTown(env)
	if err != nil {
		return err
	}
	catalog, err := sampleCatalog()
	if err != nil {
		return err
	}
	// The point: the first asset well inside a ward.
	var spot orb.Point
	now := time.Now()
	ix.Scan(func(a assets.Asset) bool {
		if _, ok := set.Locate(a.Point, now); ok {
			spot = orb.Point{a.Point[0] + 0.0001, a.Point[1]}
			_, ok = set.Locate(spot, now)
			return !ok
		}
		return true
	})
	if spot == (orb.Point{}) {
		return errors.New("the sample town has no point to report at")
	}
	return forEachBenchStore(ctx, env, *stores, *db, "hotspot-", func(bs benchStore, tenant string) error {
		name, st := bs.name, bs.store()
		svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: catalog, Wards: set, Assets: ix, Store: st})
		if err != nil {
			return err
		}
		key, hash := requests.NewAPIKey()
		if _, err := st.CreateAPIKey(ctx, requests.Key{TenantID: tenant, Role: requests.RoleIntegrator, Label: "bench hotspot",
			Hash: hash, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}); err != nil {
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
			points:     []orb.Point{spot},
			client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
				MaxIdleConns: 2048, MaxIdleConnsPerHost: 2048, IdleConnTimeout: time.Minute,
			}},
			seed: 1,
			form: func(uint64) string { return "service_code=pothole&attribute%5Bsize%5D=medium" },
		}
		fmt.Fprintf(env.Stdout, "%-8s %s\n", name, bs.settings(ctx))
		// One client, one POST at a time: what one report costs, whatever
		// else the host is doing.
		serial := func(label string) {
			r := l.closed(ctx, 1, time.Minute, *serialN)
			fmt.Fprintf(env.Stdout, "%-8s %-7s one at a time: %s\n", name, label, r)
		}
		if *serialN > 0 {
			serial("empty")
		}
		if *baseline > 0 {
			r := l.open(ctx, *rate, *baseline, 1_000_000)
			fmt.Fprintf(env.Stdout, "%-8s empty   rate %d for %s: %s\n", name, *rate, *baseline, r)
		}
		if *preload > 0 {
			start := time.Now()
			if err := l.warm(ctx, 16, *preload); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%-8s preload %d reports at the point in %s\n", name, *preload, time.Since(start).Round(time.Millisecond))
		}
		open, err := st.OpenRequestsNear(ctx, requests.ClusterQuery{Tenant: tenant, ServiceCodes: catalog.Equivalents("pothole"),
			Point: spot, Bound: orb.Bound{Min: spot, Max: spot}})
		if err != nil {
			return err
		}
		clusters := map[string]bool{}
		for _, r := range open {
			clusters[r.ClusterID] = true
		}
		fmt.Fprintf(env.Stdout, "%-8s %d open reports at the point, in %d cluster(s)\n", name, len(open), len(clusters))
		if *serialN > 0 {
			serial("hotspot")
		}
		stop, err := startProfile(*cpuProfile, name)
		if err != nil {
			return err
		}
		r := l.open(ctx, *rate, *duration, 1_000_000)
		stop()
		fmt.Fprintf(env.Stdout, "%-8s hotspot rate %d for %s: %s\n", name, *rate, *duration, r)
		return ctx.Err()
	})
}

// startProfile writes a CPU profile to file.store until stop is called;
// nothing when file is "".
func startProfile(file, store string) (stop func(), err error) {
	if file == "" {
		return func() {}, nil
	}
	f, err := os.Create(file + "." + store)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
