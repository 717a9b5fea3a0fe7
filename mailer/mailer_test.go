package mailer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/pinward/pinward/api"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/internal/mailtest"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/mail"
	"github.com/pinward/pinward/mailer"
	"github.com/pinward/pinward/notify"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
	"github.com/pinward/pinward/store/sqlite"
	"github.com/pinward/pinward/web"
)

const tenant = "sample"

// forEachStore runs fn on SQLite and on PostGIS (skipped by pgtest when
// no test database is configured).
func forEachStore(t *testing.T, fn func(t *testing.T, st requests.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pinward.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fn(t, s)
	})
	t.Run("postgis", func(t *testing.T) {
		s, err := postgis.Open(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		fn(t, s)
	})
}

// town is a running pinward (API, pages, unsubscribe links) over a real
// store, the sample municipality, and a mailer sending to a real mailpit.
type town struct {
	t         *testing.T
	st        requests.Store
	srv       *httptest.Server
	smtp      *mailtest.Server
	keys      map[requests.Role]string
	inside    orb.Point
	stopMail  func()
	mailer    *mailer.Mailer
	mailerCfg mailer.Config
}

func newTown(t *testing.T, st requests.Store, opts mailtest.Options) *town {
	t.Helper()
	ctx := context.Background()
	cat, err := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
	if err != nil {
		t.Fatal(err)
	}
	set, err := data.SampleWards()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := data.SampleAssets()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: cat, Wards: set, Assets: ix, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	tw := &town{t: t, st: st, keys: map[requests.Role]string{}}
	in := func(p orb.Point) bool { _, ok := set.Locate(p, time.Now()); return ok }
	ix.Scan(func(a assets.Asset) bool {
		if a.Layer == "streetlight" && in(a.Point) {
			tw.inside = a.Point
			return false
		}
		return true
	})
	for _, role := range []requests.Role{requests.RoleIntegrator, requests.RoleStaff, requests.RoleAdmin} {
		key, hash := requests.NewAPIKey()
		if _, err := st.CreateAPIKey(ctx, requests.Key{TenantID: tenant, Role: role, Label: "mail test", Hash: hash, CreatedAt: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		tw.keys[role] = key
	}
	links, err := mailer.LinkKeys(ctx, st, tenant)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := web.Handler(web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tw.srv = httptest.NewServer(api.New(api.Config{Service: svc, Keys: st, Logger: quiet, Web: pages,
		Mail: api.MailAPI{Store: st, Links: links, Feedback: st, Rights: st}}))
	t.Cleanup(tw.srv.Close)

	tw.smtp = mailtest.Start(t, opts)
	smtp, err := mail.ParseURL(tw.smtp.SMTPURL("", "tls=none"), "311@city.example")
	if err != nil {
		t.Fatal(err)
	}
	smtp.Timeout = 5 * time.Second
	tm, err := notify.New(notify.Config{NameEn: "City of Example", NameFr: "Ville d'Exemple", ReplyTo: "info@city.example"}, cat.Location())
	if err != nil {
		t.Fatal(err)
	}
	tw.mailerCfg = mailer.Config{Tenant: tenant, Store: st, SMTP: smtp, Templates: tm, Catalog: cat, Links: links,
		BaseURL: tw.srv.URL, Workers: 2, Batch: 10, BaseDelay: 100 * time.Millisecond, MaxDelay: 400 * time.Millisecond,
		PollInterval: 20 * time.Millisecond, Logger: quiet}
	return tw
}

// startMailer runs the mailer until the test ends (or stopMail).
func (tw *town) startMailer() {
	tw.t.Helper()
	m, err := mailer.New(tw.mailerCfg)
	if err != nil {
		tw.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = m.Run(ctx) }()
	tw.mailer = m
	tw.stopMail = func() { cancel(); wg.Wait() }
	tw.t.Cleanup(tw.stopMail)
}

func (tw *town) do(method, path, body string, header map[string]string) (int, []byte) {
	tw.t.Helper()
	req, err := http.NewRequest(method, path, strings.NewReader(body))
	if err != nil {
		tw.t.Fatal(err)
	}
	if !strings.HasPrefix(path, "http") {
		req.URL, _ = url.Parse(tw.srv.URL + path)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := tw.srv.Client().Do(req)
	if err != nil {
		tw.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// submit reports a pothole at the town's point (so reports cluster) with
// the extra form fields, and returns its ID and cluster.
func (tw *town) submit(extra url.Values, header map[string]string) (id, cluster string) {
	tw.t.Helper()
	f := url.Values{"api_key": {tw.keys[requests.RoleIntegrator]}, "service_code": {"pothole"},
		"lat": {strconv.FormatFloat(tw.inside[1], 'f', -1, 64)}, "long": {strconv.FormatFloat(tw.inside[0]+0.0001, 'f', -1, 64)},
		"description": {"Deep hole"}, "attribute[size]": {"large"}}
	for k, v := range extra {
		f[k] = v
	}
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		h[k] = v
	}
	status, body := tw.do("POST", "/open311/v2/requests.json", f.Encode(), h)
	if status != http.StatusCreated {
		tw.t.Fatalf("POST requests: %d %s", status, body)
	}
	var out []struct {
		ID      string `json:"service_request_id"`
		Cluster string `json:"cluster_id"`
	}
	if err := json.Unmarshal(body, &out); err != nil || len(out) != 1 {
		tw.t.Fatalf("POST answer %s: %v", body, err)
	}
	return out[0].ID, out[0].Cluster
}

func (tw *town) waitMail(n int) []mailtest.Message {
	tw.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := tw.smtp.WaitForCount(ctx, n); err != nil {
		tw.t.Fatal(err)
	}
	msgs, err := tw.smtp.Messages(ctx)
	if err != nil {
		tw.t.Fatal(err)
	}
	return msgs
}

// outbox is the admin's view of the mail outbox.
func (tw *town) outbox(state string) (counts map[string]int, msgs []map[string]any) {
	tw.t.Helper()
	status, body := tw.do("GET", "/api/v1/outbox/mail?state="+state, "", map[string]string{"X-Api-Key": tw.keys[requests.RoleAdmin]})
	if status != http.StatusOK {
		tw.t.Fatalf("outbox: %d %s", status, body)
	}
	var out struct {
		Counts   map[string]int   `json:"counts"`
		Messages []map[string]any `json:"messages"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		tw.t.Fatal(err)
	}
	return out.Counts, out.Messages
}

func to(m mailtest.Message) string {
	if len(m.To) != 1 {
		return fmt.Sprint(m.To)
	}
	return m.To[0].Address
}

// TestResidentsHearBack: each subscribed reporter of a cluster gets a
// receipt and one message per public update, in their language, with
// nothing of the others in it, and working links; unsubscribing works
// and is idempotent.
func TestResidentsHearBack(t *testing.T) {
	forEachStore(t, func(t *testing.T, st requests.Store) {
		tw := newTown(t, st, mailtest.Options{})
		tw.startMailer()
		a, cluster := tw.submit(url.Values{"email": {"amelie@ok.test"}, "first_name": {"Amélie"}, "locale": {"fr"}}, nil)
		b, clB := tw.submit(url.Values{"email": {"bob@ok.test"}, "first_name": {"Bob"}, "phone": {"819-555-0100"}}, map[string]string{"Accept-Language": "en-CA"})
		_, clC := tw.submit(url.Values{"email": {"carl@ok.test"}, "notify": {"false"}}, nil)
		_, clD := tw.submit(url.Values{"first_name": {"Anonymous"}}, nil)
		if clB != cluster || clC != cluster || clD != cluster {
			t.Fatalf("setup: clusters %s %s %s %s", cluster, clB, clC, clD)
		}
		tw.waitMail(2)

		// The close is one update: one message each, not one per request.
		status, body := tw.do("POST", "/api/v1/clusters/"+cluster+"/close", `{"note":"Filled on Tuesday","reason":"resolved"}`,
			map[string]string{"X-Api-Key": tw.keys[requests.RoleStaff], "Content-Type": "application/json"})
		if status != http.StatusOK {
			t.Fatalf("close: %d %s", status, body)
		}
		tw.waitMail(4)
		time.Sleep(300 * time.Millisecond) // nothing more comes
		msgs := tw.waitMail(4)
		if len(msgs) != 4 {
			t.Fatalf("%d messages, want 4 (a receipt and a close each for two subscribers)", len(msgs))
		}
		byTo := map[string][]mailtest.Message{}
		for _, m := range msgs {
			byTo[to(m)] = append(byTo[to(m)], m)
		}
		if len(byTo["amelie@ok.test"]) != 2 || len(byTo["bob@ok.test"]) != 2 {
			t.Fatalf("messages by recipient: %v", byTo)
		}
		want := map[string][]string{
			"amelie@ok.test": {"nous avons reçu votre demande " + a, "votre demande " + a + " est fermée"},
			"bob@ok.test":    {"we received your request " + b, "your request " + b + " is closed"},
		}
		for addr, ms := range byTo {
			for _, m := range ms {
				ok := false
				for _, w := range want[addr] {
					ok = ok || strings.Contains(m.Subject, w)
				}
				if !ok {
					t.Errorf("%s got %q, want one of %q", addr, m.Subject, want[addr])
				}
				all := m.Subject + m.Text + m.HTML + fmt.Sprint(m.Headers)
				for _, other := range []string{"amelie@ok.test", "bob@ok.test", "carl@ok.test"} {
					if other != addr && strings.Contains(all, other) {
						t.Errorf("the message to %s carries %q", addr, other)
					}
				}
				if strings.Contains(all, "Amélie") || strings.Contains(all, "Bob") || strings.Contains(all, "819-555") {
					t.Errorf("a message repeats personal information: %s", m.Subject)
				}
				if m.Header("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || m.ListUnsubscribe.Errors != "" {
					t.Errorf("%s: unsubscribe headers %q (%s)", m.Subject, m.Header("List-Unsubscribe"), m.ListUnsubscribe.Errors)
				}
			}
		}
		for _, m := range byTo["amelie@ok.test"] {
			if m.Header("Content-Language") != "fr" || strings.Contains(strings.ToLower(m.Text), "your request") {
				t.Errorf("Amélie's message is not in French: %q\n%s", m.Subject, m.Text)
			}
			if strings.Contains(m.Subject, "fermée") && (!strings.Contains(m.Text, "Filled on Tuesday") || !strings.Contains(m.Text, "problème réglé")) {
				t.Errorf("the close message lacks its note or reason:\n%s", m.Text)
			}
		}

		// Every link in a message works: the satisfaction and reopen
		// links (the status page with their tokens), the unsubscribe
		// page.
		var fr mailtest.Message
		for _, m := range byTo["amelie@ok.test"] {
			if strings.Contains(m.Subject, "fermée") {
				fr = m
			}
		}
		links := regexp.MustCompile(`https?://\S+`).FindAllString(fr.Text, -1)
		if len(links) != 3 || !strings.Contains(links[0], "&satisfaction=") || !strings.Contains(links[1], "&reopen=") {
			t.Fatalf("close message links: %q", links)
		}
		for _, l := range links {
			if !strings.HasPrefix(l, tw.srv.URL) {
				t.Errorf("link %q is not on the server", l)
				continue
			}
			if status, body := tw.do("GET", l, "", nil); status != http.StatusOK {
				t.Errorf("GET %s: %d %s", l, status, body)
			}
		}
		unsub := strings.Trim(fr.Header("List-Unsubscribe"), "<>")
		status, page := tw.do("GET", unsub, "", nil)
		if status != http.StatusOK || !strings.Contains(string(page), `lang="fr"`) || !strings.Contains(string(page), "<form") {
			t.Fatalf("GET unsubscribe page: %d %s", status, page)
		}
		if notify, _, _ := st.ReporterMail(context.Background(), tenant, a); !notify {
			t.Fatal("the page alone unsubscribed (mail scanners fetch links)")
		}
		for i := range 2 { // one-click, twice
			if status, body := tw.do("POST", unsub, "List-Unsubscribe=One-Click",
				map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); status != http.StatusOK {
				t.Fatalf("one-click unsubscribe #%d: %d %s", i+1, status, body)
			}
		}
		if status, body := tw.do("POST", unsub, "", nil); status != http.StatusOK || !strings.Contains(string(body), "désabonné") {
			t.Errorf("the page's button after one-click: %d %s", status, body)
		}
		status, body = tw.do("GET", "/api/v1/requests/"+a+"/reporter", "", map[string]string{"X-Api-Key": tw.keys[requests.RoleStaff]})
		if status != http.StatusOK || !strings.Contains(string(body), `"mail":{"notify":false}`) {
			t.Errorf("staff reporter read after unsubscribe: %d %s", status, body)
		}
		// A forged token, or one of another purpose, is a bilingual 404.
		forged := unsub[:strings.LastIndex(unsub, "/")+1] + "AQ" + strings.Repeat("x", 30)
		for _, u := range []string{forged, tw.srv.URL + "/u/nope"} {
			status, body := tw.do("POST", u, "", nil)
			if status != http.StatusNotFound || !strings.Contains(string(body), "description_fr") {
				t.Errorf("POST %s: %d %s", u, status, body)
			}
		}
		counts, _ := tw.outbox("")
		if counts["sent"] != 4 || counts["pending"] != 0 || counts["dead"] != 0 {
			t.Errorf("outbox counts %v", counts)
		}
	})
}

// TestSMTPDownThenUp: messages queued while the SMTP server is down stay
// queued, are retried with backoff, and each arrives once when it is back.
func TestSMTPDownThenUp(t *testing.T) {
	forEachStore(t, func(t *testing.T, st requests.Store) {
		tw := newTown(t, st, mailtest.Options{})
		tw.smtp.Stop()
		tw.startMailer()
		const n = 12
		for i := range n {
			tw.submit(url.Values{"email": {fmt.Sprintf("r%d@ok.test", i)}}, nil)
		}
		// Down for a while: several attempts each, all pending.
		deadline := time.Now().Add(20 * time.Second)
		for {
			counts, ms := tw.outbox("pending")
			tried := 0
			for _, m := range ms {
				if m["attempts"].(float64) >= 2 && m["last_error"] != "" {
					tried++
				}
			}
			if counts["pending"] == n && tried == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("outbox while SMTP is down: %v %v", counts, ms)
			}
			time.Sleep(100 * time.Millisecond)
		}
		tw.smtp.Restart()
		tw.waitMail(n)
		time.Sleep(time.Second) // duplicates would come now
		ctx := context.Background()
		byID, err := tw.smtp.CountByMessageID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(byID) != n {
			t.Errorf("%d distinct messages, want %d", len(byID), n)
		}
		for id, k := range byID {
			if k != 1 || !strings.HasPrefix(id, "pinward."+tenant+".mail.") || !strings.HasSuffix(id, "@city.example") {
				t.Errorf("Message-ID %q arrived %d times", id, k)
			}
		}
		if counts, _ := tw.outbox(""); counts["sent"] != n || counts["pending"] != 0 {
			t.Errorf("outbox counts %v", counts)
		}
	})
}

// TestAddressRefused: a 550 for one address marks it undeliverable (shown
// to staff, no more mail queued to it, a dead letter for admins); the
// others are delivered.
func TestAddressRefused(t *testing.T) {
	forEachStore(t, func(t *testing.T, st requests.Store) {
		tw := newTown(t, st, mailtest.Options{AllowedRecipients: `@ok\.test$`})
		tw.startMailer()
		tw.submit(url.Values{"email": {"a@ok.test"}}, nil)
		gone, _ := tw.submit(url.Values{"email": {"gone@bounce.test"}}, nil)
		tw.submit(url.Values{"email": {"c@ok.test"}}, nil)
		msgs := tw.waitMail(2)
		deadline := time.Now().Add(20 * time.Second)
		var dead []map[string]any
		for {
			var counts map[string]int
			counts, dead = tw.outbox("dead")
			if counts["dead"] == 1 && counts["sent"] == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("outbox: %v", counts)
			}
			time.Sleep(50 * time.Millisecond)
		}
		for _, m := range msgs {
			if to(m) == "gone@bounce.test" {
				t.Errorf("a refused address got mail")
			}
		}
		if len(dead) != 1 || dead[0]["service_request_id"] != gone || !strings.Contains(dead[0]["last_error"].(string), "550") ||
			strings.Contains(dead[0]["last_error"].(string), "gone@bounce.test") || dead[0]["attempts"].(float64) != 1 {
			t.Errorf("dead letter: %v", dead)
		}
		status, body := tw.do("GET", "/api/v1/requests/"+gone+"/reporter", "", map[string]string{"X-Api-Key": tw.keys[requests.RoleStaff]})
		if status != http.StatusOK || !strings.Contains(string(body), `"undeliverable":{"code":550`) {
			t.Errorf("staff reporter read: %d %s", status, body)
		}
		// The address gets nothing more queued (in any case).
		tw.submit(url.Values{"email": {"Gone@Bounce.test"}}, nil)
		if counts, _ := tw.outbox(""); counts["pending"]+counts["sent"]+counts["dead"] != 3 {
			t.Errorf("a message was queued to an undeliverable address: %v", counts)
		}
	})
}
