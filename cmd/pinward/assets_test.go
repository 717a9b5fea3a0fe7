package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/store/sqlite"
)

// TestAssetsImportFollowedByServe: a running server (which seeded its
// empty store with the sample's assets) snaps requests to a hydrant that
// `pinward assets import` adds to its store, within a second and without a
// restart; a bad file is refused whole with exit status 2.
func TestAssetsImportFollowedByServe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var")
	vars := map[string]string{"PINWARD_DATA_DIR": dir, "PINWARD_ADDR": "127.0.0.1:0"}
	env, out, errb := testEnv(vars)
	if code := Main(t.Context(), []string{"keys", "create", "--role", "integrator"}, env); code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, errb)
	}
	key := strings.TrimSpace(out.String())

	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	senv := Env{Stdin: strings.NewReader(""), Stdout: pw, Stderr: &lockedBuffer{b: &bytes.Buffer{}}, Getenv: func(k string) string { return vars[k] }}
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"serve"}, senv); pw.Close() }()
	t.Cleanup(func() { cancel(); <-done })
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve: %v", err)
	}
	go io.Copy(io.Discard, pr)
	base := strings.TrimSpace(strings.TrimPrefix(line, "pinward: listening on "))

	// The server seeded the store: the feed has the sample's assets.
	req, _ := http.NewRequest("GET", base+"/api/v1/assets/changes?limit=5", nil)
	req.Header.Set("X-Api-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var feed struct{ Changes []struct{ ID string } }
	json.NewDecoder(res.Body).Decode(&feed)
	res.Body.Close()
	if res.StatusCode != 200 || len(feed.Changes) != 5 {
		t.Fatalf("feed after start: %d, %+v", res.StatusCode, feed)
	}

	// A bad row refuses the whole file.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("id,lon,lat\nOK-1,-73.0651,46.0302\nBAD-1,NaN,46.03\n"), 0o600)
	env, _, errb = testEnv(vars)
	if code := Main(t.Context(), []string{"assets", "import", "--layer", "hydrant", bad}, env); code != 2 || !strings.Contains(errb.String(), "BAD-1") {
		t.Fatalf("bad file: exit %d: %s", code, errb)
	}

	// A new hydrant 2 m from the sample's HY-000001, at the request's point.
	good := filepath.Join(t.TempDir(), "hydrants.csv")
	os.WriteFile(good, []byte("id,lon,lat,colour\nNEWH-1,-73.0651171,46.0301966,red\n"), 0o600)
	env, out, errb = testEnv(vars)
	if code := Main(t.Context(), []string{"assets", "import", "--layer", "hydrant", good}, env); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errb)
	}
	if !strings.Contains(out.String(), "imported 1 assets into layer hydrant: 1 applied") {
		t.Fatalf("import printed %q", out)
	}

	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "pinward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(time.Second)
	for {
		res, err := http.PostForm(base+"/open311/v2/requests.json", url.Values{"api_key": {key}, "service_code": {"hydrant_damage"},
			"lat": {"46.0301966"}, "long": {"-73.0651171"}, "attribute[problem]": {"leaking"}})
		if err != nil || res.StatusCode != 201 {
			t.Fatalf("POST: %v %v", res, err)
		}
		var created []struct {
			ServiceRequestID string `json:"service_request_id"`
		}
		json.NewDecoder(res.Body).Decode(&created)
		res.Body.Close()
		r, err := st.GetRequest(t.Context(), "sample", created[0].ServiceRequestID)
		if err != nil {
			t.Fatal(err)
		}
		if r.AssetID == "NEWH-1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server still snaps to %q a second after the import", r.AssetID)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if list, _, _ := st.LoadAssets(t.Context(), "sample"); !containsAsset(list, "NEWH-1") || containsAsset(list, "OK-1") {
		t.Fatalf("stored assets wrong after the imports")
	}
}

func containsAsset(list []assets.Asset, id string) bool {
	for _, a := range list {
		if a.ID == id {
			return true
		}
	}
	return false
}

