package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/dispatch"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/sqlite"
)

// startServeEnv is startServe with extra environment variables.
func startServeEnv(t *testing.T, bin string, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "warn"}, args...)...)
	cmd.Env = append(append(os.Environ(), "PINWARD_DB=", "PINWARD_DATA_DIR=", "PINWARD_RATE_LIMITS="+testRateLimits), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: &bytes.Buffer{}}
	cmd.Stderr = &syncWriter{w: s.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-lines:
		u, found := strings.CutPrefix(line, "pinward: listening on ")
		if !found {
			t.Fatalf("serve printed %q; stderr:\n%s", line, s.stderr)
		}
		s.url = u
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not start; stderr:\n%s", s.stderr)
	}
	return s
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func createRoleKey(t *testing.T, bin, role string, storeArgs ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, append([]string{"keys", "create", "--role", role}, storeArgs...)...)
	cmd.Env = append(os.Environ(), "PINWARD_DB=", "PINWARD_DATA_DIR=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("keys create: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// hookReceiver is an integrator's webhook on loopback: it checks every
// signature and counts deliveries per Idempotency-Key.
type hookReceiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	seen   map[string]int
	ids    map[string]string // key → work_order_id
	bad    int
	delay  time.Duration
	status int // answer; 200 when 0
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	if dispatch.Verify([]byte(h.secret), r.Header, body, time.Now()) != nil {
		h.bad++
		h.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var p dispatch.Payload
	json.Unmarshal(body, &p)
	// postGraffiti's residents give an email and a first name: neither
	// may leave pinward.
	if strings.Contains(string(body), "resident@example.ca") || strings.Contains(string(body), `"Ann"`) ||
		strings.Contains(string(body), "first_name") || strings.Contains(string(body), "email") {
		h.t.Errorf("personal information in a work order: %s", body)
	}
	key := r.Header.Get("Idempotency-Key")
	h.seen[key]++
	h.ids[key] = p.WorkOrderID
	delay, status := h.delay, h.status
	h.mu.Unlock()
	time.Sleep(delay)
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
}

func (h *hookReceiver) snapshot() (keys map[string]int, bad int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	keys = map[string]int{}
	for k, v := range h.seen {
		keys[k] = v
	}
	return keys, h.bad
}

// postGraffiti submits graffiti reports at n spots 40 m apart (one cluster
// each) plus a second report at each of the first dup spots, and returns
// the clusters.
func postGraffiti(t *testing.T, base, key string, n, dup int) map[string]bool {
	t.Helper()
	clusters := map[string]bool{}
	for i := range n + dup {
		j := i % n
		lat, lon := 46.0300619+float64(j%5)*0.00036, -73.066232+float64(j/5)*0.0005
		res, err := http.PostForm(base+"/open311/v2/requests.json", url.Values{
			"api_key": {key}, "service_code": {"graffiti"}, "attribute[offensive]": {"no"},
			"lat": {fmt.Sprint(lat)}, "long": {fmt.Sprint(lon)}, "description": {fmt.Sprintf("tag %d", i)},
			"email": {"resident@example.ca"}, "first_name": {"Ann"},
		})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var out []struct {
			ID      string `json:"service_request_id"`
			Cluster string `json:"cluster_id"`
		}
		if res.StatusCode != http.StatusCreated || json.Unmarshal(body, &out) != nil || len(out) != 1 {
			t.Fatalf("POST %d: %d %s", i, res.StatusCode, body)
		}
		clusters[out[0].Cluster] = true
	}
	if len(clusters) != n {
		t.Fatalf("%d clusters, want %d", len(clusters), n)
	}
	return clusters
}

// TestWorkOrdersEndToEnd runs the work-order tests that need the real
// binary, sharing one build.
func TestWorkOrdersEndToEnd(t *testing.T) {
	bin := buildPinward(t)
	for name, fn := range map[string]func(*testing.T, string){
		"SIGKILL": testWorkOrdersSurviveSIGKILL, "API": testWorkOrderAPI, "Open311Outbound": testOpen311Outbound,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, bin)
		})
	}
}

