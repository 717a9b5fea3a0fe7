package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// chromiumPath is the headless browser the page tests drive: $PINWARD_CHROMIUM,
// or Debian's chromium (make test installs it when root). Without one the
// test is skipped, unless PINWARD_REQUIRE_BROWSER=1 (make test sets it):
// then it fails, so a run that drove no browser cannot pass as one that did.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PINWARD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const why = "no Chromium: the browser tests need Debian's chromium package (apt-get install chromium, or run make test as root) or PINWARD_CHROMIUM"
	if os.Getenv("PINWARD_REQUIRE_BROWSER") == "1" {
		t.Fatal(why + "; PINWARD_REQUIRE_BROWSER=1 makes that a failure")
	}
	t.Skip(why)
	return ""
}

// startServeForBrowser runs Main serve on a loopback port with vars and returns its URL.
func startServeForBrowser(t *testing.T, vars map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	serveErr := &lockedBuffer{b: &bytes.Buffer{}}
	env := Env{Stdin: strings.NewReader(""), Stdout: pw, Stderr: serveErr, Getenv: func(k string) string {
		if v, ok := vars[k]; ok || k != "PINWARD_RATE_LIMITS" {
			return v
		}
		return testRateLimits
	}}
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"serve"}, env); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve: %v: %s", err, serveErr.String())
	}
	go io.Copy(io.Discard, pr)
	return strings.TrimSpace(strings.TrimPrefix(line, "pinward: listening on "))
}

// artifacts is where the browser tests leave their screenshots
// (test-artifacts/ at the repository root, gitignored).
func artifacts(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "test-artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	// Quality 100 is PNG.
	if err := os.WriteFile(filepath.Join(artifacts(t), name+".png"), png, 0o644); err != nil {
		t.Error(err)
	}
}

