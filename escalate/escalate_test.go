package escalate_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/escalate"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/live"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
	"github.com/pinward/pinward/store/sqlite"
)

const tenant = "town"

// catalogJSON: potholes are due in 16 business hours (two days of 8), and
// escalate at half, at the due time and one business day after it.
const catalogJSON = `{
  "time_zone": "America/Toronto",
  "holidays": "QC",
  "departments": [{"code": "roads", "name": {"en": "Roads", "fr": "Voirie"},
    "contacts": {"department": [{"email": "roads@example.ca", "lang": "fr"}],
                 "supervisor": [{"email": "chief@example.ca", "lang": "en"}, {"email": "deputy@example.ca", "lang": "fr"}],
                 "director": [{"email": "dg@example.ca", "lang": "fr"}]}}],
  "categories": [{
    "code": "pothole", "name": {"en": "Pothole", "fr": "Nid-de-poule"},
    "description": {"en": "A hole.", "fr": "Un trou."}, "group": {"en": "Roads", "fr": "Voirie"},
    "department": "roads", "dedup": {"distance_m": 0, "window_hours": 0, "same_asset": false},
    "sla": {"hours": 16, "business_hours": true},
    "escalation": [{"at": "50%", "notify": "department"}, {"at": "100%", "notify": "supervisor"},
                   {"at": "100%+1bd", "notify": "director"}]
  }]
}`

// contactsPerLevel is how many messages each level queues.
var contactsPerLevel = []int{1, 2, 1}

func catalog(t *testing.T) *requests.Catalog {
	t.Helper()
	c, err := requests.LoadCatalog(strings.NewReader(catalogJSON))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// t0 is Monday 2 March 2026, 09:00 in Toronto.
var t0 = time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)

// clock is a fake clock the tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// submit stores n potholes received at at, with the next escalation time
// intake gives them.
func submit(t *testing.T, st requests.Store, cat *requests.Catalog, n int, at time.Time) []requests.Request {
	t.Helper()
	var out []requests.Request
	for i := range n {
		r := requests.Request{TenantID: tenant, ServiceCode: "pothole", Status: requests.New,
			Point: orb.Point{-73.1 + float64(i)*1e-3, 46.05}, WardID: "1", Department: "roads",
			RequestedAt: at, UpdatedAt: at, DueAt: cat.DueAt("pothole", at), Lang: i18n.Fr, Token: fmt.Sprintf("t%d-%d", at.UnixNano(), i)}
		r.NextEscalationAt, _ = cat.LevelAt("pothole", at, nil, 1)
		stored, err := st.CreateRequest(context.Background(), requests.NewRequest{Request: r,
			Event: requests.Event{TenantID: tenant, At: at, Actor: "resident", Kind: requests.EventCreated, To: requests.New}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, stored)
	}
	return out
}

// TestTwoServersFireEachLevelOnce: two servers (two pools on one PostGIS
// database) sweep at the same moments of a fake clock walked hour by hour
// across two weeks; every level of every request fires exactly once, in
// order, never before it is due, with one message per contact.
func TestTwoServersFireEachLevelOnce(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	cat := catalog(t)
	var servers []*postgis.Store
	for range 2 {
		s, err := postgis.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		servers = append(servers, s)
	}
	rs := submit(t, servers[0], cat, 40, t0)
	clk := &clock{now: t0}
	var sweepers []*escalate.Sweeper
	for _, s := range servers {
		sweepers = append(sweepers, escalate.NewSweeper(escalate.Config{Store: s, Catalog: cat, Tenant: tenant, Now: clk.Now, Batch: 7, Log: quiet()}))
	}
	fired := 0
	for now := t0; now.Before(t0.Add(14 * 24 * time.Hour)); now = now.Add(time.Hour) {
		clk.Set(now)
		var wg sync.WaitGroup
		counts := make([]int, len(sweepers))
		for i, sw := range sweepers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := sw.Sweep(ctx)
				if err != nil {
					t.Error(err)
				}
				counts[i] = n
			}()
		}
		wg.Wait()
		fired += counts[0] + counts[1]
	}
	if want := len(rs) * 3; fired != want {
		t.Errorf("the sweepers fired %d levels, want %d", fired, want)
	}
	msgs, err := servers[1].EscalationMessages(ctx, tenant, time.Time{}, 10000)
	if err != nil {
		t.Fatal(err)
	}
	perRequest := map[string][]requests.EscalationMessage{}
	for _, m := range msgs {
		perRequest[m.ServiceRequestID] = append(perRequest[m.ServiceRequestID], m)
	}
	for _, r := range rs {
		got, err := servers[1].GetRequest(ctx, tenant, r.ServiceRequestID)
		if err != nil || got.EscalationLevel != 3 || !got.NextEscalationAt.IsZero() {
			t.Errorf("request %s: level %d, next %v, %v; want 3 and none", r.ServiceRequestID, got.EscalationLevel, got.NextEscalationAt, err)
		}
		evs, err := servers[0].ListEvents(ctx, tenant, r.ServiceRequestID)
		if err != nil {
			t.Fatal(err)
		}
		var levels []string
		for _, e := range evs {
			if e.Kind != requests.EventEscalated {
				continue
			}
			levels = append(levels, e.Note)
			due, _ := cat.LevelAt("pothole", r.RequestedAt, nil, len(levels))
			if e.At.Before(due) || e.At.After(due.Add(time.Hour)) {
				t.Errorf("request %s: level %d fired at %v, due %v", r.ServiceRequestID, len(levels), e.At, due)
			}
		}
		if strings.Join(levels, ",") != "department,supervisor,director" {
			t.Errorf("request %s fired %v", r.ServiceRequestID, levels)
		}
		ms := perRequest[r.ServiceRequestID]
		if len(ms) != 4 {
			t.Errorf("request %s: %d messages, want 4: %+v", r.ServiceRequestID, len(ms), ms)
			continue
		}
		i := 0
		for level, n := range contactsPerLevel {
			for range n {
				if ms[i].Level != level+1 {
					t.Errorf("request %s: message %d is of level %d, want %d", r.ServiceRequestID, i, ms[i].Level, level+1)
				}
				i++
			}
		}
	}
}

