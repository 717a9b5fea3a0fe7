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
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/pinward/pinward/internal/pgtest"
)

// A request submitted to one pinward serve is on the tiles of the next
// one (loaded from the store at start), and a new one shows within
// milliseconds (the store's change stream wakes the server after the
// commit).
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
	if _, ok := waitFor(time.Second, func() bool { return len(ids(base)) == 1 }); !ok {
		t.Fatalf("tile after one request: %v", ids(base))
	}
	stop()

	base, stop = startTileServe(t, vars)
	defer stop()
	if got := ids(base); len(got) != 1 {
		t.Fatalf("tile after a restart: %v, want the stored request", got)
	}
	post(base)
	if _, ok := waitFor(time.Second, func() bool { return len(ids(base)) == 2 }); !ok {
		t.Fatalf("tile after a second request: %v", ids(base))
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

// tileFeatures fetches the layer's tile at zoom z holding p and returns its
// features (none for an empty tile).
func tileFeatures(t *testing.T, base, layer string, p orb.Point, z maptile.Zoom) []*geojson.Feature {
	t.Helper()
	tl := maptile.At(p, z)
	res, err := http.Get(fmt.Sprintf("%s/tiles/%s/%d/%d/%d.mvt", base, layer, tl.Z, tl.X, tl.Y))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("%s tile: status %d: %s", layer, res.StatusCode, b)
	}
	if len(b) == 0 {
		return nil
	}
	ls, err := mvt.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return ls[0].Features
}

// hasFeature reports whether fs holds a feature whose property prop is v.
func hasFeature(fs []*geojson.Feature, prop, v string) bool {
	for _, f := range fs {
		if f.Properties.MustString(prop, "") == v {
			return true
		}
	}
	return false
}

// waitFor polls cond until it holds or within has passed, and returns how
// long that took and whether it held.
func waitFor(within time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > within {
			return time.Since(start), false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// putAsset upserts one asset through the asset sync API and checks the
// answer.
func putAsset(t *testing.T, base, key, layer, id string, p orb.Point) {
	t.Helper()
	body := fmt.Sprintf(`{"type":"FeatureCollection","features":[{"type":"Feature","id":%q,"geometry":{"type":"Point","coordinates":[%v,%v]},"properties":{}}]}`, id, p[0], p[1])
	req, _ := http.NewRequest("PUT", base+"/api/v1/assets/"+layer, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/geo+json")
	req.Header.Set("X-Api-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("PUT asset: %d %s", res.StatusCode, b)
	}
}

func deleteAsset(t *testing.T, base, key, layer, id string) {
	t.Helper()
	req, _ := http.NewRequest("DELETE", base+"/api/v1/assets/"+layer+"/"+id, nil)
	req.Header.Set("X-Api-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("DELETE asset: %d %s", res.StatusCode, b)
	}
}

func tileKey(t *testing.T, vars map[string]string) string {
	t.Helper()
	env, out, errb := testEnv(vars)
	if code := Main(t.Context(), []string{"keys", "create", "--role", "integrator"}, env); code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, errb)
	}
	return strings.TrimSpace(out.String())
}

// An asset upserted or retired through the asset sync API is on (or off)
// the assets tiles when the API answers.
func TestServeTilesAssetSync(t *testing.T) {
	vars := map[string]string{"PINWARD_DATA_DIR": filepath.Join(t.TempDir(), "var"), "PINWARD_ADDR": "127.0.0.1:0"}
	key := tileKey(t, vars)
	base, stop := startTileServe(t, vars)
	defer stop()
	p := orb.Point{-73.066232, 46.0300619}
	if fs := tileFeatures(t, base, "assets", p, 17); hasFeature(fs, "id", "HY-TILE-1") {
		t.Fatal("the asset is on the tile before it is upserted")
	}
	putAsset(t, base, key, "hydrant", "HY-TILE-1", p)
	if fs := tileFeatures(t, base, "assets", p, 17); !hasFeature(fs, "id", "HY-TILE-1") {
		t.Fatal("the upserted asset is not on the tile")
	}
	// Moved 1 km east (a newer version): gone from here, there instead.
	moved := orb.Point{p[0] + 0.013, p[1]}
	putAsset(t, base, key, "hydrant", "HY-TILE-1", moved)
	if fs := tileFeatures(t, base, "assets", p, 17); hasFeature(fs, "id", "HY-TILE-1") {
		t.Error("the moved asset is still on its old tile")
	}
	if fs := tileFeatures(t, base, "assets", moved, 17); !hasFeature(fs, "id", "HY-TILE-1") {
		t.Error("the moved asset is not on its new tile")
	}
	deleteAsset(t, base, key, "hydrant", "HY-TILE-1")
	if fs := tileFeatures(t, base, "assets", moved, 17); hasFeature(fs, "id", "HY-TILE-1") {
		t.Error("the retired asset is still on the tile")
	}
}

// Two servers on one PostGIS: a request submitted to A is on B's requests
// and clusters tiles within a second, and so is an asset upserted on A.
func TestServeTilesTwoServers(t *testing.T) {
	db := pgtest.URL(t) // skips without PINWARD_TEST_DATABASE_URL
	varsA := map[string]string{"PINWARD_DB": db, "PINWARD_ADDR": "127.0.0.1:0"}
	varsB := map[string]string{"PINWARD_DB": db, "PINWARD_ADDR": "127.0.0.1:0"}
	key := tileKey(t, varsA)
	a, stopA := startTileServe(t, varsA)
	defer stopA()
	b, stopB := startTileServe(t, varsB)
	defer stopB()

	p := orb.Point{-73.066232, 46.0300619}
	res, err := http.PostForm(a+"/open311/v2/requests.json", url.Values{
		"api_key": {key}, "service_code": {"graffiti"}, "lat": {"46.0300619"}, "long": {"-73.066232"},
		"attribute[offensive]": {"yes"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var created []struct {
		ID string `json:"service_request_id"`
	}
	err = json.NewDecoder(res.Body).Decode(&created)
	res.Body.Close()
	if err != nil || res.StatusCode != 201 || len(created) != 1 {
		t.Fatalf("POST to A: %d, %v %v", res.StatusCode, created, err)
	}
	id := created[0].ID
	if d, ok := waitFor(time.Second, func() bool { return hasFeature(tileFeatures(t, b, "requests", p, 17), "id", id) }); !ok {
		t.Fatalf("request %s submitted to A is not on B's requests tile after %v", id, d)
	} else {
		t.Logf("request on B's tile %v after A answered", d)
	}
	if !hasFeature(tileFeatures(t, b, "clusters", p, 17), "cluster_id", id) {
		t.Errorf("B's clusters tile has no cluster %s", id)
	}
	if fs := tileFeatures(t, b, "clusters", p, 12); len(fs) == 0 {
		t.Error("B's z12 clusters tile is empty")
	}

	putAsset(t, a, key, "hydrant", "HY-TWO-1", p)
	if d, ok := waitFor(time.Second, func() bool { return hasFeature(tileFeatures(t, b, "assets", p, 17), "id", "HY-TWO-1") }); !ok {
		t.Fatalf("asset upserted on A is not on B's assets tile after %v", d)
	} else {
		t.Logf("asset on B's tile %v after A answered", d)
	}
}
