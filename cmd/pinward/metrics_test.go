package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMetricsAddr: with --metrics-addr, /metrics is served there alone;
// the main port, which residents reach, answers 404.
func TestMetricsAddr(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var")
	vars := map[string]string{"PINWARD_DATA_DIR": dir, "PINWARD_ADDR": "127.0.0.1:0", "PINWARD_METRICS_ADDR": "127.0.0.1:0"}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	serveErr := &lockedBuffer{b: &bytes.Buffer{}}
	env := Env{Stdin: strings.NewReader(""), Stdout: pw, Stderr: serveErr, Getenv: func(k string) string { return vars[k] }}
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"serve", "--no-web"}, env); pw.Close() }()
	br := bufio.NewReader(pr)
	main, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("serve: %v: %s", err, serveErr.String())
	}
	metrics, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("serve: %v: %s", err, serveErr.String())
	}
	go io.Copy(io.Discard, br)
	base := strings.TrimSpace(strings.TrimPrefix(main, "pinward: listening on "))
	murl := strings.TrimSpace(strings.TrimPrefix(metrics, "pinward: metrics on "))
	if !strings.HasPrefix(murl, "http://127.0.0.1:") || murl == base+"/metrics" {
		t.Fatalf("metrics line %q", metrics)
	}

	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("main port /metrics: %d, want 404", res.StatusCode)
	}
	res, err = http.Get(murl)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "pinward_http_requests_total") {
		t.Errorf("metrics port: %d %.200s", res.StatusCode, body)
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
}