// TestViewFollowsChanges: registered on the change stream, the view gives
// a request intake did not time (another writer) its next escalation time,
// takes it away when the request closes, and its own write does not make
// another round of writes.
func TestViewFollowsChanges(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st, cat := b.store, catalog(t)
			stream := live.New(live.Config{Store: st, Tenant: tenant, Poll: 20 * time.Millisecond, Log: quiet()})
			stream.Register("escalation", escalate.NewView(escalate.Config{Store: st, Catalog: cat, Tenant: tenant, Log: quiet()}),
				requests.ChangeRequest)
			// Stored before the stream starts, without a time: Load gives it one.
			before := submit(t, st, cat, 1, t0)[0]
			resetNext(t, st, before)
			if err := stream.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer stream.Stop()
			want, _ := cat.LevelAt("pothole", t0, nil, 1)
			checkNext(t, st, before, want)

			r := submit(t, st, cat, 1, t0.Add(time.Hour))[0]
			resetNext(t, st, r)
			if err := stream.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			want, _ = cat.LevelAt("pothole", t0.Add(time.Hour), nil, 1)
			checkNext(t, st, r, want)
			// Settle, then nothing more happens: the view's write came
			// back to it once and stopped there.
			if err := stream.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			applied := stream.Applied("escalation")
			time.Sleep(200 * time.Millisecond)
			if err := stream.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if got := stream.Applied("escalation"); got != applied {
				t.Errorf("the view went on applying changes (%d, then %d): its write loops", applied, got)
			}
			if _, err := st.UpdateStatus(ctx, requests.StatusChange{Tenant: tenant, ServiceRequestID: r.ServiceRequestID,
				To: requests.Closed, Note: "fixed", Actor: "crew", At: t0.Add(2 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if err := stream.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			checkNext(t, st, r, time.Time{})
		})
	}
}

