package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/internal/storeflags"

	// The municipality's time zone (SLA due times, local dates) must load
	// on hosts and containers without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/dispatch"
	"github.com/pinward/pinward/escalate"
	"github.com/pinward/pinward/live"
	"github.com/pinward/pinward/mailer"
	"github.com/pinward/pinward/opsmetrics"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

const serveHelp = `
Serves pinward over HTTP:
  /open311/v2/...             Open311 GeoReport v2 (JSON and XML); POST needs a key
  /api/v1/locate              ward, nearest asset and open issues at a point; /api/v1/addresses (--addresses)
  /api/v1/clusters...         staff cluster map API: list, merge, split, close (staff key)
  /api/v1/requests/{id}/...   a request's events and reporter details (staff key)
  /api/v1/reports/...         council reports, JSON or CSV (staff key)
  /api/v1/queue               department queue with SLA state (staff key)
  /api/v1/assets/...          asset sync and change feed (integrator key)
  /api/v1/workorders...       work-order status back (integrator key), dead letters (staff key)
  /tiles/..., /basemap/...    vector tiles and TileJSON: wards, assets, requests, clusters; streets
  /media/{id}.jpg             residents' photos, public once staff approve them (/api/v1/media/{id}/approve)
  /api/v1/requests/{id}/flag  a resident's "report this"; staff moderate under /api/v1/flags and .../description
  /, /r/{id}, /staff, /staff/reports, /staff/queue, /static/..., /sw.js
                              the resident, status, staff map and reports pages (not with --no-web)
  /healthz, /metrics          store health, Prometheus metrics (/metrics on --metrics-addr alone when given)
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
	metricsAddr := fs.String("metrics-addr", "", "serve /metrics on this `address` only (e.g. 127.0.0.1:9090), not on --addr")
	var sf cli.SpatialFlags
	sf.Register(fs)
	var stf storeflags.Flags
	stf.Register(fs)
	var wof dispatch.Flags
	wof.Register(fs)
	var rf retentionFlags
	rf.register(fs)
	categories := fs.String("categories", "", "service catalog `JSON` (default: the bundled sample's)")
	tenant := fs.String("tenant", "sample", "the municipality's tenant `id`, stored on every row")
	jurisdiction := fs.String("jurisdiction", "", "Open311 jurisdiction_id this server answers to (default: the tenant)")
	maxBody := fs.Int64("max-body", api.DefaultMaxBody, "request body limit in `bytes`")
	escalateEvery := fs.Duration("escalation-every", escalate.DefaultEvery, "how often to look for escalation levels due (`duration`)")
	var lf cli.LogFlags
	lf.Register(fs)
	var wf web.Flags
	wf.Register(fs)
	mapf := cli.RegisterMapFlags(fs)
	var af assetFlags
	af.register(fs)
	var mf mailer.Flags
	mf.Register(fs)
	var pf publicFlags
	pf.register(fs)
	if err := stf.Parse(fs, env, args); err != nil {
		return err
	}
	if err := pf.check(); err != nil {
		return err
	}
	log, err := lf.Logger(env)
	if err != nil {
		return err
	}

	catalog, err := cli.LoadCatalog(*categories)
	if err != nil {
		return err
	}
	set, ix, err := sf.LoadIn(env, catalog.Location())
	if err != nil {
		return err
	}
	st, closeStore, err := stf.Open(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	bm, ad, err := mapf.Load(env, len(sf.Wards) == 0 && wf.Basemap == "")
	if err != nil {
		return err
	}
	defer mapf.Close()
	// Before anything starts goroutines: a refused --web-key stops here.
	var pages http.Handler
	if !wf.Off {
		key, err := requests.PageKey(ctx, st, *tenant, wf.Key, time.Now())
		if errors.Is(err, requests.ErrUnfitPageKey) {
			return usageError{err}
		} else if err != nil {
			return err
		}
		if pages, err = wf.Pages(key, requests.PageBounds(set, time.Now()), bm != nil, ad != nil); err != nil {
			return err
		}
		log.InfoContext(ctx, "web pages", "resident", "/", "staff", "/staff", "basemap", wf.Basemap != "")
	}
	stream := live.New(live.Config{Store: st, Tenant: *tenant, Poll: af.pollEvery(stf.DB != ""), Log: log})
	assetView, assetAPI, err := af.start(ctx, st, ix, *tenant, stream, log)
	if err != nil {
		return err
	}
	ix = assetView.Index()
	tl, err := live.NewTiler(set, ix)
	if err != nil {
		return err
	}
	woCfg, err := wof.Config(catalog, env.Getenv, *tenant, st, log)
	if err != nil {
		return usageError{err}
	}
	stopWO, err := dispatch.StartSending(ctx, woCfg)
	if err != nil {
		return err
	}
	defer stopWO() // before the store closes
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ops, err := opsmetrics.New(reg, st, *tenant, log)
	if err != nil {
		return err
	}
	stopPurge, err := rf.start(ctx, st, *tenant, log, ops.PurgeRan)
	if err != nil {
		return err
	}
	defer stopPurge() // before the store closes
	svc, err := requests.NewService(requests.ServiceConfig{Tenant: *tenant, Catalog: catalog, Wards: set, Assets: ix, Store: st, SendsWorkOrders: woCfg.Sends(),
		PhotosPublic: pf.photosPublic()})
	if err != nil {
		return usageError{err}
	}
	// The views every change of the store reaches, whichever server made
	// it: the asset index first, then the tiles, which read it.
	stream.Register("assets", assetView, requests.ChangeAsset)
	tilesView := live.NewTiles(st, *tenant, tl, ix)
	stream.Register("tiles", tilesView, requests.ChangeRequest, requests.ChangeAsset)
	esc := escalate.Config{Store: st, Catalog: catalog, Tenant: *tenant, Every: *escalateEvery, Log: log}
	stream.Register("escalation", escalate.NewView(esc), requests.ChangeRequest)
	if err := stream.Start(ctx); err != nil {
		return err
	}
	defer stream.Stop()                                  // before the store closes
	defer svc.StartAutoClose(ctx, 10*time.Minute, log)() // requests waiting on residents too long close as no_response
	defer escalate.Start(ctx, esc)()                     // the escalation sweeper; stopped before the store closes
	defer tilesView.Watch(ctx, 30*time.Second)()         // requests turn overdue on the map without a change
	defer live.WatchWards(ctx, set, tl, nil)()           // the ward layer follows the generation in force

	links, err := mailer.LinkKeys(ctx, st, *tenant)
	if err != nil {
		return err
	}
	reg.MustRegister(stream.Collectors()...)
	limiter, err := pf.limiter(reg)
	if err != nil {
		return err
	}
	h := api.New(api.Config{
		Service: svc, Keys: st, Jurisdiction: *jurisdiction,
		Logger: log, Metrics: reg, MaxBody: *maxBody, Basemap: bm, Addresses: ad,
		WorkOrders:  st,
		Incidents:   st,
		Web:         pages,
		Tiles:       tl,
		Assets:      assetAPI,
		NoMetrics:   *metricsAddr != "",
		PageOrigins: wf.Origins(),
		Queue:       st,
		Mail:        api.MailAPI{Store: st, Links: links, Feedback: st, Rights: st},
		PublicURL:   pf.publicURL,
		Limiter:     limiter,
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return usageErrorf("--addr: %v", err)
	}
	// The actual address (with --addr :0 the port is chosen here) goes to
	// stdout so scripts and tests can find the server.
	fmt.Fprintf(env.Stdout, "pinward: listening on http://%s\n", ln.Addr())
	log.InfoContext(ctx, "serving", "addr", ln.Addr().String(), "store", stf.Describe(), "tenant", *tenant,
		"hint", "POST requests needs an API key: pinward keys create --role integrator")

	stopMail, err := mf.Start(ctx, env.Getenv, ln.Addr(), mailer.ServeConfig{PublicURL: pf.publicURL, Tenant: *tenant,
		Store: st, Catalog: catalog, Links: links, Logger: log})
	if err != nil {
		ln.Close()
		return usageErrorf("--smtp: %v", err)
	}
	defer stopMail() // before the store closes
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			ln.Close()
			return usageErrorf("--metrics-addr: %v", err)
		}
		fmt.Fprintf(env.Stdout, "pinward: metrics on http://%s/metrics\n", mln.Addr())
		defer opsmetrics.Serve(mln, reg, log).Close()
	}
	return api.Run(ctx, api.Server(h, log), ln, shutdownTimeout, log)
}