// leftRunning returns the goroutines (their stacks) that run any of funcs.
func leftRunning(funcs ...string) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, f := range funcs {
			if strings.Contains(g, f) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// TestServeStopsChangeStream: a serve that fails after it started
// following the change stream (here: an --addr it cannot listen on)
// leaves no follower and no LISTEN connection running, though its context
// is still live.
func TestServeStopsChangeStream(t *testing.T) {
	for _, st := range []struct {
		name string
		vars func(t *testing.T) map[string]string
	}{
		{"sqlite", func(t *testing.T) map[string]string {
			return map[string]string{"PINWARD_DATA_DIR": filepath.Join(t.TempDir(), "var")}
		}},
		{"postgis", func(t *testing.T) map[string]string { return map[string]string{"PINWARD_DB": pgtest.URL(t)} }},
	} {
		t.Run(st.name, func(t *testing.T) {
			vars := st.vars(t)
			env, _, errb := testEnv(vars)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if code := Main(ctx, []string{"serve", "--addr", "127.0.0.1:99999"}, env); code != 2 ||
				!strings.Contains(errb.String(), "--addr") || !strings.Contains(errb.String(), "following the change stream") {
				t.Fatalf("serve: exit %d, want 2 for the bad address after the stream started: %s", code, errb)
			}
			funcs := []string{"live.(*Stream).run", "postgis.(*Store).WatchChanges", "sqlite.(*Store).WatchChanges"}
			deadline := time.Now().Add(time.Second)
			for {
				left := leftRunning(funcs...)
				if len(left) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d goroutine(s) of the failed serve still running:\n%s", len(left), strings.Join(left, "\n\n"))
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// serveInProcess runs Main serve with vars until the test ends and
// returns its base URL.
func serveInProcess(t *testing.T, vars map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	errb := &lockedBuffer{b: &bytes.Buffer{}}
	senv := Env{Stdin: strings.NewReader(""), Stdout: pw, Stderr: errb, Getenv: func(k string) string { return vars[k] }}
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"serve"}, senv); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, errb)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve: %v: %s", err, errb)
	}
	go io.Copy(io.Discard, pr)
	return strings.TrimSpace(strings.TrimPrefix(line, "pinward: listening on "))
}

// TestAssetsTwoServesOnePostGIS: two `pinward serve` on one PostGIS. An
// asset PUT through one is what the other snaps to within a second (on
// PostGIS the feed is polled every 5 s, so this is LISTEN/NOTIFY at work);
// a stale version is a 409 on either; a retirement through the second
// flags the request and leaves the first's index within a second, and the
// first's staff see the flag; both feeds, resumed from one cursor, agree.
func TestAssetsTwoServesOnePostGIS(t *testing.T) {
	dbURL := pgtest.URL(t)
	vars := map[string]string{"PINWARD_DB": dbURL, "PINWARD_ADDR": "127.0.0.1:0", "PINWARD_LOG_LEVEL": "warn"}
	newKey := func(role string) string {
		env, out, errb := testEnv(vars)
		if code := Main(t.Context(), []string{"keys", "create", "--role", role}, env); code != 0 {
			t.Fatalf("keys create: exit %d: %s", code, errb)
		}
		return strings.TrimSpace(out.String())
	}
	key, staff := newKey("integrator"), newKey("staff")
	a := serveInProcess(t, vars)
	b := serveInProcess(t, vars)

	call := func(method, u, k, ct string, body string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, u, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if k != "" {
			req.Header.Set("X-Api-Key", k)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		return res.StatusCode, out
	}
	type feed struct {
		Changes []struct{ Cursor, Op, ID string }
		Next    string
		More    bool
	}
	feedOf := func(base, since string) feed {
		t.Helper()
		code, body := call("GET", base+"/api/v1/assets/changes?since="+url.QueryEscape(since), key, "", "")
		var f feed
		if code != 200 || json.Unmarshal(body, &f) != nil {
			t.Fatalf("feed: %d %s", code, body)
		}
		return f
	}
	// The cursor at the end of the seed.
	start := ""
	for {
		f := feedOf(a, start)
		start = f.Next
		if !f.More {
			break
		}
	}

	const lon, lat = -73.0651171, 46.0301966 // 2 m from the sample's HY-000001
	nearest := func(base string) string {
		t.Helper()
		code, body := call("GET", fmt.Sprintf("%s/api/v1/locate?service_code=hydrant_damage&lat=%v&long=%v", base, lat, lon), "", "", "")
		var loc struct{ Asset *struct{ ID string } }
		if code != 200 || json.Unmarshal(body, &loc) != nil {
			t.Fatalf("locate: %d %s", code, body)
		}
		if loc.Asset == nil {
			return ""
		}
		return loc.Asset.ID
	}
	within := func(what string, ok func() bool) {
		t.Helper()
		begin := time.Now()
		for !ok() {
			if time.Since(begin) > time.Second {
				t.Fatalf("%s: not seen by the other server within a second", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("%s seen by the other server after %v", what, time.Since(begin).Round(time.Millisecond))
	}
	if got := nearest(b); got != "HY-000001" {
		t.Fatalf("before the sync B snaps to %q, want the sample's HY-000001", got)
	}
	fc := func(version int) string {
		return fmt.Sprintf(`{"type":"FeatureCollection","features":[{"type":"Feature","id":"TWO-1",
			"geometry":{"type":"Point","coordinates":[%v,%v]},"properties":{"version":%d,"colour":"red"}}]}`, lon, lat, version)
	}
	if code, body := call("PUT", a+"/api/v1/assets/hydrant", key, "application/geo+json", fc(7)); code != 200 {
		t.Fatalf("PUT on A: %d %s", code, body)
	}
	within("upsert through A", func() bool { return nearest(b) == "TWO-1" })

	// A resident reports on B: the request keeps the asset ID.
	code, body := call("POST", b+"/open311/v2/requests.json", "", "application/x-www-form-urlencoded", url.Values{
		"api_key": {key}, "service_code": {"hydrant_damage"}, "lat": {fmt.Sprint(lat)}, "long": {fmt.Sprint(lon)},
		"attribute[problem]": {"leaking"}}.Encode())
	var created []struct {
		ID string `json:"service_request_id"`
	}
	if code != 201 || json.Unmarshal(body, &created) != nil || len(created) != 1 {
		t.Fatalf("POST on B: %d %s", code, body)
	}
	id := created[0].ID

	// A stale version is refused through either server, in both languages.
	for _, base := range []string{a, b} {
		code, body := call("PUT", base+"/api/v1/assets/hydrant", key, "application/geo+json", fc(6))
		if code != 409 || !strings.Contains(string(body), `"description_fr"`) || !strings.Contains(string(body), "TWO-1") {
			t.Fatalf("stale PUT: %d %s", code, body)
		}
	}

	// B retires it: the request is flagged, A's index drops it.
	code, body = call("DELETE", b+"/api/v1/assets/hydrant/TWO-1", key, "", "")
	var ret struct {
		Flagged []string `json:"flagged_requests"`
	}
	if code != 200 || json.Unmarshal(body, &ret) != nil || len(ret.Flagged) != 1 || ret.Flagged[0] != id {
		t.Fatalf("DELETE on B: %d %s (want request %s flagged)", code, body, id)
	}
	within("retirement through B", func() bool { return nearest(a) == "HY-000001" })
	code, body = call("GET", a+"/api/v1/assets/retired-open", staff, "", "")
	if code != 200 || !strings.Contains(string(body), `"service_request_id":"`+id+`"`) || !strings.Contains(string(body), `"asset_id":"TWO-1"`) {
		t.Fatalf("retired-open on A: %d %s", code, body)
	}
	code, body = call("GET", a+"/open311/v2/requests/"+id+".json", "", "", "")
	if code != 200 || !strings.Contains(string(body), `"asset_id":"TWO-1"`) {
		t.Fatalf("the request lost its asset: %d %s", code, body)
	}

	// Both feeds, resumed from the seed's cursor, hold the two changes.
	for _, base := range []string{a, b} {
		f := feedOf(base, start)
		var got []string
		for _, c := range f.Changes {
			got = append(got, c.Op+" "+c.ID)
		}
		if strings.Join(got, ",") != "upsert TWO-1,retire TWO-1" || f.More {
			t.Fatalf("feed of %s from %s: %v", base, start, got)
		}
	}
}
