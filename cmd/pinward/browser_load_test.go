package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// firstLoadBudget is the most the resident page may transfer on a first
// visit (empty cache): on a slow phone link every 100 KB is most of a
// second before a resident can drop a pin.
const firstLoadBudget = 600_000

// TestBrowserFirstLoad loads the resident page in a real headless Chromium
// with an empty cache, until its map has drawn, and adds up what went over
// the wire (DevTools' encodedDataLength: headers and bodies as sent, so
// compressed), which must stay within firstLoadBudget. A second visit
// must transfer no script or style again (they are cached for good).
func TestBrowserFirstLoad(t *testing.T) {
	chromium := chromiumPath(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	base, _ := startServeWithStaffKey(t)
	ctx := newHeadless(t, chromium)

	var (
		mu    sync.Mutex
		urls  = map[network.RequestID]string{}
		sizes = map[network.RequestID]float64{}
	)
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			urls[ev.RequestID] = ev.Request.URL
		case *network.EventLoadingFinished:
			sizes[ev.RequestID] += ev.EncodedDataLength
		}
	}); err != nil {
		t.Fatal(err)
	}
	// load visits the page until its map has loaded and the network has
	// been quiet for a second, and returns what each URL transferred.
	load := func(what string) map[string]float64 {
		mu.Lock()
		clear(urls)
		clear(sizes)
		mu.Unlock()
		b := &browser{t: t, ctx: ctx}
		b.do(what,
			chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch),
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible("#cats input[value=pothole]"),
			chromedp.Poll[chromedp.Void](`window.pinward && window.pinward.map && window.pinward.map.loaded()`,
				chromedp.WithPollingTimeout(20*time.Second)))
		for last := -1; ; {
			time.Sleep(time.Second)
			mu.Lock()
			n := len(sizes)
			mu.Unlock()
			if n == last {
				break
			}
			last = n
		}
		mu.Lock()
		out := map[string]float64{}
		for id, n := range sizes {
			out[urls[id]] += n
		}
		mu.Unlock()
		// MapLibre's worker script and the worker's own requests (tiles)
		// are not the page's Network events: they are counted from the
		// Resource Timing entries (transferSize: headers and body as sent)
		// of the page and of each worker.
		for u, n := range workerTransfers(t, ctx) {
			if _, seen := out[u]; !seen {
				out[u] = n
			}
		}
		return out
	}

	first := load("first visit")
	var total float64
	type row struct {
		url string
		n   float64
	}
	var rows []row
	for u, n := range first {
		total += n
		rows = append(rows, row{strings.TrimPrefix(u, base), n})
	}
	slices.SortFunc(rows, func(a, b row) int { return cmp.Compare(b.n, a.n) })
	var report strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&report, "\n  %9.0f  %s", r.n, r.url)
	}
	t.Logf("resident page, first visit: %d requests, %.0f bytes transferred:%s", len(rows), total, report.String())
	if total > firstLoadBudget {
		t.Errorf("the resident page's first visit transferred %.0f bytes, over the budget of %d:%s", total, firstLoadBudget, report.String())
	}
	var sawMapLibre bool
	for _, r := range rows {
		sawMapLibre = sawMapLibre || strings.Contains(r.url, "/static/maplibre-gl-")
	}
	if !sawMapLibre || len(rows) < 5 {
		t.Fatalf("the first visit did not load MapLibre and the map (%d requests): the measure would mean nothing", len(rows))
	}

	// Scripts and styles are named after their content and cached for
	// good: a second visit sends no byte of them again.
	again := load("second visit")
	for u, n := range again {
		if strings.Contains(u, "/static/") && n > 0 {
			t.Errorf("second visit transferred %.0f bytes of %s; it should come from the cache", n, strings.TrimPrefix(u, base))
		}
	}
}

// resourceEntries lists a JavaScript realm's Resource Timing entries as
// [url, transferSize] pairs.
const resourceEntries = `performance.getEntriesByType("resource").map(e => [e.name, e.transferSize])`

// workerTransfers returns what the page's resource entries and every
// worker's record as transferred, by URL.
func workerTransfers(t *testing.T, ctx context.Context) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	add := func(ctx context.Context, what string) {
		entries, err := chromedp.Run(ctx, chromedp.Evaluate[[][]any](resourceEntries))
		if err != nil {
			t.Fatalf("resource entries of %s: %v", what, err)
		}
		for _, e := range entries {
			u, _ := e[0].(string)
			n, _ := e[1].(float64)
			out[u] += n
		}
	}
	add(ctx, "the page")
	infos, err := chromedp.Targets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	workers := 0
	for _, info := range infos {
		if info.Type != "worker" {
			continue
		}
		workers++
		wctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(info.TargetID))
		add(wctx, "a worker")
		cancel()
	}
	if workers == 0 {
		t.Fatal("MapLibre started no worker")
	}
	return out
}
