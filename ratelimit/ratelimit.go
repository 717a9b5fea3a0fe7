// Package ratelimit limits what one client may ask of pinward's public
// routes — submissions, locate, flags, tiles — per client IP, per API key
// and per device ID, with token buckets (golang.org/x/time/rate). A client
// over a limit gets 429 with Retry-After and pinward's bilingual error
// body; refusals are counted for /metrics.
//
// The buckets live in this process: behind a load balancer each server
// counts on its own, so a client spread over N servers gets up to N times
// the limit.
package ratelimit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/pinward/pinward/i18n"
)

// KindTooMany is the error kind of a refusal, answered with 429. i18n has
// no kind for it; the api maps it when it writes such an error itself.
const KindTooMany i18n.Kind = "too_many_requests"

// Config sets up a Limiter. Only Registerer is required.
type Config struct {
	// Limits per class; Defaults() when nil. A class missing from the
	// map is not limited.
	Limits map[Class]Limits
	// TrustedProxies are the peers whose ProxyHeader is believed (the
	// --trusted-proxies flag, see ParseTrustedProxies). Empty: the client
	// is always the direct peer.
	TrustedProxies []netip.Prefix
	// ProxyHeader is the header the trusted proxies write:
	// HeaderXForwardedFor (the default) or HeaderForwarded.
	ProxyHeader string
	// APIKeyOf returns the API key a request is counted under; "" for
	// none. The default reads the X-Api-Key header, then the api_key query
	// parameter. The resident page's public key is shared by every
	// resident: limiting it per key would let one abuser lock all of them
	// out, so a caller should return "" for it (its users are still
	// limited per IP and per device).
	APIKeyOf func(*http.Request) string
	// DeviceOf returns the device ID a request is counted under; "" for
	// none. The default reads the device_id query parameter (Open311's
	// name). A device_id sent in a form body is the caller's to check
	// with Allow once it has read the form.
	DeviceOf func(*http.Request) string
	// WriteError answers a refusal; Retry-After is already set. The
	// default writes pinward's error body (as package api does) with
	// status 429.
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
	// Registerer receives pinward_ratelimit_refused_total.
	Registerer prometheus.Registerer

	now func() time.Time // tests
}

// Limiter holds the buckets of every client seen recently.
type Limiter struct {
	limits  map[Class]Limits
	proxies proxies
	keyOf   func(*http.Request) string
	devOf   func(*http.Request) string
	write   func(http.ResponseWriter, *http.Request, error)
	now     func() time.Time
	refused *prometheus.CounterVec

	mu        sync.Mutex
	buckets   map[bucketKey]*bucket
	lastSweep time.Time
}

type bucketKey struct {
	class Class
	by    By
	id    string
}

type bucket struct {
	lim  *rate.Limiter
	full time.Duration // idle this long, the bucket is full again: forget it
	last atomic.Int64  // unix nanoseconds of the last use
}

// sweepEvery is how often buckets idle long enough to be full are dropped,
// so memory follows the clients of the last few minutes, not of all time.
const sweepEvery = time.Minute

// New returns a Limiter and registers its counter.
func New(cfg Config) (*Limiter, error) {
	if cfg.Registerer == nil {
		return nil, errors.New("ratelimit: a prometheus Registerer is required")
	}
	l := &Limiter{
		limits:  cfg.Limits,
		proxies: proxies{trusted: cfg.TrustedProxies, header: cfg.ProxyHeader},
		keyOf:   cfg.APIKeyOf,
		devOf:   cfg.DeviceOf,
		write:   cfg.WriteError,
		now:     cfg.now,
		buckets: map[bucketKey]*bucket{},
	}
	if l.limits == nil {
		l.limits = Defaults()
	}
	switch l.proxies.header {
	case "":
		l.proxies.header = HeaderXForwardedFor
	case HeaderXForwardedFor, HeaderForwarded:
	default:
		return nil, fmt.Errorf("ratelimit: proxy header %q is neither %s nor %s", cfg.ProxyHeader, HeaderXForwardedFor, HeaderForwarded)
	}
	if l.keyOf == nil {
		l.keyOf = defaultAPIKey
	}
	if l.devOf == nil {
		l.devOf = func(r *http.Request) string { return r.URL.Query().Get("device_id") }
	}
	if l.write == nil {
		l.write = WriteError
	}
	if l.now == nil {
		l.now = time.Now
	}
	l.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pinward_ratelimit_refused_total",
		Help: "Requests refused with 429, by route class and by what the limit counts (ip, key, device).",
	}, []string{"class", "by"})
	if err := cfg.Registerer.Register(l.refused); err != nil {
		return nil, fmt.Errorf("ratelimit: register metrics: %w", err)
	}
	for c, lim := range l.limits {
		for _, by := range []By{ByIP, ByKey, ByDevice} {
			if !lim.rate(by).unlimited() {
				l.refused.WithLabelValues(string(c), string(by)) // show zeros
			}
		}
	}
	return l, nil
}

func defaultAPIKey(r *http.Request) string {
	if k := r.Header.Get("X-Api-Key"); k != "" {
		return k
	}
	return r.URL.Query().Get("api_key")
}

// Client is who a request is counted as; empty fields are not counted.
type Client struct {
	IP     netip.Addr
	APIKey string
	Device string
}

