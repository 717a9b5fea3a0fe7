package main

import (
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestBrowserOfflinePhone: a French-speaking resident on a phone (390×844,
// touch) chooses a photo, taps the map at its opening zoom and sees it
// zoom in to street level, taps again to place the pin, finds an address,
// reads the chosen category's help text in French, and submits with no
// connection (DevTools network emulation; the server cut off as well, for
// the service worker).
// The page says in French that the report waits on the phone; reloaded
// offline it still opens (service worker); back online, the report is sent
// once: exactly one request is stored, with its photo. The map's controls
// carry French labels, and the sample town's streets come from pinward.
func TestBrowserOfflinePhone(t *testing.T) {
	chromium := chromiumPath(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	dir := t.TempDir()
	const lon, lat = -73.066232, 46.0300619 // a sample streetlight, in a ward
	addrFile := filepath.Join(dir, "adresses.csv")
	if err := os.WriteFile(addrFile, []byte(fmt.Sprintf("NO_CIVIQUE,RUE,LONGITUDE,LATITUDE\n120,Rue des Érables,%f,%f\n", lon+0.0003, lat)), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"PINWARD_DATA_DIR": filepath.Join(dir, "var"), "PINWARD_ADDR": "127.0.0.1:0",
		"PINWARD_LOG_LEVEL": "warn", "PINWARD_ADDRESSES": addrFile}
	env, out, errb := testEnv(vars)
	if code := Main(t.Context(), []string{"keys", "create", "--role", "staff", "--label", "offline test"}, env); code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, errb)
	}
	staffKey := strings.TrimSpace(out.String())
	server := startServeForBrowser(t, vars)
	var cut atomic.Bool
	base := cutProxy(t, server, &cut)

	photo := filepath.Join(dir, "IMG_0002.jpg")
	img := image.NewRGBA(image.Rect(0, 0, 1200, 900))
	for y := range 900 {
		for x := range 1200 {
			img.SetRGBA(x, y, color.RGBA{uint8(x / 5), uint8(y / 4), 90, 255})
		}
	}
	f, err := os.Create(photo)
	if err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(f, img, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()

	ctx := newHeadless(t, chromium)
	b := &browser{t: t, ctx: ctx}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	b.do("resident page in French",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(base+"/?locale=fr"),
		chromedp.WaitVisible("#cats input[value=pothole]"),
		chromedp.Poll[chromedp.Void](`window.pinward.map && window.pinward.map.loaded()`, chromedp.WithPollingTimeout(20*time.Second)),
		// The service worker has cached the page's files and controls it.
		chromedp.Poll[chromedp.Void](`navigator.serviceWorker.controller !== null`, chromedp.WithPollingTimeout(20*time.Second)))
	if title := b.text("title"); !strings.Contains(title, "Signaler") {
		t.Errorf("title %q", title)
	}
	for sel, want := range map[string]string{".maplibregl-ctrl-zoom-in": "Zoom avant", ".maplibregl-ctrl-zoom-out": "Zoom arrière"} {
		got := eval[[]string](b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return [e.title, e.getAttribute("aria-label")]; })()`, sel))
		if len(got) != 2 || got[0] != want || got[1] != want {
			t.Errorf("%s: title and label %q, want %q", sel, got, want)
		}
	}
	// pinward's own streets (the sample town's basemap) are on the map.
	if n := eval[int](b, `window.pinward.map.getStyle().layers.filter((l) => l.source === "protomaps").length`); n < 10 {
		t.Errorf("%d basemap layers on the map, want the Protomaps layers", n)
	}
	if manifest := eval[string](b, `document.querySelector("link[rel=manifest]").href`); manifest != base+"/manifest.webmanifest" {
		t.Errorf("manifest link %q", manifest)
	}

	b.do("choosing a photo", chromedp.SetUploadFiles("#photo", []string{photo}), chromedp.WaitVisible("#photos li img"))

	// A tap at the opening zoom zooms in there; it places no pin.
	zoom0 := eval[float64](b, `window.pinward.map.getZoom()`)
	if zoom0 >= 16 {
		t.Fatalf("opening zoom %.1f: already street level, the test proves nothing", zoom0)
	}
	b.do("map in view", chromedp.ScrollIntoView("#map"))
	at := eval[[]float64](b, fmt.Sprintf(`(() => { const r = document.getElementById("map").getBoundingClientRect();
		const p = window.pinward.map.project([%f, %f]); return [r.left + p.x, r.top + p.y]; })()`, lon, lat))
	b.do("tapping at the opening zoom", chromedp.MouseClickXY(at[0], at[1]),
		chromedp.WaitVisible("#zoomed-in"),
		chromedp.Poll[chromedp.Void](`window.pinward.map.getZoom() >= 16.9 && !window.pinward.map.isMoving()`, chromedp.WithPollingTimeout(10*time.Second)))
	if p := eval[any](b, `window.pinward.state.point`); p != nil {
		t.Errorf("the first tap placed a pin at %v", p)
	}
	if got := b.text("#zoomed-in"); !strings.Contains(got, "touchez maintenant") {
		t.Errorf("zoom hint %q, want French", got)
	}
	b.shot("offline-1-zoomed")
	// The second tap, on the same spot now at street level, places the pin.
	at = eval[[]float64](b, fmt.Sprintf(`(() => { const r = document.getElementById("map").getBoundingClientRect();
		const p = window.pinward.map.project([%f, %f]); return [r.left + p.x, r.top + p.y]; })()`, lon, lat))
	b.do("placing the pin", chromedp.MouseClickXY(at[0], at[1]), chromedp.WaitVisible("#ward"))
	got := eval[[]float64](b, `window.pinward.state.point`)
	// A tap is a whole pixel: at zoom 17 that is well under a metre.
	if len(got) != 2 || abs(got[0]-lon) > 2e-5 || abs(got[1]-lat) > 2e-5 {
		t.Errorf("pin at %v, want within 2 m of %v,%v", got, lon, lat)
	}

	// The address search finds the file's address and moves the pin there.
	b.do("address search", chromedp.WaitVisible("#addr"), chromedp.SendKeys("#addr", "120 érab"),
		chromedp.WaitVisible("#addr-results button.addr"))
	if got := b.text("#addr-results button.addr"); got != "120 Rue des Érables" {
		t.Errorf("address found %q", got)
	}
	b.do("choosing the address", chromedp.Click("#addr-results button.addr"),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`Math.abs(window.pinward.state.point[0] - %f) < 1e-6`, lon+0.0003), chromedp.WithPollingTimeout(5*time.Second)))

	b.do("choosing the category",
		chromedp.Click("#cats input[value=pothole]"),
		chromedp.WaitVisible("#cat-help"),
		chromedp.WaitVisible("#attr-size"),
		chromedp.SetValue("#attr-size", "large"),
		chromedp.SetValue("#description", "Nid-de-poule profond devant le 120"))
	if help := b.text("#cat-help"); help != "Un trou dans la chaussée d'une rue ou d'une ruelle." {
		t.Errorf("category help %q, want the French help text", help)
	}
	if under := eval[bool](b, `document.getElementById("cat-help").previousElementSibling.contains(document.querySelector("#cats input[value=pothole]"))`); !under {
		t.Error("the help text is not right under the chosen category")
	}

	offline := func(off bool) {
		t.Helper()
		tru := true
		cond := []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}}
		if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: &tru, MatchedNetworkConditions: cond}); err != nil {
			t.Fatal(err)
		}
		cut.Store(off)
		if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: off, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
			t.Fatal(err)
		}
	}
	offline(true)
	pageLoads := servedPages(t, server)
	b.do("submitting offline", chromedp.Click("#submit"), chromedp.WaitVisible("#waiting"))
	if msg := b.text("#waiting"); !strings.Contains(msg, "Vous êtes hors ligne") || !strings.Contains(msg, "gardé sur ce téléphone") {
		t.Errorf("waiting message %q, want French", msg)
	}
	b.shot("offline-2-waiting")
	if n := len(getRequests(t, server+"/open311/v2/requests.json")); n != 0 {
		t.Fatalf("%d requests stored while offline", n)
	}
	kept := `new Promise((ok) => { const r = indexedDB.open("pinward", 1); r.onsuccess = () => {
		const q = r.result.transaction("outbox").objectStore("outbox").getAll(); q.onsuccess = () => { ok(q.result.length); r.result.close(); }; }; })`
	if n := evalAwait[int](b, kept); n != 1 {
		t.Fatalf("%d reports kept on the phone, want 1", n)
	}

	// Reloaded with no connection, the page still opens (service worker).
	b.do("reloading offline", chromedp.Navigate(base+"/?locale=fr"), chromedp.WaitVisible("#cats input[value=pothole]"))
	if n := servedPages(t, server); n != pageLoads {
		t.Errorf("the server served the page %d times while the phone was offline", n-pageLoads)
	}
	b.shot("offline-3-reloaded")

	offline(false)
	b.do("back online: the kept report is sent", chromedp.WaitVisible("#outbox a"))
	if msg := b.text("#outbox"); !strings.Contains(msg, "a été envoyé") {
		t.Errorf("sent message %q, want French", msg)
	}
	number := b.text("#outbox a")
	// Another wake-up (a second "online", the periodic retry) sends nothing more.
	b.do("another flush", chromedp.Evaluate[chromedp.Void](`window.dispatchEvent(new Event("online"))`))
	time.Sleep(time.Second)
	if n := evalAwait[int](b, kept); n != 0 {
		t.Errorf("%d reports still kept after sending", n)
	}
	reqs := getRequests(t, server+"/open311/v2/requests.json")
	if len(reqs) != 1 || reqs[0]["service_request_id"] != number || reqs[0]["service_code"] != "pothole" {
		t.Fatalf("stored requests %v, want exactly request %s", reqs, number)
	}
	req, _ := http.NewRequest("GET", server+"/api/v1/requests/"+number+"/media", nil)
	req.Header.Set("X-Api-Key", staffKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || strings.Count(string(body), `"state"`) != 1 {
		t.Errorf("request %s photos: %d %s, want the one photo kept offline", number, res.StatusCode, body)
	}
	b.shot("offline-4-sent")
}

// cutProxy is the phone's way to the server: a reverse proxy to base that,
// while cut is true, drops every connection it gets, as a lost signal
// does. DevTools' emulation takes the page offline; the service worker
// runs apart from it, and this takes it offline too.
func cutProxy(t *testing.T, base string, cut *atomic.Bool) string {
	t.Helper()
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cut.Load() {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return front.URL
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// evalAwait evaluates a promise-valued expression and returns its value.
func evalAwait[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

var pageCount = regexp.MustCompile(`(?m)^pinward_http_requests_total\{[^}]*route="/"[^}]*\} (\d+)$`)

// servedPages is how many times the server has answered GET / (its
// /metrics), to tell a page the service worker served from one the
// network did.
func servedPages(t *testing.T, base string) int {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	n := 0
	for _, m := range pageCount.FindAllStringSubmatch(string(body), -1) {
		v, _ := strconv.Atoi(m[1])
		n += v
	}
	if n == 0 {
		t.Fatalf("/metrics counts no GET /:\n%.2000s", body)
	}
	return n
}
