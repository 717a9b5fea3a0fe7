package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	// The municipality's time zone (SLA due times, local dates) must load
	// on hosts and containers without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/live"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
	"github.com/pinward/pinward/store/sqlite"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

const serveHelp = `
Serves pinward over HTTP:
  /open311/v2/...             Open311 GeoReport v2 (JSON and XML); POST needs a key
  /api/v1/locate              ward, nearest asset and open issues at a point (public)
  /api/v1/clusters...         staff cluster map API: list, merge, split, close (staff key)
  /api/v1/requests/{id}/...   a request's events and reporter details (staff key)
  /api/v1/reports/...         council reports, JSON or CSV (staff key)
  /api/v1/assets/...          asset sync and change feed (integrator key)
  /api/v1/workorders...       work-order status back (integrator key), dead letters (staff key)
  /tiles/...                  vector tiles and TileJSON: wards, assets, requests, clusters
  /media/{id}.jpg             residents' photos, public once staff approve them (/api/v1/media/{id}/approve)
  /api/v1/requests/{id}/flag  a resident's "report this"; staff moderate under /api/v1/flags and .../description
  /, /r/{id}, /staff, /staff/reports, /static/...
                              the resident, status, staff map and reports pages (not with --no-web)
  /healthz, /metrics          store health, Prometheus metrics
README.md's "Who may call what" lists which key each route needs.

By default it runs the bundled sample municipality on the embedded SQLite
store in --data-dir (created if missing); --db postgres://... uses PostGIS
instead. Migrations are applied at start. --wards, --assets and
--categories replace the sample's files.

Submitting a request needs an API key: create one with
  pinward keys create --role integrator

Every flag can also be set in the environment as PINWARD_<FLAG>, upper case
with - as _ (PINWARD_ADDR, PINWARD_DATA_DIR, PINWARD_DB...); a flag on the
command line wins. SIGINT or SIGTERM stops the server gracefully.
`

// shutdownTimeout is how long in-flight requests get to finish on SIGTERM.
const shutdownTimeout = 20 * time.Second

func runServe(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "serve", "serve [--addr :8080] [--data-dir ./var | --db postgres://...] [flags]", serveHelp)
	addr := fs.String("addr", ":8080", "`address` to listen on")
	var sf spatialFlags
	sf.register(fs)
	var stf storeFlags
	stf.register(fs)
	var wof workorderFlags
	wof.register(fs)
	var rf retentionFlags
	rf.register(fs)
	categories := fs.String("categories", "", "service catalog `JSON` (default: the bundled sample's)")
	tenant := fs.String("tenant", "sample", "the municipality's tenant `id`, stored on every row")
	jurisdiction := fs.String("jurisdiction", "", "Open311 jurisdiction_id this server answers to (default: the tenant)")
	maxBody := fs.Int64("max-body", api.DefaultMaxBody, "request body limit in `bytes`")
	var lf logFlags
	lf.register(fs)
	var wf webFlags
	wf.register(fs)
	var af assetFlags
	af.register(fs)
	var pf publicFlags
	pf.register(fs)
	given, err := parseEnvFlags(fs, env, args)
	if err != nil {
		return err
	}
	if err := stf.check(given); err != nil {
		return err
	}
	if err := pf.check(); err != nil {
		return err
	}
	log, err := lf.logger(env)
	if err != nil {
		return err
	}

	catalog, err := loadCatalog(*categories)
	if err != nil {
		return err
	}
	set, ix, err := sf.load(env)
	if err != nil {
		return err
	}
	st, closeStore, err := stf.open(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	// Before anything starts goroutines: a refused --web-key stops here.
	pages, err := wf.pages(ctx, st, *tenant, set, log)
	if err != nil {
		return err
	}
	stream := live.New(live.Config{Store: st, Tenant: *tenant, Poll: af.pollEvery(stf.db != ""), Log: log})
	assetView, assetAPI, err := af.start(ctx, st, ix, *tenant, stream, log)
	if err != nil {
		return err
	}
	ix = assetView.Index()
	tl, err := live.NewTiler(set, ix)
	if err != nil {
		return err
	}
	wo, err := wof.setup(ctx, env, log, catalog, *tenant, st)
	if err != nil {
		return err
	}
	defer wo.stop() // before the store closes
	stopPurge, err := rf.start(ctx, st, *tenant, log)
	if err != nil {
		return err
	}
	defer stopPurge() // before the store closes
	svc, err := requests.NewService(requests.ServiceConfig{Tenant: *tenant, Catalog: catalog, Wards: set, Assets: ix, Store: st, SendsWorkOrders: wo.sends,
		PhotosPublic: pf.photosPublic()})
	if err != nil {
		return usageError{err}
	}
	// The views every change of the store reaches, whichever server made
	// it: the asset index first, then the tiles, which read it.
	stream.Register("assets", assetView, requests.ChangeAsset)
	stream.Register("tiles", live.NewTiles(st, *tenant, tl, ix), requests.ChangeRequest, requests.ChangeAsset)
	if err := stream.Start(ctx); err != nil {
		return err
	}
	defer stream.Stop() // before the store closes

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(stream.Collectors()...)
	limiter, err := pf.limiter(reg)
	if err != nil {
		return err
	}
	h := api.New(api.Config{
		Service: svc, Keys: st, Jurisdiction: *jurisdiction,
		Logger: log, Metrics: reg, MaxBody: *maxBody,
		WorkOrders: st,
		Web:        pages,
		Tiles:      tl,
		Assets:     assetAPI,
		PublicURL:  pf.publicURL,
		Limiter:    limiter,
	})
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return usageErrorf("--addr: %v", err)
	}
	// The actual address (with --addr :0 the port is chosen here) goes to
	// stdout so scripts and tests can find the server.
	fmt.Fprintf(env.Stdout, "pinward: listening on http://%s\n", ln.Addr())
	log.InfoContext(ctx, "serving", "addr", ln.Addr().String(), "store", stf.describe(), "tenant", *tenant,
		"hint", "POST requests needs an API key: pinward keys create --role integrator")

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	log.InfoContext(ctx, "shutting down", "timeout", shutdownTimeout)
	// The signal context is done; in-flight requests finish on a fresh one.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	log.InfoContext(ctx, "stopped")
	return nil
}