// testWorkOrdersSurviveSIGKILL: pinward is SIGKILLed while deliveries are
// in flight and restarted; every work order arrives, one Idempotency-Key
// each, signed, and a cluster reported twice gets one work order.
func testWorkOrdersSurviveSIGKILL(t *testing.T, bin string) {
	for _, st := range []struct {
		name string
		args func(t *testing.T) []string
	}{
		{"sqlite", func(t *testing.T) []string { return []string{"--data-dir", filepath.Join(t.TempDir(), "var")} }},
		{"postgis", func(t *testing.T) []string { return []string{"--db", pgtest.URL(t)} }},
	} {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			storeArgs := st.args(t)
			key := createKey(t, bin, storeArgs...)
			rc := &hookReceiver{t: t, secret: "hook-secret", seen: map[string]int{}, ids: map[string]string{}, delay: 300 * time.Millisecond}
			hook := httptest.NewServer(rc)
			t.Cleanup(hook.Close)
			args := append([]string{"--allow-private-webhooks", "--workorder-webhook", hook.URL + "/in", "--workorder-timeout", "1s", "--workorder-backoff", "50ms"}, storeArgs...)
			env := []string{"PINWARD_WORKORDER_SECRET=hook-secret"}
			srv := startServeEnv(t, bin, env, args...)

			const n = 15
			postGraffiti(t, srv.url, key, n, 5)
			// Kill as soon as deliveries are in flight.
			deadline := time.Now().Add(30 * time.Second)
			for {
				if keys, _ := rc.snapshot(); len(keys) >= 1 || time.Now().After(deadline) {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := srv.cmd.Process.Signal(os.Kill); err != nil {
				t.Fatal(err)
			}
			srv.cmd.Wait()
			keysAtKill, _ := rc.snapshot()

			startServeEnv(t, bin, env, args...)
			deadline = time.Now().Add(60 * time.Second)
			for {
				keys, _ := rc.snapshot()
				if len(keys) >= n || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(500 * time.Millisecond) // let stragglers show themselves
			keys, bad := rc.snapshot()
			if len(keys) != n || bad != 0 {
				t.Fatalf("receiver saw %d distinct keys (want %d, one per work order), %d bad signatures: %v", len(keys), n, bad, keys)
			}
			ids := map[string]bool{}
			rc.mu.Lock()
			for _, id := range rc.ids {
				ids[id] = true
			}
			rc.mu.Unlock()
			if len(ids) != n {
				t.Errorf("%d distinct work orders, want %d", len(ids), n)
			}
			t.Logf("%d work orders; %d keys seen before SIGKILL; deliveries per key after restart: %v", n, len(keysAtKill), keys)
		})
	}
}

// testWorkOrderAPI: a receiver that refuses for good dead-letters the work
// order; staff list and retry it; the integrator's status moves the
// cluster's requests.
func testWorkOrderAPI(t *testing.T, bin string) {
	storeArgs := []string{"--data-dir", filepath.Join(t.TempDir(), "var")}
	key := createKey(t, bin, storeArgs...)
	staff := createRoleKey(t, bin, "staff", storeArgs...)
	rc := &hookReceiver{t: t, secret: "s", seen: map[string]int{}, ids: map[string]string{}, status: http.StatusUnprocessableEntity}
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)
	srv := startServeEnv(t, bin, nil, append([]string{"--allow-private-webhooks", "--workorder-webhook", hook.URL, "--workorder-secret", "s",
		"--workorder-backoff", "50ms"}, storeArgs...)...)
	postGraffiti(t, srv.url, key, 1, 1)

	call := func(method, path, apiKey, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.url+path, strings.NewReader(body))
		if apiKey != "" {
			req.Header.Set("X-Api-Key", apiKey)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode, string(b)
	}
	var dead []map[string]any
	for deadline := time.Now().Add(20 * time.Second); len(dead) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no dead letter")
		}
		time.Sleep(20 * time.Millisecond)
		code, body := call("GET", "/api/v1/workorders?state=dead", staff, "")
		if code != 200 || json.Unmarshal([]byte(body), &dead) != nil {
			t.Fatalf("list: %d %s", code, body)
		}
	}
	id := dead[0]["work_order_id"].(string)
	if dead[0]["request_count"].(float64) != 2 || !strings.Contains(dead[0]["last_error"].(string), "422") {
		t.Errorf("dead letter %v", dead[0])
	}
	for _, c := range []struct {
		method, path, key, body string
		want                    int
	}{
		{"GET", "/api/v1/workorders?state=dead", key, "", 403},       // integrator
		{"GET", "/api/v1/workorders?state=dead", "", "", 401},        // no key
		{"GET", "/api/v1/workorders?state=dead", "pw_nope", "", 403}, // unknown key
		{"GET", "/api/v1/workorders?state=lost", staff, "", 400},     // bad state
		{"POST", "/api/v1/workorders/999/retry", staff, "", 404},     // unknown
		{"POST", "/api/v1/workorders/" + id + "/status", key, `{"status":"done"}`, 400},
		{"POST", "/api/v1/workorders/" + id + "/status", key, `{"status":"closed"}`, 400}, // closing needs a reason
		{"POST", "/api/v1/workorders/" + id + "/status", key, `{"status":"closed","x":1}`, 400},
		{"POST", "/api/v1/workorders/" + id + "/status", key, `{`, 400},
		{"POST", "/api/v1/workorders/abc/status", key, `{"status":"in_progress"}`, 404},
		{"POST", "/api/v1/workorders/" + id + "/status", "", `{"status":"in_progress"}`, 401},
	} {
		code, body := call(c.method, c.path, c.key, c.body)
		if code != c.want || !strings.Contains(body, "description_fr") {
			t.Errorf("%s %s %s: %d %s, want %d with a bilingual body", c.method, c.path, c.body, code, body, c.want)
		}
	}
	rc.mu.Lock()
	rc.status = 0
	rc.mu.Unlock()
	if code, body := call("POST", "/api/v1/workorders/"+id+"/retry", staff, ""); code != 200 {
		t.Fatalf("retry: %d %s", code, body)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		_, body := call("GET", "/api/v1/workorders?state=delivered", staff, "")
		if strings.Contains(body, `"work_order_id":"`+id+`"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not delivered after retry: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if keys, bad := rc.snapshot(); len(keys) != 1 || bad != 0 {
		t.Errorf("keys %v, bad signatures %d", keys, bad)
	}
	// The cluster's two pins are on the map until the integrator closes
	// the work order; then they leave it (the store's change stream has
	// the requests the work order moved).
	spot := orb.Point{-73.066232, 46.0300619}
	pins := func() int { return len(tileFeatures(t, srv.url, "requests", spot, 18)) }
	if _, ok := waitFor(5*time.Second, func() bool { return pins() == 2 }); !ok {
		t.Errorf("before the close, the requests tile holds %d features, want 2", pins())
	}
	code, body := call("POST", "/api/v1/workorders/"+id+"/status", key, `{"status":"closed","status_notes":"repainted"}`)
	if code != 200 || !strings.Contains(body, `"moved_requests":2`) || !strings.Contains(body, `"status":"closed"`) {
		t.Fatalf("status: %d %s", code, body)
	}
	if _, ok := waitFor(5*time.Second, func() bool { return pins() == 0 }); !ok {
		t.Errorf("after the work order closed, the requests tile still holds %d features", pins())
	}
	res, err := http.Get(srv.url + "/open311/v2/requests.json?status=closed")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Count(string(b), `"status_notes":"repainted"`) != 2 {
		t.Errorf("closed requests: %s", b)
	}
}

// testOpen311Outbound: pinward A sends public works' work orders to
// pinward B over Open311 (B is a second `pinward serve`); B closes the
// request; A's poll closes A's cluster.
func testOpen311Outbound(t *testing.T, bin string) {
	dirB := filepath.Join(t.TempDir(), "b")
	keyB := createKey(t, bin, "--data-dir", dirB)
	srvB := startServeEnv(t, bin, nil, "--data-dir", dirB)

	var cat map[string]any
	if err := json.Unmarshal(data.SampleCategoriesJSON(), &cat); err != nil {
		t.Fatal(err)
	}
	for _, d := range cat["departments"].([]any) {
		if d := d.(map[string]any); d["code"] == "public_works" {
			d["connector"] = map[string]any{"type": "open311", "endpoint": srvB.url + "/open311/v2", "api_key_env": "PW_B_KEY"}
		}
	}
	b, _ := json.Marshal(cat)
	catFile := filepath.Join(t.TempDir(), "categories.json")
	if err := os.WriteFile(catFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	dirA := filepath.Join(t.TempDir(), "a")
	keyA := createKey(t, bin, "--data-dir", dirA)
	staffA := createRoleKey(t, bin, "staff", "--data-dir", dirA)
	srvA := startServeEnv(t, bin, []string{"PW_B_KEY=" + keyB}, "--allow-private-webhooks", "--data-dir", dirA, "--categories", catFile,
		"--workorder-status-poll", "200ms", "--workorder-backoff", "50ms")
	clusters := postGraffiti(t, srvA.url, keyA, 2, 1)

	get := func(u string) []map[string]any {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out []map[string]any
		json.NewDecoder(res.Body).Decode(&out)
		return out
	}
	var onB []map[string]any
	for deadline := time.Now().Add(20 * time.Second); len(onB) < 2; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("B has %d requests, want 2 (one per cluster of A)", len(onB))
		}
		onB = get(srvB.url + "/open311/v2/requests.json")
	}
	time.Sleep(300 * time.Millisecond)
	if onB = get(srvB.url + "/open311/v2/requests.json"); len(onB) != 2 {
		t.Fatalf("B has %d requests, want 2", len(onB))
	}
	// B's staff close the first one (B's store, as B's own tools would).
	stB, err := sqlite.Open(context.Background(), filepath.Join(dirB, "pinward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer stB.Close()
	// B got the issue, not the residents: no reporter on B's requests.
	idsB := map[string]bool{}
	for _, r := range onB {
		id := r["service_request_id"].(string)
		idsB[id] = true
		rep, err := stB.GetReporter(context.Background(), requests.ReporterAccess{Tenant: "sample", ServiceRequestID: id,
			Actor: "test", At: time.Now().UTC()})
		if err != nil || !rep.IsZero() || !strings.HasPrefix(r["description"].(string), "tag ") {
			t.Errorf("B's request %s: %v, reporter %+v, %v", id, r, rep, err)
		}
	}
	// A's work orders know B's IDs.
	req, _ := http.NewRequest("GET", srvA.url+"/api/v1/workorders?state=delivered", nil)
	req.Header.Set("X-Api-Key", staffA)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var wos []struct {
		ExternalID string `json:"external_id"`
		ClusterID  string `json:"cluster_id"`
	}
	json.NewDecoder(res.Body).Decode(&wos)
	res.Body.Close()
	if len(wos) != 2 {
		t.Fatalf("A has %d delivered work orders, want 2", len(wos))
	}
	for _, w := range wos {
		if !idsB[w.ExternalID] || !clusters[w.ClusterID] {
			t.Errorf("work order %+v: want one of B's IDs %v for one of A's clusters", w, idsB)
		}
	}
	idB := onB[0]["service_request_id"].(string)
	if _, err := stB.UpdateStatus(context.Background(), requests.StatusChange{Tenant: "sample", ServiceRequestID: idB,
		To: requests.Closed, Note: "cleaned by contractor", Actor: "b-staff", At: time.Now().UTC().Truncate(time.Microsecond)}); err != nil {
		t.Fatal(err)
	}
	// A's poll closes the matching cluster.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		closed := get(srvA.url + "/open311/v2/requests.json?status=closed")
		if len(closed) >= 1 {
			for _, r := range closed {
				if r["status_notes"] != "cleaned by contractor" || !clusters[r["cluster_id"].(string)] {
					t.Errorf("closed on A: %v", r)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("A's cluster was not closed after B closed its request")
		}
	}
}
