package ratelimit

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// server is a real loopback HTTP server behind the limiter; its handler
// answers 200 with the client IP the limiter saw.
type server struct {
	*httptest.Server
	lim *Limiter
	reg *prometheus.Registry
}

func newServer(t *testing.T, cfg Config, class Class) *server {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	lim, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := lim.Middleware(class)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, lim.ClientIP(r))
	}))
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return &server{Server: s, lim: lim, reg: reg}
}

// clientFrom returns an HTTP client whose connections come from the
// loopback address from (127.0.0.1, 127.0.0.2, ...: all of 127/8 is this
// machine on Linux), so one test can be several clients.
func clientFrom(t *testing.T, from string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}, Timeout: 10 * time.Second}
}

type answer struct {
	status     int
	retryAfter string
	body       string
}

func get(t *testing.T, c *http.Client, url string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header.Get("Retry-After"), string(b)}
}

func only(c Class, l Limits) map[Class]Limits { return map[Class]Limits{c: l} }

// A burst from one IP is refused with 429 and Retry-After, while another
// IP passes.
func TestBurstFromOneIP(t *testing.T) {
	s := newServer(t, Config{Limits: only(Submissions, Limits{IP: Rate{3, time.Minute}})}, Submissions)
	one, two := clientFrom(t, "127.0.0.2"), clientFrom(t, "127.0.0.3")

	var statuses []int
	var refused answer
	for i := 0; i < 10; i++ {
		a := get(t, one, s.URL+"/open311/v2/requests.json")
		statuses = append(statuses, a.status)
		if a.status == http.StatusTooManyRequests {
			refused = a
		}
	}
	want := []int{200, 200, 200, 429, 429, 429, 429, 429, 429, 429}
	if fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	// One token comes back every 20 s.
	if n, err := strconv.Atoi(refused.retryAfter); err != nil || n < 1 || n > 20 {
		t.Errorf("Retry-After %q, want 1 to 20 seconds", refused.retryAfter)
	}
	var body []errorBody
	if err := json.Unmarshal([]byte(refused.body), &body); err != nil || len(body) != 1 {
		t.Fatalf("body %s: %v", refused.body, err)
	}
	b := body[0]
	if b.Code != 429 || b.Kind != "too_many_requests" || b.Description != b.DescriptionEn ||
		!strings.Contains(b.DescriptionEn, "too many requests submitted from this address") ||
		!strings.Contains(b.DescriptionFr, "trop de demandes soumises depuis cette adresse") ||
		!strings.Contains(b.DescriptionEn, "try again in "+refused.retryAfter+" s") {
		t.Errorf("body %+v", b)
	}

	if a := get(t, two, s.URL+"/open311/v2/requests.json"); a.status != 200 || a.body != "127.0.0.3" {
		t.Errorf("another IP got %d %q", a.status, a.body)
	}
	if got := testutil.ToFloat64(s.lim.refused.WithLabelValues("submissions", "ip")); got != 7 {
		t.Errorf("refusals counted %v, want 7", got)
	}
	// The counter is in the registry /metrics serves.
	if n, err := testutil.GatherAndCount(s.reg, "pinward_ratelimit_refused_total"); err != nil || n != 1 {
		t.Errorf("gathered %d series: %v", n, err)
	}
}

func TestRefusalInFrenchAndXML(t *testing.T) {
	s := newServer(t, Config{Limits: only(Locate, Limits{IP: Rate{1, time.Hour}})}, Locate)
	c := clientFrom(t, "127.0.0.2")
	get(t, c, s.URL+"/x")
	a := get(t, c, s.URL+"/open311/v2/requests.xml", "Accept-Language", "fr-CA,fr;q=0.9")
	if a.status != 429 || a.retryAfter == "" {
		t.Fatalf("got %d Retry-After %q", a.status, a.retryAfter)
	}
	var doc xmlErrors
	if err := xml.Unmarshal([]byte(a.body), &doc); err != nil || len(doc.Errors) != 1 {
		t.Fatalf("XML body %s: %v", a.body, err)
	}
	e := doc.Errors[0]
	if e.Code != 429 || e.Description != e.DescriptionFr || !strings.HasPrefix(e.DescriptionFr, "trop de recherches de lieu") {
		t.Errorf("XML error %+v", e)
	}
	// Retry-After is in whole seconds, rounded up: about an hour.
	if n, _ := strconv.Atoi(a.retryAfter); n < 3500 || n > 3600 {
		t.Errorf("Retry-After %q, want about 3600", a.retryAfter)
	}
}

