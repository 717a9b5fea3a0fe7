package dispatch_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pinward/pinward/dispatch"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
)

// testStore is what both stores are to these tests.
type testStore interface {
	requests.Store
	requests.OutboxStore
}

// eachStore runs f on a fresh SQLite store and a fresh PostGIS one.
func eachStore(t *testing.T, f func(t *testing.T, s testStore)) {
	t.Run("sqlite", func(t *testing.T) { f(t, openStore(t)) })
	t.Run("postgis", func(t *testing.T) {
		s, err := postgis.Open(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		f(t, s)
	})
}

// runUntilDead runs d until n work orders are dead-lettered and returns
// them.
func runUntilDead(t *testing.T, s requests.OutboxStore, d *dispatch.Dispatcher, n int) []requests.WorkOrder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		dead, err := s.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenant, Delivery: requests.OutboxDead})
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) == n {
			return dead
		}
		if ok, err := s.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenant, Delivery: requests.OutboxDelivered}); err != nil || len(ok) > 0 {
			t.Fatalf("%d work orders delivered (%v), want %d dead", len(ok), err, n)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d dead letters after 20s, want %d", len(dead), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// counter is a loopback endpoint that answers 200 to anything and counts
// what it got.
type counter struct{ n atomic.Int64 }

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	io.Copy(io.Discard, r.Body)
	w.WriteHeader(http.StatusOK)
}

// TestRedirectIsAFailedDelivery: a webhook answering 302 (whose Location
// answers a GET with 200) or 307 (pointing at another server that takes
// anything) has not received the work order. It is not followed, each
// attempt fails, and the work order is dead-lettered, on both stores.
func TestRedirectIsAFailedDelivery(t *testing.T) {
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			eachStore(t, func(t *testing.T, s testStore) {
				seed(t, s, 2)
				elsewhere := &counter{}
				other := httptest.NewServer(elsewhere)
				t.Cleanup(other.Close)
				var hook, moved atomic.Int64
				mux := http.NewServeMux()
				mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
					hook.Add(1)
					to := "/moved"
					if code == http.StatusTemporaryRedirect {
						to = other.URL + "/took-it"
					}
					http.Redirect(w, r, to, code)
				})
				mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
					moved.Add(1)
					w.WriteHeader(http.StatusOK)
				})
				srv := httptest.NewServer(mux)
				t.Cleanup(srv.Close)
				d := newDispatcher(t, s, srv.URL+"/hook", func(c *dispatch.Config) { c.MaxAttempts = 3 })
				dead := runUntilDead(t, s, d, 2)
				for _, w := range dead {
					if w.Attempts != 3 || !strings.Contains(w.LastError, strconv.Itoa(code)) || !strings.Contains(w.LastError, "does not follow") {
						t.Errorf("dead letter: %d attempts, last_error %q; want 3 attempts and a redirect not followed", w.Attempts, w.LastError)
					}
				}
				if hook.Load() != 6 {
					t.Errorf("the webhook got %d posts, want 6 (3 attempts of 2 work orders)", hook.Load())
				}
				if moved.Load() != 0 || elsewhere.n.Load() != 0 {
					t.Errorf("the redirect was followed: %d requests to /moved, %d to the other server", moved.Load(), elsewhere.n.Load())
				}
				delivered, err := s.ListWorkOrders(context.Background(), requests.WorkOrderFilter{Tenant: tenant, Delivery: requests.OutboxDelivered})
				if err != nil || len(delivered) != 0 {
					t.Errorf("%d work orders marked delivered (%v), want none", len(delivered), err)
				}
			})
		})
	}
}