// TestBrowserResidentAndStaff drives the pages in a real headless Chromium
// on a phone-sized screen: a French-speaking resident drops a pin by a
// streetlight, sees the ward and the streetlight named, picks the category,
// submits and gets a request number; the request is then in Open311 GET
// requests; a second resident is offered that issue and joins it; the staff
// map shows the cluster with both requests.
func TestBrowserResidentAndStaff(t *testing.T) {
	chromium := chromiumPath(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	base, staffKey := startServeWithStaffKey(t)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// MapLibre needs WebGL: software rendering, no GPU.
		chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("lang", "fr-CA"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
	defer cancel()

	// A French-speaking resident's browser: navigator.language and
	// Accept-Language say fr-CA.
	ua, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: "fr-CA,fr"}); err != nil {
		t.Fatalf("language: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: "fr-CA"}); err != nil {
		t.Fatalf("locale: %v", err)
	}
	phone := chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch)
	// SL-000001 of the sample town; pins go a few metres from it.
	const lon, lat = -73.066232, 46.0300619
	b := &browser{t: t, ctx: ctx}
	b.do("resident page", phone,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible("#cats input[value=streetlight_out]"))
	if lang := eval[string](b, `document.documentElement.lang`); lang != "fr" {
		t.Errorf("page language %q with a French browser, want fr", lang)
	}
	b.dropPin(lon+0.00008, lat)
	b.do("filling the form",
		chromedp.SendKeys("#cat-search", "lampadaire"),
		chromedp.Click("#cats input[value=streetlight_out]"),
		chromedp.WaitVisible("#asset"),
		chromedp.WaitVisible("#attr-problem"),
		chromedp.SetValue("#attr-problem", "out"),
		chromedp.SendKeys("#description", "Le lampadaire devant le 12 est éteint."))
	ward, asset := b.text("#ward"), b.text("#asset")
	if !strings.Contains(ward, "Quartier") || !strings.Contains(asset, "SL-000001") || !strings.Contains(asset, "Lampadaire") {
		t.Errorf("before submitting the page shows %q and %q, want the ward and streetlight SL-000001 in French", ward, asset)
	}
	b.shot("resident-fr-form")
	b.do("submitting", chromedp.Click("#submit"), chromedp.WaitVisible("#request-number"))
	number, doneWard := b.text("#request-number"), b.text("#done-ward")
	b.shot("resident-fr-done")
	wardName := strings.TrimSpace(ward[strings.Index(ward, ":")+1:])
	if number == "" || wardName == "" || !strings.Contains(doneWard, wardName) {
		t.Errorf("after submitting: number %q, ward line %q (ward %q)", number, doneWard, ward)
	}

	// The request is in Open311 GET requests, with the asset the page named.
	got := getRequests(t, base+"/open311/v2/requests.json?service_request_id="+number)
	if len(got) != 1 || got[0]["service_code"] != "streetlight_out" || got[0]["asset_id"] != "SL-000001" || got[0]["ward_id"] == "" {
		t.Fatalf("GET requests.json?service_request_id=%s: %v", number, got)
	}
	cluster := got[0]["cluster_id"]

	// A second resident, in English this time, about 25 m away: the page
	// offers the open issue, and joining it puts the report in its cluster.
	b.do("second resident",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`[data-lang-button="en"]`),
		chromedp.Click(`[data-lang-button="en"]`),
		chromedp.WaitVisible("#cats input[value=streetlight_out]"))
	if lang := eval[string](b, `document.documentElement.lang`); lang != "en" {
		t.Errorf("after the EN switch the page language is %q", lang)
	}
	// This one uses the keyboard only: the map centred where the pin goes
	// (arrow keys do that for a person), "Pin at map centre", then the
	// category radio with the space bar.
	b.do("keyboard pin",
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`void window.pinward.map.jumpTo({center: [%f, %f], zoom: 17})`, lon+0.0003, lat+0.0001)),
		chromedp.Focus("#pin-centre"),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible("#ward"),
		chromedp.Focus("#cats input[value=streetlight_out]"),
		chromedp.KeyEvent(" "),
		chromedp.WaitVisible("#nearby button"))
	if checked := eval[bool](b, `document.querySelector("#cats input[value=streetlight_out]").checked`); !checked {
		t.Errorf("the space bar did not choose the category")
	}
	if offered := b.text("#nearby"); !strings.Contains(offered, "#"+cluster) {
		t.Errorf("nearby offers %q, want cluster #%s", offered, cluster)
	}
	b.shot("resident-en-same-issue")
	b.do("joining the cluster",
		chromedp.Click("#nearby button"),
		chromedp.WaitNotPresent("#nearby button"),
		chromedp.WaitVisible("#attr-problem"),
		chromedp.SetValue("#attr-problem", "flickering"),
		chromedp.Click("#submit"),
		chromedp.WaitVisible("#request-number"))
	number2 := b.text("#request-number")
	if got := getRequests(t, base+"/open311/v2/requests/"+number2+".json"); len(got) != 1 || got[0]["cluster_id"] != cluster {
		t.Errorf("the joined request %s: %v, want cluster %s", number2, got, cluster)
	}

	// The status page, in French.
	b.do("status page", chromedp.Navigate(base+"/r/"+number+"?locale=fr"), chromedp.WaitVisible("#request-status"))
	if status := b.text("#request-status"); status != "Nouvelle" {
		t.Errorf("status page shows %q, want Nouvelle", status)
	}
	b.do("status page ward", chromedp.Poll[chromedp.Void](`document.getElementById("request-ward").textContent !== "`+got[0]["ward_id"]+`"`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if w := b.text("#request-ward"); w != wardName {
		t.Errorf("status page ward %q, want %q", w, wardName)
	}
	b.shot("status-fr")

	// The staff map: the key once, then the cluster with its two requests.
	sel := `[data-cluster="` + cluster + `"]`
	b.do("staff map",
		chromedp.Navigate(base+"/staff"),
		chromedp.WaitVisible("#staff-key"),
		chromedp.SendKeys("#staff-key", staffKey),
		chromedp.Click(`#login button[type="submit"]`),
		chromedp.WaitVisible(sel),
		chromedp.Click(sel),
		chromedp.WaitVisible("#detail ul"),
		// Selecting the cluster zooms to it; from zoom 15 the clusters tiles
		// hold one feature per cluster, with its count.
		chromedp.Poll[chromedp.Void](`(() => { const m = window.pinward.map; return m && m.getSource("cluster-tiles") && m.loaded() && !m.isMoving() && m.getZoom() >= 15; })()`,
			chromedp.WithPollingTimeout(20*time.Second)))
	listed, detail := b.text(sel), b.text("#detail")
	features := eval[[]map[string]any](b, `window.pinward.map.queryRenderedFeatures({layers: ["cluster-tiles"]}).filter(f => String(f.properties.cluster_id) === "`+cluster+`").map(f => f.properties)`)
	b.shot("staff-map")
	if !strings.Contains(listed, "· 2 ·") || !strings.Contains(detail, "#"+number) || !strings.Contains(detail, "#"+number2) {
		t.Errorf("staff map: list %q, detail %q for cluster %s", listed, detail, cluster)
	}
	if len(features) != 1 || fmt.Sprint(features[0]["count"]) != "2" || features[0]["service_code"] != "streetlight_out" {
		t.Errorf("staff map draws cluster %s from the tiles as %v, want one feature with count 2", cluster, features)
	}
	if kept := eval[string](b, `sessionStorage.getItem("pinward-staff-key")`); kept != staffKey {
		t.Errorf("the staff key is not kept in sessionStorage: %q", kept)
	}
}

// getRequests decodes an Open311 JSON list, every value as text.
func getRequests(t *testing.T, url string) []map[string]string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var raw []map[string]any
	if err := json.NewDecoder(res.Body).Decode(&raw); err != nil {
		t.Fatalf("GET %s: %d: %v", url, res.StatusCode, err)
	}
	out := make([]map[string]string, len(raw))
	for i, r := range raw {
		out[i] = map[string]string{}
		for k, v := range r {
			if v != nil {
				out[i][k] = fmt.Sprint(v)
			}
		}
	}
	return out
}