// An untrusted peer cannot pick its address with X-Forwarded-For or
// Forwarded.
func TestUntrustedForwardedForIgnored(t *testing.T) {
	s := newServer(t, Config{
		Limits:         only(Flags, Limits{IP: Rate{2, time.Minute}}),
		TrustedProxies: mustPrefixes(t, "127.0.0.1"),
	}, Flags)
	c := clientFrom(t, "127.0.0.2")
	var statuses []int
	for i := 0; i < 5; i++ {
		a := get(t, c, s.URL+"/flag", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i),
			"Forwarded", fmt.Sprintf("for=198.51.100.%d", i))
		statuses = append(statuses, a.status)
		if a.status == 200 && a.body != "127.0.0.2" {
			t.Errorf("client seen as %q, want the peer 127.0.0.2", a.body)
		}
	}
	if fmt.Sprint(statuses) != "[200 200 429 429 429]" {
		t.Errorf("statuses %v", statuses)
	}
}

// Behind a trusted proxy, the client is the address the proxy names, and
// each client has its own allowance.
func TestTrustedProxy(t *testing.T) {
	s := newServer(t, Config{
		Limits:         only(Submissions, Limits{IP: Rate{2, time.Minute}}),
		TrustedProxies: mustPrefixes(t, "127.0.0.1,10.0.0.0/8"),
	}, Submissions)
	proxy := clientFrom(t, "127.0.0.1")

	// The client put a fake address first; the proxy appended the real one.
	for i := 0; i < 2; i++ {
		a := get(t, proxy, s.URL+"/r", "X-Forwarded-For", fmt.Sprintf("192.0.2.%d, 203.0.113.7", i+1))
		if a.status != 200 || a.body != "203.0.113.7" {
			t.Fatalf("got %d %q, want 200 203.0.113.7", a.status, a.body)
		}
	}
	if a := get(t, proxy, s.URL+"/r", "X-Forwarded-For", "192.0.2.99, 203.0.113.7"); a.status != 429 {
		t.Errorf("third from 203.0.113.7: %d", a.status)
	}
	// Another client behind the same proxy passes; a chain of two trusted
	// proxies (10.1.2.3 then the one at 127.0.0.1) is walked through.
	if a := get(t, proxy, s.URL+"/r", "X-Forwarded-For", "203.0.113.8, 10.1.2.3"); a.status != 200 || a.body != "203.0.113.8" {
		t.Errorf("got %d %q, want 200 203.0.113.8", a.status, a.body)
	}
	// Two header lines are one list.
	if a := get(t, proxy, s.URL+"/r", "X-Forwarded-For", "203.0.113.7", "X-Forwarded-For", "203.0.113.9"); a.body != "203.0.113.9" {
		t.Errorf("two lines: client %q, want 203.0.113.9", a.body)
	}
	// Without the header the proxy itself is the client.
	if a := get(t, proxy, s.URL+"/r"); a.body != "127.0.0.1" {
		t.Errorf("no header: client %q", a.body)
	}
}