// TestCredentialsNeverLeak: a password in a connector URL appears in
// neither the log nor a work order's last_error (which staff read through
// GET /api/v1/workorders?state=dead), whatever went wrong: no answer, a
// redirect, a URL that does not parse, an Open311 endpoint that is down.
func TestCredentialsNeverLeak(t *testing.T) {
	const password = "Hunter2-Pa55"
	closed := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	redirecting := func(t *testing.T) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}))
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	}
	cases := []struct {
		name string
		conn func(t *testing.T) dispatch.Connector
	}{
		{"refused", func(t *testing.T) dispatch.Connector {
			return &dispatch.Webhook{URL: "http://ops:" + password + "@" + closed(t) + "/hook", Secret: []byte(secret), AllowPrivate: true}
		}},
		{"redirect", func(t *testing.T) dispatch.Connector {
			return &dispatch.Webhook{URL: "http://ops:" + password + "@" + redirecting(t) + "/hook", Secret: []byte(secret), AllowPrivate: true}
		}},
		{"unparsable", func(t *testing.T) dispatch.Connector {
			return &dispatch.Webhook{URL: "http://ops:" + password + "@127.0.0.1:port/hook", Secret: []byte(secret), AllowPrivate: true}
		}},
		{"open311", func(t *testing.T) dispatch.Connector {
			return &dispatch.Open311{Endpoint: "http://ops:" + password + "@" + closed(t) + "/open311/v2", APIKey: "k", AllowPrivate: true}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachStore(t, func(t *testing.T, s testStore) {
				seed(t, s, 1)
				var logs bytes.Buffer
				var mu sync.Mutex
				log := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
				d := newDispatcher(t, s, "", func(cfg *dispatch.Config) {
					cfg.Default, cfg.MaxAttempts, cfg.Logger = c.conn(t), 2, log
				})
				dead := runUntilDead(t, s, d, 1)
				mu.Lock()
				defer mu.Unlock()
				if strings.Contains(dead[0].LastError, password) || strings.Contains(logs.String(), password) {
					t.Errorf("the password leaked:\nlast_error: %s\nlog: %s", dead[0].LastError, logs.String())
				}
				if dead[0].LastError == "" || !strings.Contains(logs.String(), "dead-lettered") {
					t.Errorf("nothing recorded or logged: last_error %q, log %s", dead[0].LastError, logs.String())
				}
				t.Logf("last_error: %s", dead[0].LastError)
			})
		})
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestStandardWebhooksSignature: each delivery carries webhook-id (its
// Idempotency-Key), webhook-timestamp and webhook-signature, the base64
// HMAC-SHA256 of "id.timestamp.body", computed here with the standard
// library alone. Verify accepts it, and refuses it replayed after the
// tolerance, under another ID, at another time or with another body.
func TestStandardWebhooksSignature(t *testing.T) {
	s := openStore(t)
	seed(t, s, 1)
	rc := newReceiver(t)
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	run(t, s, newDispatcher(t, s, srv.URL, nil), 1)
	check(t, rc, 1)

	rc.mu.Lock()
	defer rc.mu.Unlock()
	for key, body := range rc.raw {
		h := rc.header[key]
		id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
		sec, err := strconv.ParseInt(ts, 10, 64)
		if id != key || err != nil || time.Since(time.Unix(sec, 0)).Abs() > time.Minute {
			t.Fatalf("webhook-id %q (Idempotency-Key %q), webhook-timestamp %q", id, key, ts)
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(id + "." + ts + "."))
		mac.Write(body)
		if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); h.Get("webhook-signature") != want {
			t.Errorf("webhook-signature %q, want %q", h.Get("webhook-signature"), want)
		}
		now := time.Now()
		if err := dispatch.Verify([]byte(secret), h, body, now); err != nil {
			t.Errorf("Verify: %v", err)
		}
		if err := dispatch.Verify([]byte(secret), h, body, now.Add(dispatch.Tolerance+time.Minute)); !errors.Is(err, dispatch.ErrTimestamp) {
			t.Errorf("replayed 6 minutes later: %v, want ErrTimestamp", err)
		}
		if err := dispatch.Verify([]byte(secret), h, body, now.Add(-dispatch.Tolerance-time.Minute)); !errors.Is(err, dispatch.ErrTimestamp) {
			t.Errorf("from 6 minutes in the future: %v, want ErrTimestamp", err)
		}
		for name, change := range map[string]func(http.Header){
			"another ID":   func(h http.Header) { h.Set("webhook-id", key+"-again") },
			"another time": func(h http.Header) { h.Set("webhook-timestamp", strconv.FormatInt(sec+1, 10)) },
			"wrong secret": func(h http.Header) {
				h.Set("webhook-signature", dispatch.SignV1([]byte("not-"+secret), id, time.Unix(sec, 0), body))
			},
		} {
			h2 := h.Clone()
			change(h2)
			if err := dispatch.Verify([]byte(secret), h2, body, now); !errors.Is(err, dispatch.ErrSignature) {
				t.Errorf("%s: %v, want ErrSignature", name, err)
			}
		}
		if err := dispatch.Verify([]byte(secret), h, append([]byte(" "), body...), now); !errors.Is(err, dispatch.ErrSignature) {
			t.Errorf("another body: %v, want ErrSignature", err)
		}
		h2 := h.Clone()
		h2.Del("webhook-timestamp")
		if err := dispatch.Verify([]byte(secret), h2, body, now); !errors.Is(err, dispatch.ErrMissingHeaders) {
			t.Errorf("no timestamp: %v, want ErrMissingHeaders", err)
		}
	}
}

// TestSignV1Vector: the Standard Webhooks reference libraries' published
// vector, so receivers' own libraries accept what pinward sends.
func TestSignV1Vector(t *testing.T) {
	const (
		key  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id   = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		want = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	ts, body := time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`)
	if got := dispatch.SignV1([]byte(key), id, ts, body); got != want {
		t.Fatalf("SignV1 = %s, want %s", got, want)
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,bm9wZQ== "+want) // another one first, as during a rotation
	if err := dispatch.Verify([]byte(key), h, body, ts.Add(4*time.Minute)); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

// TestSecretRotation: with the new secret and the old one configured, a
// receiver still on the old secret and one already on the new accept
// every delivery.
func TestSecretRotation(t *testing.T) {
	const newSecret, oldSecret = "whsec_bmV3LXNlY3JldC1rZXktMzItYnl0ZXMtbG9uZyE=", "the-old-one"
	s := openStore(t)
	seed(t, s, 3)
	var mu sync.Mutex
	var got []http.Header
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r.Header.Clone()), append(bodies, body)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	run(t, s, newDispatcher(t, s, "", func(c *dispatch.Config) {
		c.Default = &dispatch.Webhook{URL: srv.URL, Secret: []byte(newSecret + " " + oldSecret), AllowPrivate: true}
	}), 3)
	mu.Lock()
	defer mu.Unlock()
	for i, h := range got {
		if n := len(strings.Fields(h.Get("webhook-signature"))); n != 2 {
			t.Errorf("webhook-signature %q: %d signatures, want 2", h.Get("webhook-signature"), n)
		}
		for _, sec := range []string{newSecret, oldSecret} {
			if err := dispatch.Verify([]byte(sec), h, bodies[i], time.Now()); err != nil {
				t.Errorf("a receiver with %q refuses the delivery: %v", sec, err)
			}
		}
		if err := dispatch.Verify([]byte("a third one"), h, bodies[i], time.Now()); !errors.Is(err, dispatch.ErrSignature) {
			t.Errorf("a receiver with another secret: %v, want ErrSignature", err)
		}
	}
	if len(got) != 3 {
		t.Errorf("%d deliveries, want 3", len(got))
	}
}

// TestRetryAfter: a 503 or 429 with Retry-After (seconds or an HTTP-date)
// puts the next attempt then, not at the (here 20 ms) backoff.
func TestRetryAfter(t *testing.T) {
	for name, c := range map[string]struct {
		code  int
		value func() string
	}{
		"503 seconds": {http.StatusServiceUnavailable, func() string { return "120" }},
		"429 date":    {http.StatusTooManyRequests, func() string { return time.Now().Add(125 * time.Second).UTC().Format(http.TimeFormat) }},
	} {
		t.Run(name, func(t *testing.T) {
			s := openStore(t)
			seed(t, s, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", c.value())
				w.WriteHeader(c.code)
			}))
			t.Cleanup(srv.Close)
			d := newDispatcher(t, s, srv.URL, nil)
			ctx := context.Background()
			start := time.Now()
			if n, err := d.RunOnce(ctx); n != 1 || err != nil {
				t.Fatalf("RunOnce: %d, %v", n, err)
			}
			wos, err := s.ListWorkOrders(ctx, requests.WorkOrderFilter{Tenant: tenant})
			if err != nil || len(wos) != 1 || !strings.Contains(wos[0].LastError, strconv.Itoa(c.code)) || !strings.Contains(wos[0].LastError, "Retry-After") {
				t.Fatalf("work orders %+v, %v", wos, err)
			}
			if due, err := s.ClaimOutbox(ctx, tenant, start.Add(100*time.Second), time.Second, 10); err != nil || len(due) != 0 {
				t.Fatalf("%d due 100 s later (%v): the receiver asked for about 120 s", len(due), err)
			}
			if due, err := s.ClaimOutbox(ctx, tenant, start.Add(130*time.Second), time.Second, 10); err != nil || len(due) != 1 {
				t.Fatalf("%d due 130 s later (%v), want 1", len(due), err)
			}
		})
	}
}

// TestPrivateAddressesRefused: without AllowPrivate, a webhook or Open311
// endpoint on loopback (by address or by a name resolving to it) gets
// nothing; the attempt fails with a message naming the flag, and the work
// order is dead-lettered in the end.
func TestPrivateAddressesRefused(t *testing.T) {
	c := &counter{}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	byName := "http://localhost:" + strconv.Itoa(port) + "/hook"
	ctx := context.Background()
	msg := requests.OutboxMessage{Kind: requests.OutboxCreate, IdempotencyKey: "k",
		WorkOrder: requests.WorkOrder{ID: 1, Payload: requests.WorkOrderPayload{Category: "pothole"}}}
	for name, conn := range map[string]dispatch.Connector{
		"webhook by address": &dispatch.Webhook{URL: srv.URL, Secret: []byte(secret)},
		"webhook by name":    &dispatch.Webhook{URL: byName, Secret: []byte(secret)},
		"open311":            &dispatch.Open311{Endpoint: srv.URL + "/open311/v2"},
	} {
		if _, err := conn.Deliver(ctx, msg); !errors.Is(err, dispatch.ErrPrivateAddress) ||
			!strings.Contains(err.Error(), "--allow-private-webhooks") {
			t.Errorf("%s: %v, want ErrPrivateAddress naming the flag", name, err)
		}
	}
	if _, err := (&dispatch.Open311{Endpoint: srv.URL}).Poll(ctx, []requests.WorkOrder{{ID: 1, ExternalID: "9"}}); !errors.Is(err, dispatch.ErrPrivateAddress) {
		t.Errorf("open311 poll: %v, want ErrPrivateAddress", err)
	}
	if c.n.Load() != 0 {
		t.Fatalf("the loopback receiver got %d requests", c.n.Load())
	}

	s := openStore(t)
	seed(t, s, 1)
	d := newDispatcher(t, s, "", func(cfg *dispatch.Config) {
		cfg.Default, cfg.MaxAttempts = &dispatch.Webhook{URL: byName, Secret: []byte(secret)}, 2
	})
	dead := runUntilDead(t, s, d, 1)
	if dead[0].Attempts != 2 || !strings.Contains(dead[0].LastError, "--allow-private-webhooks") {
		t.Errorf("dead letter: %d attempts, %q", dead[0].Attempts, dead[0].LastError)
	}
	if c.n.Load() != 0 {
		t.Errorf("the loopback receiver got %d requests", c.n.Load())
	}

	// Allowed: the same URL delivers.
	if _, err := (&dispatch.Webhook{URL: byName, Secret: []byte(secret), AllowPrivate: true}).Deliver(ctx, msg); err != nil || c.n.Load() != 1 {
		t.Errorf("with AllowPrivate: %v, %d requests", err, c.n.Load())
	}
}

// TestLastErrorIsStorable: a receiver's answer quoted in last_error may
// hold NUL bytes and invalid UTF-8, which PostgreSQL refuses in text; the
// attempt is still recorded, on both stores.
func TestLastErrorIsStorable(t *testing.T) {
	eachStore(t, func(t *testing.T, s testStore) {
		seed(t, s, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte("broken\x00here \xff\xfe " + strings.Repeat("é", 300)))
		}))
		t.Cleanup(srv.Close)
		d := newDispatcher(t, s, "", func(cfg *dispatch.Config) {
			cfg.Default, cfg.MaxAttempts = &dispatch.Open311{Endpoint: srv.URL, AllowPrivate: true}, 2
		})
		dead := runUntilDead(t, s, d, 1)
		if e := dead[0].LastError; !strings.Contains(e, "broken") || strings.Contains(e, "\x00") || !utf8.ValidString(e) || len(e) > 500 {
			t.Errorf("last_error %q", e)
		}
	})
}
