// Package api is pinward's HTTP surface, one chi router (New):
//
//   - Open311 GeoReport v2 at /open311/v2/ (JSON and XML);
//   - /api/v1/locate, what the resident page shows before submitting;
//   - the staff API: /api/v1/clusters (list, merge, split, close),
//     /api/v1/requests/{id}/events and /reporter, /api/v1/reports,
//     /api/v1/workorders (dead letters, retry), /api/v1/assets/retired-open;
//   - the integrators' API: /api/v1/assets (sync and change feed) and
//     /api/v1/workorders/{id}/status;
//   - vector tiles and TileJSON under /tiles/;
//   - the pages (package web, wired in by main) at /, /r/{id}, /staff,
//     /staff/reports and /static/, gzipped;
//   - the resident's rights: /api/v1/rights/link, /open and /file, and
//     the admins' log /api/v1/rights/requests (rights.go);
//   - /healthz and /metrics.
//
// Routes that need a key are mounted in groups by the roles that may call
// them, behind one middleware that authenticates the key (auth.go); the
// README's "Who may call what" table is the contract and TestRoutesByRole
// holds the router to it.
//
// It turns HTTP into requests.Service calls and errors into HTTP: every
// error below carries an i18n kind, and Status is the one place a kind
// becomes a status code. Bodies are in the Open311 error format with a
// bilingual extension (see errorBody). api never imports a store; the
// caller wires one in through Config.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/pinward/pinward/addresses"
	"github.com/pinward/pinward/basemap"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/photo"
	"github.com/pinward/pinward/ratelimit"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/tiles"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultMaxBody is the request body limit when Config.MaxBody is zero:
// far more than any Open311 submission (a 4,000-character description and
// a few attributes) needs.
const DefaultMaxBody = 1 << 20

// Config is what New wires together.
type Config struct {
	Service *requests.Service // required
	Keys    requests.KeyStore // required: POST requests checks api_key against it
	// Jurisdiction is the Open311 jurisdiction_id this server answers to; a
	// request naming another gets 404. Empty means the Service's tenant.
	Jurisdiction string
	Logger       *slog.Logger // slog.Default() when nil
	// Metrics registers the HTTP metrics; /metrics serves it when it is
	// also a prometheus.Gatherer (a *prometheus.Registry is both). Nil:
	// a registry of the handler's own.
	Metrics prometheus.Registerer
	MaxBody int64 // bytes; DefaultMaxBody when zero
	// Health reports whether the store answers, for /healthz. Nil: a
	// one-row list through the Service.
	Health func(context.Context) error
	Now    func() time.Time // time.Now when nil; the default GET window ends now
	// Web serves the resident and staff pages (package web); nil: none.
	Web http.Handler
	// WorkOrders serves /api/v1/workorders (status back, dead letters);
	// nil: no such routes.
	WorkOrders requests.OutboxStore
	// Assets configures the asset sync API (/api/v1/assets, see
	// assets.go); a nil Assets.Store: no such routes.
	Assets AssetAPI
	// Tiles serves /tiles/... (see mountTiles); nil: no tiles.
	Tiles *tiles.Tiler
	// PageOrigins are origins the pages fetch from besides pinward (the
	// basemap style's, e.g. "https://tiles.example.org"), added to the
	// Content-Security-Policy.
	PageOrigins []string
	// NoMetrics leaves /metrics unmounted: main serves it on a listener
	// of its own (--metrics-addr).
	NoMetrics bool
	// Queue serves the department queue /api/v1/queue (queue.go); nil:
	// no such route.
	Queue requests.QueueStore
	// Mail, when set, mounts the mail outbox for admins and the
	// unsubscribe links (api/mail.go).
	Mail MailAPI
	// Incidents keeps the confidentiality-incident register
	// (/api/v1/incidents, admin only); nil: no such routes.
	Incidents requests.IncidentStore
	// Basemap serves pinward's own street tiles under /basemap/, and
	// Addresses the address search /api/v1/addresses (mapui.go); nil: none.
	Basemap   *basemap.Archive
	Addresses *addresses.Index
	// Limiter limits submissions, locate and tiles per client IP, API key
	// and device (see limits.go); nil: no limits.
	Limiter *ratelimit.Limiter
	// Photos bounds uploaded photos; zero: photo.DefaultLimits().
	Photos photo.Limits
	// PublicURL is the scheme and host residents reach pinward at
	// (https://311.example.ca), for the absolute media_url of photos;
	// empty: the request's own host.
	PublicURL string
}

