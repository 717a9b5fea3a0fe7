package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinward/pinward/internal/pgtest"
)

// TestWorkOrderWebhookGuards: `pinward serve` without
// --allow-private-webhooks refuses a webhook on loopback (nothing reaches
// it), dead-letters the work order with a message naming the flag, and
// the password in the webhook URL is in neither the server's log nor the
// last_error staff read, on both stores.
func TestWorkOrderWebhookGuards(t *testing.T) {
	bin := buildPinward(t)
	const password = "Sw0rdfish-77"
	for name, storeArgs := range map[string]func(t *testing.T) []string{
		"sqlite":  func(t *testing.T) []string { return []string{"--data-dir", filepath.Join(t.TempDir(), "var")} },
		"postgis": func(t *testing.T) []string { return []string{"--db", pgtest.URL(t)} },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			args := storeArgs(t)
			key, staff := createKey(t, bin, args...), createRoleKey(t, bin, "staff", args...)
			var got atomic.Int64
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
			t.Cleanup(hook.Close)
			webhook := strings.Replace(hook.URL, "http://", "http://ops:"+password+"@", 1) + "/in"
			srv := startServeEnv(t, bin, []string{"PINWARD_WORKORDER_SECRET=s"}, append([]string{"--workorder-webhook", webhook,
				"--workorder-backoff", "50ms", "--workorder-max-attempts", "2"}, args...)...)
			postGraffiti(t, srv.url, key, 1, 0)

			var dead []map[string]any
			for deadline := time.Now().Add(20 * time.Second); len(dead) == 0; {
				if time.Now().After(deadline) {
					t.Fatal("no dead letter after 20 s")
				}
				time.Sleep(50 * time.Millisecond)
				req, _ := http.NewRequest("GET", srv.url+"/api/v1/workorders?state=dead", nil)
				req.Header.Set("X-Api-Key", staff)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || json.Unmarshal(body, &dead) != nil {
					t.Fatalf("list: %d %s", res.StatusCode, body)
				}
				if strings.Contains(string(body), password) {
					t.Fatalf("the password is in the staff answer: %s", body)
				}
			}
			if e, _ := dead[0]["last_error"].(string); !strings.Contains(e, "--allow-private-webhooks") {
				t.Errorf("last_error %q, want the refusal naming --allow-private-webhooks", e)
			}
			srv.cmd.Process.Kill()
			srv.cmd.Wait() // the log is complete
			if log := srv.stderr.String(); strings.Contains(log, password) || !strings.Contains(log, "dead-lettered") {
				t.Errorf("server log (want the dead letter, without the password):\n%s", log)
			}
			if got.Load() != 0 {
				t.Errorf("the loopback webhook got %d requests", got.Load())
			}
		})
	}
}
