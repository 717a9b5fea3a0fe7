package main

import (
	"encoding/json"
	"fmt"
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
// Chromium: two reports of one pothole filed as two clusters, listed from
// the staff cluster API with its counts; staff merge one into the other
// from the page, split it back out, and close the first; the staff API and
// the residents' own requests show each change.
func TestBrowserStaffMergeClose(t *testing.T) {
	chromium := chromiumPath(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	base, staffKey := startServeWithStaffKey(t)

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

	br := &browser{t: t, ctx: newHeadless(t, chromium)}

	selA, selB := `[data-cluster="`+a+`"]`, `[data-cluster="`+b+`"]`
	// idle waits until the page has the answers to all it asked and has
	// drawn them: a panel redrawn by a late answer would drop a click.
	idle := chromedp.Poll[chromedp.Void](`window.pinward.idle()`, chromedp.WithPollingTimeout(15*time.Second))
	br.do("staff map",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(base+"/staff?locale=en"),
		chromedp.WaitVisible("#staff-key"),
		chromedp.SendKeys("#staff-key", staffKey),
		chromedp.Click(`#login button[type="submit"]`),
		chromedp.WaitVisible(selA),
		chromedp.WaitVisible(selB),
		chromedp.Click(selB),
		chromedp.WaitVisible("#merge-into"),
		idle)
	br.shot("staff-before-merge")
	// The list is the staff cluster API's, for the map's view: the page
	// asked /api/v1/clusters with a bbox (never the Open311 list), and shows
	// the API's counts.
	urls := eval[[]string](br, `performance.getEntriesByType("resource").map(e => e.name)`)
	var listed, open311 bool
	for _, u := range urls {
		listed = listed || strings.Contains(u, "/api/v1/clusters?") && strings.Contains(u, "bbox=")
		open311 = open311 || strings.Contains(u, "/open311/v2/requests.json")
	}
	if !listed || open311 {
		t.Errorf("the staff page fetched %v: want /api/v1/clusters?bbox=… and no Open311 list", urls)
	}
	cb := staffGet(t, base+"/api/v1/clusters/"+b, staffKey)
	wantCounts := fmt.Sprintf("%v requests, %v open, %v reporters", cb["request_count"], cb["open_request_count"], cb["reporter_count"])
	if got := br.text(selB + " [data-counts]"); got != wantCounts {
		t.Errorf("cluster %s listed with %q, want the API's %q", b, got, wantCounts)
	}
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

	// Split B back out of A from the panel: a new cluster holds B alone.
	br.do("splitting from the page",
		idle,
		chromedp.Click(selA),
		idle,
		chromedp.WaitVisible(`#req-`+b),
		chromedp.Click(`#req-`+b),
		chromedp.Click(`#split`),
		chromedp.Poll[chromedp.Void](`document.getElementById("action-result").textContent.includes("New cluster #")`,
			chromedp.WithPollingTimeout(15*time.Second)))
	br.shot("staff-after-split")
	// The result stays in the panel while the list, the panel and the
	// retired flags reload after the split, in whatever order they finish.
	msg := br.text("#action-result")
	_, after, ok := strings.Cut(msg, "New cluster #")
	if !ok || len(strings.Fields(after)) == 0 {
		t.Fatalf("after the split the panel says %q, want %q", msg, "New cluster #<id>.")
	}
	newID := strings.TrimSuffix(strings.Fields(after)[0], ".")
	if ca := staffGet(t, base+"/api/v1/clusters/"+a, staffKey); ca["request_count"] != float64(1) {
		t.Errorf("cluster %s after the split from the page: %v", a, ca)
	}
	cn := staffGet(t, base+"/api/v1/clusters/"+newID, staffKey)
	if rs, _ := cn["requests"].([]any); cn["request_count"] != float64(1) || len(rs) != 1 || rs[0].(map[string]any)["service_request_id"] != b {
		t.Errorf("new cluster %s (page said %q) after the split: %v", newID, msg, cn)
	}

	// Close A: it leaves the list of open clusters, and its resident sees
	// the request closed with the note; B, split off, stays open.
	br.do("closing from the page",
		idle,
		chromedp.Click(selA),
		idle,
		chromedp.WaitVisible("#close-note"),
		chromedp.SendKeys("#close-note", "Filled on Tuesday"),
		chromedp.Click(`#close-note + .row button[type="submit"]`),
		chromedp.Poll[chromedp.Void](`!document.querySelector('`+selA+`')`, chromedp.WithPollingTimeout(15*time.Second)))
	br.shot("staff-after-close")
	if got := getRequests(t, base+"/open311/v2/requests/"+a+".json"); len(got) != 1 || got[0]["status"] != "closed" || got[0]["status_notes"] != "Filled on Tuesday" {
		t.Errorf("request %s after the close from the page: %v", a, got)
	}
	if got := getRequests(t, base+"/open311/v2/requests/"+b+".json"); len(got) != 1 || got[0]["status"] != "open" {
		t.Errorf("request %s, split off, after closing %s: %v", b, a, got)
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