func TestTrustedProxyForwardedHeader(t *testing.T) {
	s := newServer(t, Config{
		Limits:         only(Tiles, Limits{IP: Rate{1, time.Minute}}),
		TrustedProxies: mustPrefixes(t, "127.0.0.0/8"),
		ProxyHeader:    HeaderForwarded,
	}, Tiles)
	proxy := clientFrom(t, "127.0.0.1")
	a := get(t, proxy, s.URL+"/t", "Forwarded", `for=192.0.2.1, for="[2001:db8:cafe::17]:4711";proto=https`,
		"X-Forwarded-For", "198.51.100.1")
	if a.status != 200 || a.body != "2001:db8:cafe::17" {
		t.Fatalf("got %d %q", a.status, a.body)
	}
	// Another address in the same IPv6 /64 is the same client.
	if a := get(t, proxy, s.URL+"/t", "Forwarded", `for="[2001:db8:cafe::99]"`); a.status != 429 {
		t.Errorf("same /64: %d", a.status)
	}
	if a := get(t, proxy, s.URL+"/t", "Forwarded", `for="[2001:db8:beef::1]"`); a.status != 200 {
		t.Errorf("another /64: %d", a.status)
	}
}

// One API key is limited across IPs; another key passes. A refusal for
// the key uses up none of the IP's allowance.
func TestPerKey(t *testing.T) {
	s := newServer(t, Config{Limits: only(Submissions, Limits{IP: Rate{5, time.Minute}, Key: Rate{3, time.Minute}})}, Submissions)
	a1, a2 := clientFrom(t, "127.0.0.2"), clientFrom(t, "127.0.0.3")
	var statuses []int
	for i := 0; i < 5; i++ {
		c := a1
		if i%2 == 1 {
			c = a2
		}
		statuses = append(statuses, get(t, c, s.URL+"/r", "X-Api-Key", "pw_script").status)
	}
	if fmt.Sprint(statuses) != "[200 200 200 429 429]" {
		t.Fatalf("statuses %v", statuses)
	}
	// The key in the query counts as the same key.
	if a := get(t, a1, s.URL+"/r?api_key=pw_script"); a.status != 429 || !strings.Contains(a.body, "this API key") {
		t.Errorf("query key: %d %s", a.status, a.body)
	}
	// 127.0.0.2 sent 4 requests of which 2 passed: the refused ones did
	// not count against it, so with other keys it still has 3 of 5 left.
	for i := 0; i < 3; i++ {
		if a := get(t, a1, s.URL+"/r", "X-Api-Key", fmt.Sprintf("pw_other%d", i)); a.status != 200 {
			t.Fatalf("other key %d from 127.0.0.2: %d %s", i, a.status, a.body)
		}
	}
	if a := get(t, a1, s.URL+"/r", "X-Api-Key", "pw_other9"); a.status != 429 || !strings.Contains(a.body, "this address") {
		t.Errorf("sixth from 127.0.0.2: %d %s", a.status, a.body)
	}
	if got := testutil.ToFloat64(s.lim.refused.WithLabelValues("submissions", "key")); got != 3 {
		t.Errorf("key refusals %v, want 3", got)
	}
}

func TestPerDevice(t *testing.T) {
	s := newServer(t, Config{Limits: only(Flags, Limits{Device: Rate{2, time.Hour}})}, Flags)
	c1, c2 := clientFrom(t, "127.0.0.2"), clientFrom(t, "127.0.0.3")
	var statuses []int
	for _, c := range []*http.Client{c1, c2, c1} {
		statuses = append(statuses, get(t, c, s.URL+"/f?device_id=phone-A").status)
	}
	if fmt.Sprint(statuses) != "[200 200 429]" {
		t.Fatalf("statuses %v", statuses)
	}
	if a := get(t, c1, s.URL+"/f?device_id=phone-B"); a.status != 200 {
		t.Errorf("another device: %d", a.status)
	}
	// No device ID: nothing to count by.
	for i := 0; i < 5; i++ {
		if a := get(t, c1, s.URL+"/f"); a.status != 200 {
			t.Fatalf("no device: %d", a.status)
		}
	}
	// A device_id read from a form body is checked with Allow.
	err := s.lim.Allow(Flags, Client{Device: "phone-A"})
	if d, ok := RetryAfter(err); !ok || d <= 0 {
		t.Errorf("Allow for phone-A: %v", err)
	}
}

