package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserStaffMergeClose drives the staff map in a real headless
// Chromium: two reports of one pothole filed as two clusters, staff merge
// one into the other from the page and then close the merged cluster;
// the staff API and the residents' own requests show both changes.
func TestBrowserStaffMergeClose(t *testing.T) {
	chromium := chromiumPath(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	dir := t.TempDir() + "/var"
	vars := map[string]string{"PINWARD_DATA_DIR": dir, "PINWARD_ADDR": "127.0.0.1:0", "PINWARD_LOG_LEVEL": "warn"}
	env, out, errb := testEnv(vars)
	if code := Main(t.Context(), []string{"keys", "create", "--role", "staff", "--label", "browser test"}, env); code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, errb)
	}
	staffKey := strings.TrimSpace(out.String())
	base := startServeForBrowser(t, vars)

	// Two reports 300 m apart: two clusters (a resident misplaced one).
	places := issuePlaces(t, 2, 300)
	post := func(lon, lat float64, desc string) string {
		t.Helper()
		res, err := http.PostForm(base+"/open311/v2/requests.json", url.Values{"api_key": {staffKey}, "service_code": {"pothole"},
			"lat": {strconv.FormatFloat(lat, 'f', -1, 64)}, "long": {strconv.FormatFloat(lon, 'f', -1, 64)},
			"attribute[size]": {"large"}, "description": {desc}})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var got []struct {
			ID      string `json:"service_request_id"`
			Cluster string `json:"cluster_id"`
		}
		if err := json.NewDecoder(res.Body).Decode(&got); err != nil || res.StatusCode != http.StatusCreated || len(got) != 1 || got[0].Cluster != got[0].ID {
			t.Fatalf("POST: %d %+v %v", res.StatusCode, got, err)
		}
		return got[0].ID
	}
	a := post(places[0][0], places[0][1], "Deep hole by the school")
	b := post(places[1][0], places[1][1], "Same hole, pin dropped at home")

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.Flag("use-angle", "swiftshader"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
	defer cancel()
	// Start the browser on ctx (the steps below run on shorter contexts).
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`)); err != nil {
		t.Fatalf("browser: %v", err)
	}
	br := &browser{t: t, ctx: ctx}

	selA, selB := `[data-cluster="`+a+`"]`, `[data-cluster="`+b+`"]`
	br.do("staff map",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(base+"/staff?locale=en"),
		chromedp.WaitVisible("#staff-key"),
		chromedp.SendKeys("#staff-key", staffKey),
		chromedp.Click(`#login button[type="submit"]`),
		chromedp.WaitVisible(selA),
		chromedp.WaitVisible(selB),
		chromedp.Click(selB),
		chromedp.WaitVisible("#merge-into"))
	br.shot("staff-before-merge")
	// Merge B into A: the page posts {"into": "<A>"} to
	// /api/v1/clusters/<B>/merge, then lists the clusters again.
	br.do("merging from the page",
		chromedp.SetValue("#merge-into", a),
		chromedp.Click(`#merge-into + .row button[type="submit"]`),
		chromedp.Poll[chromedp.Void](`(() => { const a = document.querySelector('`+selA+`'); return a && a.textContent.includes("· 2 ·") && !document.querySelector('`+selB+`'); })()`,
			chromedp.WithPollingTimeout(15*time.Second)))
	br.shot("staff-after-merge")

	cl := staffGet(t, base+"/api/v1/clusters/"+a, staffKey)
	if cl["request_count"] != float64(2) || cl["status"] != "open" {
		t.Errorf("cluster %s after the merge from the page: %v", a, cl)
	}
	if got := getRequests(t, base+"/open311/v2/requests/"+b+".json"); len(got) != 1 || got[0]["cluster_id"] != a {
		t.Errorf("request %s after the merge: %v", b, got)
	}

	// Close the merged cluster: it leaves the list of open clusters, and
	// both residents see their request closed with the note.
	br.do("closing from the page",
		chromedp.Click(selA),
		chromedp.WaitVisible("#close-note"),
		chromedp.SendKeys("#close-note", "Filled on Tuesday"),
		chromedp.Click(`#close-note + .row button[type="submit"]`),
		chromedp.Poll[chromedp.Void](`!document.querySelector('`+selA+`')`, chromedp.WithPollingTimeout(15*time.Second)))
	br.shot("staff-after-close")
	for _, id := range []string{a, b} {
		got := getRequests(t, base+"/open311/v2/requests/"+id+".json")
		if len(got) != 1 || got[0]["status"] != "closed" || got[0]["status_notes"] != "Filled on Tuesday" {
			t.Errorf("request %s after the close from the page: %v", id, got)
		}
	}
}

// staffGet reads a staff API JSON object with key.
func staffGet(t *testing.T, u, key string) map[string]any {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Api-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var out map[string]any
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil {
		t.Fatalf("GET %s: %d %s", u, res.StatusCode, body)
	}
	return out
}