func loadCatalog(file string) (*requests.Catalog, error) {
	b, name := data.SampleCategoriesJSON(), "bundled sample categories"
	if file != "" {
		var err error
		if b, err = os.ReadFile(file); err != nil {
			return nil, usageErrorf("--categories: %v", err)
		}
		name = file
	}
	c, err := requests.LoadCatalog(bytes.NewReader(b))
	if err != nil {
		return nil, usageErrorf("category file %s: %v", name, err)
	}
	return c, nil
}

// appStore is the store every command opens: one interface, both stores.
type appStore = requests.Store

// storeFlags choose the store: PostGIS when --db is set, else SQLite in
// --data-dir. Shared by serve, migrate and keys.
type storeFlags struct {
	dataDir, db string
}

func (sf *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&sf.dataDir, "data-dir", "./var", "`folder` of the embedded SQLite store, created if missing")
	fs.StringVar(&sf.db, "db", "", "PostGIS database `URL` (postgres://...) instead of the embedded store")
}

// check refuses --data-dir and --db together on the command line (the
// caller would not know which store got the write), and lets a --data-dir
// on the command line win over PINWARD_DB in the environment.
func (sf *storeFlags) check(given map[string]bool) error {
	switch {
	case given["data-dir"] && given["db"]:
		return usageErrorf("give --data-dir or --db, not both")
	case given["data-dir"]:
		sf.db = ""
	}
	return nil
}

func (sf *storeFlags) sqlitePath() string { return filepath.Join(sf.dataDir, "pinward.db") }

func (sf *storeFlags) describe() string {
	if sf.db != "" {
		return "postgis"
	}
	return "sqlite:" + sf.sqlitePath()
}

// open opens (and migrates) the chosen store.
func (sf *storeFlags) open(ctx context.Context) (appStore, func(), error) {
	if sf.db != "" {
		s, err := postgis.Open(ctx, sf.db)
		if err != nil {
			return nil, nil, err
		}
		return s, s.Close, nil
	}
	if sf.dataDir == "" {
		return nil, nil, usageErrorf("--data-dir is empty")
	}
	s, err := sqlite.Open(ctx, sf.sqlitePath())
	if err != nil {
		return nil, nil, err
	}
	return s, func() { s.Close() }, nil
}

// logFlags choose the logger main owns.
type logFlags struct {
	format, level string
}

func (lf *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&lf.format, "log-format", "text", "log `format` on stderr: text or json")
	fs.StringVar(&lf.level, "log-level", "info", "log `level`: debug (every request), info, warn or error")
}

func (lf *logFlags) logger(env Env) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(lf.level)); err != nil {
		return nil, usageErrorf("--log-level: %q is not debug, info, warn or error", lf.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch lf.format {
	case "text":
		return slog.New(slog.NewTextHandler(env.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(env.Stderr, opts)), nil
	}
	return nil, usageErrorf("--log-format: %q is not text or json", lf.format)
}

// parseEnvFlags parses args, then gives every flag not on the command line
// the value of PINWARD_<FLAG> when that is set, so a container can be
// configured by its environment alone.
// It returns the flags given on the command line.
func parseEnvFlags(fs *flag.FlagSet, env Env, args []string) (map[string]bool, error) {
	if err := parseFlags(fs, env, args); err != nil {
		return nil, err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "PINWARD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := env.Getenv(name)
		if given[f.Name] || v == "" || err != nil {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = usageErrorf("%s: %v", name, e)
		}
	})
	return given, err
}