type handler struct {
	svc          *requests.Service
	keys         requests.KeyStore
	jurisdiction string
	log          *slog.Logger
	maxBody      int64
	health       func(context.Context) error
	now          func() time.Time
	m            *metrics
	csp          string               // Content-Security-Policy of every answer
	inFlight     inFlight             // Idempotency-Keys being processed
	workOrders   requests.OutboxStore // nil: no work-order routes
	mail         MailAPI
	photos       photo.Limits
	decoding     chan struct{} // photos being decoded now (see processPhotos)
	publicURL    string
	limiter      *ratelimit.Limiter // nil: no limits
}

// New returns the HTTP handler of cfg. It panics when Service or Keys is
// nil: that is a wiring bug in main, not a runtime condition.
func New(cfg Config) http.Handler {
	if cfg.Service == nil || cfg.Keys == nil {
		panic("api: Config.Service and Config.Keys are required")
	}
	h := &handler{
		svc:          cfg.Service,
		keys:         newKeyCache(cfg.Keys),
		jurisdiction: cfg.Jurisdiction,
		log:          cfg.Logger,
		maxBody:      cfg.MaxBody,
		health:       cfg.Health,
		now:          cfg.Now,
		photos:       cfg.Photos,
		decoding:     make(chan struct{}, max(2, runtime.NumCPU())),
		publicURL:    strings.TrimSuffix(cfg.PublicURL, "/"),
		limiter:      cfg.Limiter,
	}
	if h.photos == (photo.Limits{}) {
		h.photos = photo.DefaultLimits()
	}
	if h.jurisdiction == "" {
		h.jurisdiction = cfg.Service.Tenant()
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBody
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.health == nil {
		h.health = func(ctx context.Context) error {
			_, err := cfg.Service.List(ctx, requests.Filter{Limit: 1})
			return err
		}
	}
	reg := cfg.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	h.m = newMetrics(reg)
	h.csp = pagePolicy(cfg.PageOrigins)

	h.mail = cfg.Mail
	if cfg.WorkOrders != nil {
		h.workOrders = requests.ScopedWorkOrders(cfg.WorkOrders)
	}
	var assetSync *assetAPI
	if cfg.Assets.Store != nil {
		if cfg.Assets.MaxBody <= 0 {
			cfg.Assets.MaxBody = DefaultMaxAssetBody
		}
		assetSync = &assetAPI{handler: h, cfg: cfg.Assets}
	}

	r := chi.NewRouter()
	r.Use(h.recoverer, h.instrument, h.negotiate, h.secure)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) { h.writeError(w, r, errNotFound()) })
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) { h.writeError(w, r, errMethod()) })

	// Public: no key; nothing here reveals a reporter.
	r.Get("/healthz", h.healthz)
	if g, ok := reg.(prometheus.Gatherer); ok && !cfg.NoMetrics {
		r.Get("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}).ServeHTTP)
	}
	r.Get("/open311/v2/services.{format}", h.listServices)
	r.Get("/open311/v2/services/{code}.{format}", h.serviceDefinition)
	r.Get("/open311/v2/requests.{format}", h.listRequests)
	r.Get("/open311/v2/requests/{id}.{format}", h.getRequest)
	r.Get("/open311/v2/tokens/{token}.{format}", h.getToken)
	r.With(h.limit(ratelimit.Locate)).Get("/api/v1/locate", h.locate)
	r.Get("/api/v1/requests/{ref}/history", h.requestHistory)
	h.mountUpdates(r)
	h.mountNotice(r)
	h.mountTiles(r.With(h.limit(ratelimit.Tiles)), cfg.Tiles)
	h.mountWeb(r, cfg.Web)
	h.mountMap(r, cfg.Basemap, cfg.Addresses)
	h.mountUnsubscribe(r)
	h.mountFeedback(r)

	// Keyed routes, in groups by the roles that may call them (auth.go).
	r.Group(func(r chi.Router) {
		r.Use(h.readPost, h.require(submitters...), h.limitSubmitter) // Open311 puts the key in the body
		r.Post("/open311/v2/requests.{format}", h.postRequest)
	})
	r.Group(func(r chi.Router) {
		r.Use(h.require(integrators...))
		if assetSync != nil {
			r.Put("/api/v1/assets/{layer}", assetSync.upsert)
			r.Delete("/api/v1/assets/{layer}/{id}", assetSync.retire)
			r.Get("/api/v1/assets/changes", assetSync.changes)
		}
	})
	r.Group(func(r chi.Router) {
		r.Use(h.require(statusReporters...))
		if h.workOrders != nil {
			r.Post("/api/v1/workorders/{id}/status", h.workOrderStatus)
		}
	})
	staff := r.Group(func(r chi.Router) { r.Use(h.require(staffers...)) })
	h.mountMedia(r, staff)
	h.mountModeration(r, staff)
	h.mountBlockList(staff)
	r.Group(func(r chi.Router) {
		r.Use(h.require(staffers...))
		r.Get("/api/v1/clusters", h.listClusters)
		r.Get("/api/v1/clusters/{id}", h.getCluster)
		r.Post("/api/v1/clusters/{id}/merge", h.mergeCluster)
		r.Post("/api/v1/clusters/{id}/split", h.splitCluster)
		r.Post("/api/v1/clusters/{id}/close", h.closeCluster)
		r.Get("/api/v1/requests/{id}/events", h.requestEvents)
		r.Get("/api/v1/requests/{id}/reporter", h.requestReporter)
		r.Get("/api/v1/reports/{by}.{format}", h.report)
		h.mountStaffFlow(r)
		h.mountQueue(r, cfg.Queue)
		if h.workOrders != nil {
			r.Get("/api/v1/workorders", h.listWorkOrders)
			r.Post("/api/v1/workorders/{id}/retry", h.retryWorkOrder)
		}
		if assetSync != nil {
			r.Get("/api/v1/assets/retired-open", assetSync.retiredOpen)
		}
	})
	r.Group(func(r chi.Router) {
		r.Use(h.require(admins...)) // admin keys also pass every group above
		h.mountMailAdmin(r)
		h.mountIncidents(r, cfg.Incidents)
	})
	h.mountRights(r, r.With(h.require(admins...)))
	return r
}

