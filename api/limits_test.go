package api_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/ratelimit"
	"github.com/pinward/pinward/requests"
)

// clientFrom is an HTTP client whose connections come from address ip
// (any 127.0.0.0/8 address reaches a loopback server on Linux).
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 10 * time.Second}
}

// TestRateLimits: a burst of submissions with the public reporter key from
// one IP gets 429s with Retry-After and a bilingual body, and stores
// nothing, while another IP passes; an integrator key is counted by key,
// not by its IP; the refusals are counted in /metrics.
func TestRateLimits(t *testing.T) {
	forEachStore(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		cat, err := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
		if err != nil {
			t.Fatal(err)
		}
		set, err := data.SampleWards()
		if err != nil {
			t.Fatal(err)
		}
		svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: cat, Wards: set, Store: w.store})
		if err != nil {
			t.Fatal(err)
		}
		limits := ratelimit.Defaults()
		if err := ratelimit.ParseOverrides(limits, "submissions.ip=3/m,submissions.key=5/m,locate.ip=4/m"); err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		lim, err := ratelimit.New(ratelimit.Config{Limits: limits, Registerer: reg})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewUnstartedServer(api.New(api.Config{Service: svc, Keys: w.store, Limiter: lim, Metrics: reg,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv.Listener = ln
		srv.Start()
		t.Cleanup(srv.Close)

		pageKey, err := requests.PageKey(ctx, w.store, tenant, "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		post := func(c *http.Client, key, device string) *http.Response {
			t.Helper()
			f := w.pothole()
			f.Set("api_key", key)
			if device != "" {
				f.Set("device_id", device)
			}
			req, _ := http.NewRequest("POST", srv.URL+"/open311/v2/requests.json", strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept-Language", "fr")
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		a, b := clientFrom("127.0.0.2"), clientFrom("127.0.0.3")
		created, refused := 0, 0
		before := w.count()
		for range 8 {
			res := post(a, pageKey, "")
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			switch res.StatusCode {
			case http.StatusCreated:
				created++
			case http.StatusTooManyRequests:
				refused++
				secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
				if err != nil || secs < 1 || secs > 60 {
					t.Errorf("Retry-After %q, want 1–60 s", res.Header.Get("Retry-After"))
				}
				e := checkError(t, response{res.StatusCode, res.Header, body}, http.StatusTooManyRequests)
				if e.Kind != "too_many_requests" || e.Description != e.DescriptionFr {
					t.Errorf("refusal %+v, want too_many_requests in French", e)
				}
			default:
				t.Fatalf("POST from 127.0.0.2: %d %s", res.StatusCode, body)
			}
		}
		if created != 3 || refused != 5 {
			t.Errorf("burst of 8 from one IP: %d created, %d refused; want 3 and 5", created, refused)
		}
		if n := w.count(); n != before+3 {
			t.Errorf("%d requests stored, want %d: a refused submission was stored", n, before+3)
		}
		// Another IP, the same public key: passes.
		if res := post(b, pageKey, ""); res.StatusCode != http.StatusCreated {
			t.Errorf("POST from 127.0.0.3 after 127.0.0.2's burst: %d", res.StatusCode)
		} else {
			res.Body.Close()
		}
		// An integrator's key is counted by key (5 a minute here), not by
		// the IP it shares with the burst.
		ok := 0
		for range 7 {
			res := post(a, w.key, "")
			res.Body.Close()
			if res.StatusCode == http.StatusCreated {
				ok++
			}
		}
		if ok != 5 {
			t.Errorf("integrator burst of 7 from a refused IP: %d created, want 5", ok)
		}
		// Locate: 4 a minute per IP.
		q := url.Values{"lat": {ftoa(w.inside[1])}, "long": {ftoa(w.inside[0])}, "service_code": {"pothole"}}
		codes := map[int]int{}
		for range 6 {
			res, err := b.Get(srv.URL + "/api/v1/locate?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			codes[res.StatusCode]++
		}
		if codes[http.StatusTooManyRequests] != 2 {
			t.Errorf("locate burst of 6: %v, want 2 refused", codes)
		}
		res, err := a.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		m, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, want := range []string{`pinward_ratelimit_refused_total{by="ip",class="submissions"} 5`,
			`pinward_ratelimit_refused_total{by="key",class="submissions"} 2`,
			`pinward_ratelimit_refused_total{by="ip",class="locate"} 2`} {
			if !strings.Contains(string(m), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}