// resetNext clears a request's next escalation time as a writer that
// does not know escalation would leave it.
func resetNext(t *testing.T, st requests.Store, r requests.Request) {
	t.Helper()
	if n, err := st.SetNextEscalations(context.Background(), tenant, []requests.NextEscalation{{ID: r.ID, Status: r.Status}}); err != nil || n != 1 {
		t.Fatalf("clear next escalation: %d, %v", n, err)
	}
}

func checkNext(t *testing.T, st requests.Store, r requests.Request, want time.Time) {
	t.Helper()
	got, err := st.GetRequest(context.Background(), tenant, r.ServiceRequestID)
	if err != nil || !got.NextEscalationAt.Equal(want) {
		t.Errorf("request %s: next escalation %v (%v), want %v", r.ServiceRequestID, got.NextEscalationAt, err, want)
	}
}

type backend struct {
	name  string
	store requests.Store
}

func backends(t *testing.T) []backend {
	t.Helper()
	sq, err := sqlite.Open(context.Background(), t.TempDir()+"/pinward.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	out := []backend{{"sqlite", sq}}
	if os.Getenv(pgtest.EnvURL) != "" {
		pg, err := postgis.Open(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pg.Close)
		out = append(out, backend{"postgis", pg})
	}
	return out
}

// The crash child: sweeps once on the database named in the environment
// and stops for good between raising the level and queuing its messages,
// saying so on stdout, until the parent kills it.
const envCrashDB = "ESCALATE_CRASH_CHILD_DB"

func TestCrashChild(t *testing.T) {
	url := os.Getenv(envCrashDB)
	if url == "" {
		t.Skip("run by TestKilledBetweenClaimAndMessage")
	}
	st, err := postgis.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: t0.Add(30 * 24 * time.Hour)}
	sw := escalate.NewSweeper(escalate.Config{Store: st, Catalog: catalog(t), Tenant: tenant, Now: clk.Now, Log: quiet()})
	sw.AfterClaim = func(context.Context) {
		fmt.Println("claimed")
		select {} // killed here
	}
	sw.Sweep(context.Background())
	t.Fatal("the sweep returned")
}

// TestKilledBetweenClaimAndMessage: a server killed (SIGKILL) after it
// raised a level and wrote its event but before it queued the messages
// leaves neither (one transaction); the next sweep, after the restart,
// fires the level and queues its messages once.
func TestKilledBetweenClaimAndMessage(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	cat := catalog(t)
	st, err := postgis.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	r := submit(t, st, cat, 1, t0)[0]

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envCrashDB+"="+url)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "claimed" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the child said %q, %v", line, err)
	}
	// The level is raised in the child's open transaction now.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	check := func(level, messages int) {
		t.Helper()
		got, err := st.GetRequest(ctx, tenant, r.ServiceRequestID)
		if err != nil || got.EscalationLevel != level {
			t.Errorf("level %d (%v), want %d", got.EscalationLevel, err, level)
		}
		evs, _ := st.ListEvents(ctx, tenant, r.ServiceRequestID)
		n := 0
		for _, e := range evs {
			if e.Kind == requests.EventEscalated {
				n++
			}
		}
		if n != level {
			t.Errorf("%d escalated events, want %d", n, level)
		}
		ms, err := st.EscalationMessages(ctx, tenant, time.Time{}, 0)
		if err != nil || len(ms) != messages {
			t.Errorf("%d messages (%v), want %d", len(ms), err, messages)
		}
	}
	check(0, 0) // neither the level nor its messages

	// After the restart: PostgreSQL ends the killed session's transaction
	// once it sees the socket close; until then the row is skipped.
	clk := &clock{now: t0.Add(30 * 24 * time.Hour)}
	sw := escalate.NewSweeper(escalate.Config{Store: st, Catalog: cat, Tenant: tenant, Now: clk.Now, Log: quiet()})
	total := 0
	for deadline := time.Now().Add(20 * time.Second); total == 0 && time.Now().Before(deadline); {
		n, err := sw.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if n == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	// The clock is long past every level: all three fire, in order, each
	// with its messages, once.
	if total != 3 {
		t.Errorf("the sweep after the restart fired %d levels, want 3", total)
	}
	if n, _ := sw.Sweep(ctx); n != 0 {
		t.Errorf("a second sweep fired %d more", n)
	}
	check(3, 4)
}