func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := h.health(ctx); err != nil {
		h.log.ErrorContext(ctx, "health check failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// metrics are the HTTP metrics, on the registry main passes in (never the
// global one, so tests and several handlers do not collide).
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pinward_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pinward_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	m.requests = register(reg, m.requests)
	m.latency = register(reg, m.latency)
	return m
}

// register registers c, or reuses the collector already registered under
// its name (a second handler on the same registry shares the series).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic("api: registering metrics: " + err.Error())
	}
	return c
}

// statusWriter remembers the status a handler wrote, for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// instrument counts and times every request by its route pattern (not its
// path, so IDs do not explode the label set).
func (h *handler) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		h.m.requests.WithLabelValues(route, r.Method, strconv.Itoa(sw.status)).Inc()
		h.m.latency.WithLabelValues(route, r.Method).Observe(d.Seconds())
		h.log.DebugContext(r.Context(), "http", "method", r.Method, "route", route, "status", sw.status, "duration", d)
	})
}

// recoverer turns a panic in a handler into a logged, generic 500 instead
// of a dropped connection.
func (h *handler) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				h.writeError(w, r, &i18n.Error{Kind: i18n.Internal, Err: errors.New("panic: " + stringOf(v))})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func stringOf(v any) string {
	switch v := v.(type) {
	case error:
		return v.Error()
	case string:
		return v
	}
	return "non-error panic value"
}
