package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// A request submitted to one pinward serve is on the tiles of the next
// one (loaded from the store at start), and a new one shows at once.
func TestServeTiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var")
	vars := map[string]string{"PINWARD_DATA_DIR": dir, "PINWARD_ADDR": "127.0.0.1:0"}
	env, out, errb := testEnv(vars)
	if code := Main(t.Context(), []string{"keys", "create", "--role", "integrator"}, env); code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, errb)
	}
	key := strings.TrimSpace(out.String())
	p := orb.Point{-73.066232, 46.0300619}
	tileURL := func(base string) string {
		tl := maptile.At(p, 17)
		return fmt.Sprintf("%s/tiles/requests/%d/%d/%d.mvt", base, tl.Z, tl.X, tl.Y)
	}
	ids := func(base string) []string {
		t.Helper()
		res, err := http.Get(tileURL(base))
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("tile: %v %v", res, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var out []string
		if len(b) == 0 {
			return out
		}
		ls, err := mvt.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ls[0].Features {
			out = append(out, f.Properties.MustString("id"))
		}
		return out
	}
	post := func(base string) {
		t.Helper()
		res, err := http.PostForm(base+"/open311/v2/requests.json", url.Values{
			"api_key": {key}, "service_code": {"graffiti"}, "lat": {"46.0300619"}, "long": {"-73.066232"},
			"attribute[offensive]": {"yes"}, "email": {"someone@example.org"},
		})
		if err != nil || res.StatusCode != 201 {
			t.Fatalf("POST: %v %v", res, err)
		}
		res.Body.Close()
	}

	base, stop := startTileServe(t, vars)
	if got := ids(base); len(got) != 0 {
		t.Fatalf("tile before any request: %v", got)
	}
	post(base)
	if got := ids(base); len(got) != 1 {
		t.Fatalf("tile after one request: %v", got)
	}
	stop()

	base, stop = startTileServe(t, vars)
	defer stop()
	if got := ids(base); len(got) != 1 {
		t.Fatalf("tile after a restart: %v, want the stored request", got)
	}
	post(base)
	if got := ids(base); len(got) != 2 {
		t.Fatalf("tile after a second request: %v", got)
	}
}

// startTileServe runs Main serve until stop is called and returns its URL.
func startTileServe(t *testing.T, vars map[string]string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	senv := Env{Stdin: strings.NewReader(""), Stdout: pw, Stderr: &lockedBuffer{b: &bytes.Buffer{}}, Getenv: func(k string) string { return vars[k] }}
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"serve"}, senv); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve: %v", err)
	}
	go io.Copy(io.Discard, pr)
	stopped := false
	return strings.TrimSpace(strings.TrimPrefix(line, "pinward: listening on ")), func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d", code)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	}
}
