package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/pinward/pinward/internal/pgtest"
)

// appliedCounts reads a server's /metrics: the changes each view has
// applied since the server started (pinward_changes_applied_total).
func appliedCounts(t *testing.T, base string) map[string]int {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), `pinward_changes_applied_total{view="`)
		if !ok || name != "" {
			continue
		}
		view, v, _ := strings.Cut(rest, `"} `)
		if view == "escalation" {
			continue // follows every request change too; tested in package escalate
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", sc.Text(), err)
		}
		out[view] = int(n)
	}
	if len(out) == 0 {
		t.Fatalf("%s/metrics has no pinward_changes_applied_total", base)
	}
	return out
}

// submitAt posts a graffiti report at p to base and returns its ID.
func submitAt(t *testing.T, base, key string, p orb.Point) string {
	t.Helper()
	res, err := http.PostForm(base+"/open311/v2/requests.json", url.Values{
		"api_key": {key}, "service_code": {"graffiti"}, "attribute[offensive]": {"no"},
		"long": {strconv.FormatFloat(p[0], 'f', -1, 64)}, "lat": {strconv.FormatFloat(p[1], 'f', -1, 64)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var created []struct {
		ID string `json:"service_request_id"`
	}
	if err := json.Unmarshal(b, &created); err != nil || res.StatusCode != 201 || len(created) != 1 {
		t.Fatalf("POST at %v to %s: %d %s", p, base, res.StatusCode, b)
	}
	return created[0].ID
}

// TestChangeStreamThreeServers: two servers on one PostGIS and one on
// SQLite. A change made on any server reaches every view (asset index,
// tiles) of every server on its store exactly once, counted by the views'
// own counters on /metrics; including the changes made while a server's
// notifications were cut (caught up by cursor when it listens again) and
// while a server was stopped (there at its restart, then followed again).
//
// The servers poll the stream hourly: within the test only the store's
// notifications (NOTIFY, SQLite's notifier after COMMIT) wake them.
func TestChangeStreamThreeServers(t *testing.T) {
	db := pgtest.URL(t) // skips without PINWARD_TEST_DATABASE_URL
	pgVars := func() map[string]string {
		return map[string]string{"PINWARD_DB": db, "PINWARD_ADDR": "127.0.0.1:0", "PINWARD_CHANGE_POLL": "1h"}
	}
	varsA, varsB := pgVars(), pgVars()
	varsC := map[string]string{"PINWARD_DATA_DIR": t.TempDir(), "PINWARD_ADDR": "127.0.0.1:0", "PINWARD_CHANGE_POLL": "1h"}
	keyPG, keyC := tileKey(t, varsA), tileKey(t, varsC)
	a, stopA := startTileServe(t, varsA)
	defer stopA()
	b, stopB := startTileServe(t, varsB)
	defer func() { stopB() }()
	c, stopC := startTileServe(t, varsC)
	defer stopC()

	// Places in the sample town, each its own cluster (graffiti clusters
	// within 25 m).
	place := func(i int) orb.Point { return orb.Point{-73.08 - 0.001*float64(i), 46.04} }
	onTile := func(base, id string, p orb.Point) bool {
		return hasFeature(tileFeatures(t, base, "requests", p, 17), "id", id)
	}
	assetOnTile := func(base, id string, p orb.Point) bool {
		return hasFeature(tileFeatures(t, base, "assets", p, 17), "id", id)
	}
	// want is what each server's views have applied since it started.
	want := map[string]map[string]int{a: {"assets": 0, "tiles": 0}, b: {"assets": 0, "tiles": 0}, c: {"assets": 0, "tiles": 0}}
	applied := func(servers ...string) {
		t.Helper()
		for _, s := range servers {
			if _, ok := waitFor(5*time.Second, func() bool { return fmt.Sprint(appliedCounts(t, s)) == fmt.Sprint(want[s]) }); !ok {
				t.Fatalf("server %s applied %v, want %v", s, appliedCounts(t, s), want[s])
			}
		}
		// Long enough for a second delivery (a notification, another
		// server's read-back) to show.
		time.Sleep(200 * time.Millisecond)
		for _, s := range servers {
			if got := appliedCounts(t, s); fmt.Sprint(got) != fmt.Sprint(want[s]) {
				t.Fatalf("server %s applied %v, want %v: a change was applied twice", s, got, want[s])
			}
		}
	}
	add := func(view string, n int, servers ...string) {
		for _, s := range servers {
			want[s][view] += n
		}
	}

	// A request on A: A's and B's tiles, once each; C is another store.
	p1 := place(1)
	r1 := submitAt(t, a, keyPG, p1)
	if _, ok := waitFor(5*time.Second, func() bool { return onTile(b, r1, p1) && onTile(a, r1, p1) }); !ok {
		t.Fatalf("request %s from A is not on both tiles", r1)
	}
	add("tiles", 1, a, b)
	applied(a, b, c)

	// An asset on B: both indexes and both tiles, once each.
	putAsset(t, b, keyPG, "hydrant", "HY-CS-1", p1)
	if _, ok := waitFor(5*time.Second, func() bool { return assetOnTile(a, "HY-CS-1", p1) }); !ok {
		t.Fatal("asset from B is not on A's tiles")
	}
	add("assets", 1, a, b)
	add("tiles", 1, a, b)
	applied(a, b, c)

	// A request and an asset on C (SQLite): its own views, once each.
	r2 := submitAt(t, c, keyC, place(2))
	putAsset(t, c, keyC, "hydrant", "HY-CS-2", place(2))
	if _, ok := waitFor(5*time.Second, func() bool { return onTile(c, r2, place(2)) }); !ok {
		t.Fatalf("request %s is not on C's tiles", r2)
	}
	add("tiles", 2, c)
	add("assets", 1, c)
	applied(a, b, c)

	// Cut every PostGIS server's notifications and write meanwhile: the
	// servers hear nothing of these until they listen again, then catch
	// up from their cursor (the reconnection wakes them).
	conn, err := pgx.Connect(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var cut int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000))
		FROM pg_stat_activity WHERE application_name = 'pinward changes' AND datname = current_database()`).Scan(&cut); err != nil || cut != 2 {
		t.Fatalf("cut %d listeners, want 2 (A's and B's): %v", cut, err)
	}
	var missed []string
	for i := range 3 {
		missed = append(missed, submitAt(t, a, keyPG, place(3+i)))
	}
	if _, ok := waitFor(10*time.Second, func() bool { return onTile(b, missed[2], place(5)) && onTile(a, missed[0], place(3)) }); !ok {
		t.Fatal("the requests made while the notifications were cut never reached the tiles")
	}
	add("tiles", 3, a, b)
	applied(a, b, c)

	// Stop B, change things on A, start B again: B's views hold the
	// changes from its start, and follow A's next ones once each.
	stopB()
	p6 := place(6)
	whileDown := submitAt(t, a, keyPG, p6)
	putAsset(t, a, keyPG, "hydrant", "HY-CS-3", p6)
	add("tiles", 2, a)
	add("assets", 1, a)
	b2, stopB2 := startTileServe(t, varsB)
	defer stopB2()
	if !onTile(b2, whileDown, p6) || !assetOnTile(b2, "HY-CS-3", p6) || !onTile(b2, r1, p1) {
		t.Fatal("the restarted server's tiles miss what was stored while it was down")
	}
	// On PostgreSQL a change committed just before the start can be in
	// both the load and the stream, while any older transaction of the
	// database server still ran (in tests: another package's): count from
	// where the restarted server settles.
	time.Sleep(200 * time.Millisecond)
	want[b2] = appliedCounts(t, b2)
	p7 := place(7)
	after := submitAt(t, a, keyPG, p7)
	putAsset(t, b2, keyPG, "hydrant", "HY-CS-4", p7)
	if _, ok := waitFor(5*time.Second, func() bool { return onTile(b2, after, p7) && assetOnTile(a, "HY-CS-4", p7) }); !ok {
		t.Fatal("changes after the restart did not reach both servers")
	}
	add("tiles", 2, a, b2)
	add("assets", 1, a, b2)
	applied(a, b2, c)
}
