package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinward/pinward/internal/pgtest"
)

// buildPinward builds the real binary once per test into a temp folder.
func buildPinward(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "pinward")
	out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// server is one `pinward serve` process.
type server struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
}

// startServe starts `pinward serve` on a free loopback port and waits for
// the address it prints.
func startServe(t *testing.T, bin string, storeArgs ...string) *server {
	t.Helper()
	return startServeEnv(t, bin, nil, storeArgs...)
}

func createKey(t *testing.T, bin string, storeArgs ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, append([]string{"keys", "create", "--role", "integrator", "--label", "durability"}, storeArgs...)...)
	cmd.Env = append(os.Environ(), "PINWARD_DB=", "PINWARD_DATA_DIR=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("keys create: %v\n%s", err, stderr.String())
	}
	key := strings.TrimSpace(string(out))
	if !strings.HasPrefix(key, "pw_") || strings.ContainsAny(key, " \n") {
		t.Fatalf("keys create printed %q, want the key alone", out)
	}
	return key
}

// TestDurability streams POSTs at `pinward serve`, SIGKILLs it mid-stream,
// restarts it on the same store and finds every acknowledged request.
func TestDurability(t *testing.T) {
	bin := buildPinward(t)
	stores := []struct {
		name string
		args func(t *testing.T) []string
	}{
		{"sqlite", func(t *testing.T) []string { return []string{"--data-dir", filepath.Join(t.TempDir(), "var")} }},
		{"postgis", func(t *testing.T) []string { return []string{"--db", pgtest.URL(t)} }},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			storeArgs := st.args(t)
			key := createKey(t, bin, storeArgs...)
			srv := startServe(t, bin, storeArgs...)

			type ack struct{ id, desc string }
			var (
				mu     sync.Mutex
				acked  []ack
				n      atomic.Int64
				wg     sync.WaitGroup
				client = &http.Client{Timeout: 10 * time.Second}
			)
			stop := make(chan struct{})
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						desc := fmt.Sprintf("durability worker %d request %d", w, i)
						form := url.Values{
							"api_key": {key}, "service_code": {"graffiti"},
							"lat": {"46.0300619"}, "long": {"-73.066232"},
							"description": {desc}, "attribute[offensive]": {"no"},
						}
						res, err := client.PostForm(srv.url+"/open311/v2/requests.json", form)
						if err != nil {
							return // the server is gone
						}
						body, err := io.ReadAll(res.Body)
						res.Body.Close()
						if err != nil || res.StatusCode/100 != 2 {
							if err == nil && res.StatusCode != http.StatusServiceUnavailable {
								t.Errorf("POST: %d %s", res.StatusCode, body)
							}
							return
						}
						var out []struct {
							ID string `json:"service_request_id"`
						}
						if err := json.Unmarshal(body, &out); err != nil || len(out) != 1 {
							t.Errorf("POST answer %s", body)
							return
						}
						mu.Lock()
						acked = append(acked, ack{out[0].ID, desc})
						mu.Unlock()
						n.Add(1)
					}
				}()
			}
			// Kill while the workers are mid-request, after enough acks to
			// make losing one likely if commits were not durable.
			deadline := time.Now().Add(60 * time.Second)
			for n.Load() < 150 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if err := srv.cmd.Process.Signal(os.Kill); err != nil {
				t.Fatal(err)
			}
			srv.cmd.Wait()
			close(stop)
			wg.Wait()
			if len(acked) < 150 {
				t.Fatalf("only %d requests acknowledged before the deadline; stderr:\n%s", len(acked), srv.stderr)
			}

			srv = startServe(t, bin, storeArgs...)
			for _, a := range acked {
				res, err := client.Get(srv.url + "/open311/v2/requests/" + a.id + ".json")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				var got []struct {
					Description string `json:"description"`
				}
				if res.StatusCode != 200 || json.Unmarshal(body, &got) != nil || len(got) != 1 || got[0].Description != a.desc {
					t.Errorf("acknowledged request %s (%q) after restart: %d %s", a.id, a.desc, res.StatusCode, body)
				}
			}
			t.Logf("%s: %d acknowledged requests, all found after SIGKILL and restart", st.name, len(acked))
		})
	}
}
