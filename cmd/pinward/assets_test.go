package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/assets"
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
