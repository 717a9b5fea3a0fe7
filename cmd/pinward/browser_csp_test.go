package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestBrowserCSP loads every page under the Content-Security-Policy
// pinward sends (issue 16) in headless Chromium: the maps draw (MapLibre
// and its worker from /static) and the browser reports no violation,
// neither in its log nor to a securitypolicyviolation listener.
func TestBrowserCSP(t *testing.T) {
	chromium := chromiumPath(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	base, _ := startServeWithStaffKey(t)
	ctx := newHeadless(t, chromium)

	var mu sync.Mutex
	var reports []string
	chromedp.Listen(ctx, func(ev any) { //nolint:errcheck // ends with ctx
		var msg string
		switch ev := ev.(type) {
		case *log.EventEntryAdded:
			msg = ev.Entry.Text
		case *runtime.EventExceptionThrown:
			msg = ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
		default:
			return
		}
		if strings.Contains(msg, "Content Security Policy") || strings.Contains(msg, "Refused to") {
			mu.Lock()
			reports = append(reports, msg)
			mu.Unlock()
		}
	})
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`,
	}); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, ctx: ctx}
	for _, path := range []string{"/", "/staff", "/staff/reports", "/r/1"} {
		b.do("loading "+path, chromedp.Navigate(base+path), chromedp.WaitReady("body"))
		if path == "/" {
			b.do("the resident map",
				chromedp.Poll[chromedp.Void](`window.pinward && window.pinward.map !== null`, chromedp.WithPollingTimeout(10*time.Second)),
				chromedp.Poll[chromedp.Void](`window.pinward.map.loaded()`, chromedp.WithPollingTimeout(20*time.Second)))
			if !eval[bool](b, `document.querySelector(".maplibregl-canvas") !== null`) {
				t.Errorf("%s: no map canvas", path)
			}
		} else {
			b.do("settling", chromedp.Sleep(2*time.Second))
		}
		if got := eval[[]string](b, `window.__csp`); len(got) > 0 {
			t.Errorf("%s: CSP violations %v", path, got)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	<-cctx.Done()
	mu.Lock()
	defer mu.Unlock()
	if len(reports) > 0 {
		t.Errorf("the browser reported: %q", reports)
	}
}
