package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/sqlite"
)

func testEnv(vars map[string]string) (Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }}, &out, &errb
}

// TestServeInProcess runs Main serve with its environment, submits a
// request with a key made by Main keys create, and stops it by cancelling
// its context (what SIGINT/SIGTERM do).
func TestServeInProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var") // does not exist yet
	vars := map[string]string{"PINWARD_DATA_DIR": dir, "PINWARD_ADDR": "127.0.0.1:0", "PINWARD_LOG_FORMAT": "json"}

	env, out, errb := testEnv(vars)
	if code := Main(t.Context(), []string{"keys", "create", "--role", "integrator", "--label", "test"}, env); code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, errb)
	}
	key := strings.TrimSpace(out.String())
	if !strings.HasPrefix(key, "pw_") || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("keys create printed %q, want the key alone", out)
	}
	if strings.Contains(errb.String(), key) {
		t.Errorf("keys create repeated the key on stderr")
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	serveErr := &lockedBuffer{b: &bytes.Buffer{}}
	senv := Env{Stdin: strings.NewReader(""), Stdout: pw, Stderr: serveErr, Getenv: func(k string) string { return vars[k] }}
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"serve"}, senv); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve: %v", err)
	}
	go io.Copy(io.Discard, pr)
	base := strings.TrimSpace(strings.TrimPrefix(line, "pinward: listening on "))

	res, err := http.Get(base + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	res, err = http.PostForm(base+"/open311/v2/requests.json", url.Values{
		"api_key": {key}, "service_code": {"graffiti"}, "lat": {"46.0300619"}, "long": {"-73.066232"},
		"attribute[offensive]": {"yes"},
	})
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("POST: %v %v", res, err)
	}
	res.Body.Close()
	res, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{"pinward_http_requests_total", "pinward_http_request_duration_seconds", "go_goroutines",
		"pinward_change_stream_lag_seconds", "\npinward_ops_stats_up 1\n", "\npinward_requests_open 1\n", "\npinward_requests_overdue 0\n"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// The purge runs at start, in the background: its run is counted.
	for deadline := time.Now().Add(10 * time.Second); ; {
		res, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(body), `pinward_purge_runs_total{outcome="ok"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never counted the purge run:\n%s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, serveErr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop on cancel")
	}

	// The store holds the key's hash, never the key, and the request.
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "pinward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	k, err := st.LookupAPIKey(t.Context(), requests.HashAPIKey(key))
	if err != nil || k.Role != requests.RoleIntegrator || k.TenantID != "sample" || k.Label != "test" || k.Hash == key {
		t.Errorf("stored key %+v, %v", k, err)
	}
	list, err := st.ListRequests(t.Context(), requests.Filter{Tenant: "sample"})
	if err != nil || len(list) != 1 {
		t.Errorf("stored requests: %d, %v", len(list), err)
	}
}

func TestMigrate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var")
	for range 2 { // again is a no-op
		env, _, errb := testEnv(nil)
		if code := Main(t.Context(), []string{"migrate", "--data-dir", dir}, env); code != 0 {
			t.Fatalf("migrate: exit %d: %s", code, errb)
		}
	}
}

func TestCommandUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{[]string{"keys"}, nil, "usage: pinward keys create"},
		{[]string{"keys", "create", "--data-dir", dir}, nil, "--role must be"},
		{[]string{"keys", "create", "--role", "root", "--data-dir", dir}, nil, "--role must be"},
		{[]string{"keys", "create", "--role", "staff", "--data-dir", dir, "--db", "postgres://x"}, nil, "not both"},
		{[]string{"serve", "--log-level", "loud", "--data-dir", dir}, nil, "--log-level"},
		{[]string{"serve", "--data-dir", dir}, map[string]string{"PINWARD_LOG_FORMAT": "yaml"}, "--log-format"},
		{[]string{"serve", "--data-dir", dir, "--categories", filepath.Join(dir, "missing.json")}, nil, "--categories"},
		{[]string{"serve", "--data-dir", dir, "--addr", "256.0.0.1:1"}, nil, "--addr"},
		{[]string{"migrate", "extra"}, nil, "unexpected argument"},
	} {
		env, _, errb := testEnv(c.vars)
		if code := Main(t.Context(), c.args, env); code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errb, c.want)
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