// ClientOf tells who r comes from: its IP (through trusted proxies only),
// its API key and its device ID.
func (l *Limiter) ClientOf(r *http.Request) Client {
	return Client{IP: l.ClientIP(r), APIKey: l.keyOf(r), Device: l.devOf(r)}
}

// ClientIP is r's client address: the direct peer, or what the trusted
// proxies in front of pinward say. Handlers that log or count per client
// should use it rather than RemoteAddr.
func (l *Limiter) ClientIP(r *http.Request) netip.Addr { return l.proxies.clientIP(r) }

// Refused is the cause inside a refusal's *i18n.Error.
type Refused struct {
	Class      Class
	By         By
	RetryAfter time.Duration
}

func (r *Refused) Error() string {
	return fmt.Sprintf("rate limit: %s per %s, retry after %s", r.Class, r.By, r.RetryAfter)
}

// RetryAfter returns how long the client of a refusal should wait.
func RetryAfter(err error) (time.Duration, bool) {
	var r *Refused
	if errors.As(err, &r) {
		return r.RetryAfter, true
	}
	return 0, false
}

// Allow counts one request of class from c against every limit that
// applies, and returns nil or a refusal: an *i18n.Error of KindTooMany
// whose cause is a *Refused. A refused request uses up nothing, so a
// client refused for its device keeps its IP's allowance.
func (l *Limiter) Allow(class Class, c Client) error {
	lims, ok := l.limits[class]
	if !ok {
		return nil
	}
	now := l.now()
	l.maybeSweep(now)
	var taken []*rate.Reservation
	for _, d := range []struct {
		by By
		id string
	}{{ByIP, ipKey(c.IP)}, {ByKey, hashKey(c.APIKey)}, {ByDevice, c.Device}} {
		r := lims.rate(d.by)
		if d.id == "" || r.unlimited() {
			continue
		}
		res := l.bucket(bucketKey{class, d.by, d.id}, r, now).ReserveN(now, 1)
		delay := res.DelayFrom(now)
		if res.OK() && delay == 0 {
			taken = append(taken, res)
			continue
		}
		if res.OK() {
			res.CancelAt(now)
		} else {
			delay = r.Per
		}
		for _, t := range taken {
			t.CancelAt(now)
		}
		l.refused.WithLabelValues(string(class), string(d.by)).Inc()
		return refusal(&Refused{Class: class, By: d.by, RetryAfter: delay})
	}
	return nil
}

// hashKey keeps API keys themselves out of the limiter's memory.
func hashKey(k string) string {
	if k == "" {
		return ""
	}
	h := sha256.Sum256([]byte(k))
	return hex.EncodeToString(h[:16])
}

func (l *Limiter) bucket(k bucketKey, r Rate, now time.Time) *rate.Limiter {
	l.mu.Lock()
	b, ok := l.buckets[k]
	if !ok {
		b = &bucket{
			lim:  rate.NewLimiter(rate.Limit(float64(r.Events)/r.Per.Seconds()), r.Events),
			full: r.Per,
		}
		l.buckets[k] = b
	}
	l.mu.Unlock()
	b.last.Store(now.UnixNano())
	return b.lim
}

func (l *Limiter) maybeSweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) < sweepEvery {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		if now.Sub(time.Unix(0, b.last.Load())) >= b.full {
			delete(l.buckets, k)
		}
	}
}

// size is how many buckets are held (tests).
func (l *Limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// Middleware limits the requests of class by client IP, API key and
// device ID (as ClientOf finds them) before next sees them.
func (l *Limiter) Middleware(class Class) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := l.Allow(class, l.ClientOf(r)); err != nil {
				l.Refuse(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Refuse answers a refusal from Allow: Retry-After, then the error body.
func (l *Limiter) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	if d, ok := RetryAfter(err); ok {
		w.Header().Set("Retry-After", retryAfterSeconds(d))
	}
	l.write(w, r, err)
}

// retryAfterSeconds rounds up: a client that waits what it is told must
// find a token.
func retryAfterSeconds(d time.Duration) string {
	return fmt.Sprint(max(1, int64(math.Ceil(d.Seconds()))))
}

var (
	classText = map[Class]i18n.Text{
		Submissions: i18n.T("requests submitted", "demandes soumises"),
		Locate:      i18n.T("location look-ups", "recherches de lieu"),
		Flags:       i18n.T("reports of content", "signalements de contenu"),
		Tiles:       i18n.T("map tiles", "tuiles de carte"),
	}
	byText = map[By]i18n.Text{
		ByIP:     i18n.T("this address", "cette adresse"),
		ByKey:    i18n.T("this API key", "cette clé d'API"),
		ByDevice: i18n.T("this device", "cet appareil"),
	}
)

func refusal(r *Refused) *i18n.Error {
	secs := retryAfterSeconds(r.RetryAfter)
	what, from := classText[r.Class], byText[r.By]
	return &i18n.Error{
		Kind: KindTooMany,
		Message: i18n.Text{
			En: fmt.Sprintf("too many %s from %s; try again in %s s", what.En, from.En, secs),
			Fr: fmt.Sprintf("trop de %s depuis %s; réessayez dans %s s", what.Fr, from.Fr, secs),
		},
		Err: r,
	}
}