// browser is one tab under test; its helpers fail the test on error.
type browser struct {
	t   *testing.T
	ctx context.Context
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.shot("failed")
		html, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 2000)`))
		b.t.Fatalf("%s: %v\npage text:\n%s", what, err, html)
	}
	b.t.Logf("%s: %v", what, time.Since(start).Round(time.Millisecond))
}

// text reads an element's text in one step in the page: the pages
// re-render lists as answers arrive, so a node found in one DevTools call
// may be gone by the next.
func (b *browser) text(sel string) string {
	b.t.Helper()
	q, _ := json.Marshal(sel)
	expr := `(() => { const e = document.querySelector(` + string(q) + `); return e ? e.innerText : null; })()`
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	for {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[*string](expr))
		switch {
		case err != nil:
			b.t.Fatalf("text of %s: %v", sel, err)
		case v != nil:
			return *v
		}
		select {
		case <-ctx.Done():
			b.t.Fatalf("text of %s: no such element", sel)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

func (b *browser) shot(name string) { b.t.Helper(); shot(b.t, b.ctx, name) }

// dropPin centres the map on a point and taps the middle of the map, as a
// resident drops a pin; it fails the test when the map cannot render
// (no WebGL).
func (b *browser) dropPin(lon, lat float64) {
	b.t.Helper()
	b.do("map",
		chromedp.Poll[chromedp.Void](`window.pinward.map !== null`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.ScrollIntoView("#map"),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`void window.pinward.map.jumpTo({center: [%f, %f], zoom: 17})`, lon, lat)),
		chromedp.Poll[chromedp.Void](`window.pinward.map.loaded()`, chromedp.WithPollingTimeout(20*time.Second)))
	c := eval[[]float64](b, `(() => { const r = document.getElementById("map").getBoundingClientRect(); return [r.left + r.width/2, r.top + r.height/2]; })()`)
	b.do("dropping the pin", chromedp.MouseClickXY(c[0], c[1]), chromedp.WaitVisible("#ward"))
	got := eval[[]float64](b, `window.pinward.state.point`)
	if len(got) != 2 || (got[0]-lon)*(got[0]-lon)+(got[1]-lat)*(got[1]-lat) > 1e-9 {
		b.t.Errorf("pin dropped at %v, want about %v,%v", got, lon, lat)
	}
}

// newHeadless starts a headless Chromium for one test (software WebGL for
// MapLibre, a throwaway profile, and any extra options) and returns a
// context with a 90 s budget.
func newHeadless(t *testing.T, chromium string, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
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
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelBrowser)
	ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(cancel)
	// Start the browser on ctx (the steps run on shorter contexts).
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`)); err != nil {
		t.Fatalf("browser: %v", err)
	}
	return ctx
}

// startServeWithStaffKey creates a staff key in a fresh data folder and
// serves it for a browser test: the server's base URL and the key.
func startServeWithStaffKey(t *testing.T) (base, staffKey string) {
	t.Helper()
	vars := map[string]string{"PINWARD_DATA_DIR": filepath.Join(t.TempDir(), "var"), "PINWARD_ADDR": "127.0.0.1:0", "PINWARD_LOG_LEVEL": "warn"}
	env, out, errb := testEnv(vars)
	if code := Main(t.Context(), []string{"keys", "create", "--role", "staff", "--label", "browser test"}, env); code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, errb)
	}
	return startServeForBrowser(t, vars), strings.TrimSpace(out.String())
}