// A class missing from the limits is not limited, and a custom writer
// gets the refusal.
func TestUnlimitedClassAndCustomWriter(t *testing.T) {
	var seen error
	s := newServer(t, Config{
		Limits: only(Submissions, Limits{IP: Rate{1, time.Minute}}),
		WriteError: func(w http.ResponseWriter, r *http.Request, err error) {
			seen = err
			w.WriteHeader(http.StatusTeapot)
		},
	}, Submissions)
	c := clientFrom(t, "127.0.0.2")
	get(t, c, s.URL+"/")
	if a := get(t, c, s.URL+"/"); a.status != http.StatusTeapot || a.retryAfter == "" {
		t.Errorf("custom writer: %d Retry-After %q", a.status, a.retryAfter)
	}
	if _, ok := RetryAfter(seen); !ok {
		t.Errorf("writer got %v", seen)
	}
	for i := 0; i < 50; i++ {
		if err := s.lim.Allow(Tiles, Client{IP: netip.MustParseAddr("192.0.2.1")}); err != nil {
			t.Fatal(err)
		}
	}
}

// Buckets idle long enough to be full again are dropped.
func TestIdleBucketsSwept(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l, err := New(Config{
		Limits:     only(Submissions, Limits{IP: Rate{2, time.Minute}, Device: Rate{2, time.Hour}}),
		Registerer: prometheus.NewRegistry(),
		now:        func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		ip := netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})
		if err := l.Allow(Submissions, Client{IP: ip, Device: "d"}); err != nil && i < 2 {
			t.Fatal(err)
		}
	}
	if l.size() != 101 {
		t.Fatalf("%d buckets, want 101", l.size())
	}
	now = now.Add(2 * time.Minute)
	_ = l.Allow(Submissions, Client{})
	if l.size() != 1 { // the device bucket refills in an hour
		t.Errorf("%d buckets after 2 minutes, want 1", l.size())
	}
	// Still refused: the device's bucket was kept.
	if err := l.Allow(Submissions, Client{Device: "d"}); err == nil {
		t.Error("device allowed again before its bucket refilled")
	}
	now = now.Add(time.Hour)
	if err := l.Allow(Submissions, Client{Device: "d"}); err != nil {
		t.Errorf("device after an hour: %v", err)
	}
}

func TestRetryAfterTracksRefill(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l, err := New(Config{
		Limits:     only(Submissions, Limits{IP: Rate{10, time.Minute}}),
		Registerer: prometheus.NewRegistry(),
		now:        func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	c := Client{IP: netip.MustParseAddr("192.0.2.1")}
	for i := 0; i < 10; i++ {
		if err := l.Allow(Submissions, c); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	err = l.Allow(Submissions, c)
	if d, ok := RetryAfter(err); !ok || d != 6*time.Second {
		t.Fatalf("retry after %v (%v), want 6s", d, err)
	}
	now = now.Add(6 * time.Second)
	if err := l.Allow(Submissions, c); err != nil {
		t.Errorf("after waiting what it was told: %v", err)
	}
}

func mustPrefixes(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	p, err := ParseTrustedProxies(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Concurrent requests from one client: exactly the allowance passes.
func TestConcurrentBurst(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l, err := New(Config{
		Limits:     only(Submissions, Limits{IP: Rate{10, time.Minute}, Device: Rate{100, time.Minute}}),
		Registerer: prometheus.NewRegistry(),
		now:        func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	c := Client{IP: netip.MustParseAddr("192.0.2.1"), Device: "d"}
	results := make(chan error, 50)
	for i := 0; i < 50; i++ {
		go func() { results <- l.Allow(Submissions, c) }()
	}
	allowed := 0
	for i := 0; i < 50; i++ {
		if <-results == nil {
			allowed++
		}
	}
	if allowed != 10 {
		t.Errorf("%d of 50 concurrent requests allowed, want 10", allowed)
	}
}
