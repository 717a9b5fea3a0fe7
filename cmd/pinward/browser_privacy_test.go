package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestBrowserPrivacyNotice: a French-speaking resident sees the
// municipality's privacy notice, in French, before the contact fields,
// gives an e-mail address and submits; the reporter's row records the
// notice's version, which a staff key limited to the request's department
// reads back (and a key of another department cannot: 404).
func TestBrowserPrivacyNotice(t *testing.T) {
	chromium := chromiumPath(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	vars := map[string]string{"PINWARD_DATA_DIR": filepath.Join(t.TempDir(), "var"), "PINWARD_ADDR": "127.0.0.1:0", "PINWARD_LOG_LEVEL": "warn"}
	key := func(args ...string) string {
		env, out, errb := testEnv(vars)
		if code := Main(t.Context(), append([]string{"keys", "create"}, args...), env); code != 0 {
			t.Fatalf("keys create %v: exit %d: %s", args, code, errb)
		}
		return strings.TrimSpace(out.String())
	}
	env, _, errb := testEnv(vars)
	if code := Main(t.Context(), []string{"keys", "create", "--role", "admin", "--departments", "parks"}, env); code != 2 {
		t.Errorf("an admin key limited to a department: exit %d, %s; want a usage error", code, errb)
	}
	transport := key("--role", "staff", "--departments", "transportation")
	parks := key("--role", "staff", "--departments", "parks")
	base := startServeForBrowser(t, vars)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
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
	ua, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: "fr-CA,fr"}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: "fr-CA"}); err != nil {
		t.Fatal(err)
	}
	const lon, lat = -73.066232, 46.0300619 // SL-000001 of the sample town
	b := &browser{t: t, ctx: ctx}
	b.do("resident page", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible("#cats input[value=streetlight_out]"),
		chromedp.WaitVisible("#privacy-version"))
	notice := b.text("#privacy-notice")
	for _, want := range []string{"Protection de vos renseignements personnels", "faire le suivi de ce signalement",
		"un an après la fermeture", "vieprivee@example.org", "version 2026-01"} {
		if !strings.Contains(notice, want) {
			t.Errorf("the notice reads %q, want it to contain %q", notice, want)
		}
	}
	if strings.Contains(notice, "follow up on this report") {
		t.Errorf("the French page shows the English notice: %q", notice)
	}
	if before := eval[bool](b, `!!(document.getElementById("privacy-notice").compareDocumentPosition(document.getElementById("email")) & Node.DOCUMENT_POSITION_FOLLOWING)`); !before {
		t.Error("the notice is not before the contact fields")
	}
	b.shot("resident-fr-privacy-notice")
	b.dropPin(lon+0.00008, lat)
	b.do("filling the form",
		chromedp.Click("#cats input[value=streetlight_out]"),
		chromedp.WaitVisible("#attr-problem"),
		chromedp.SetValue("#attr-problem", "out"),
		chromedp.SendKeys("#description", "Le lampadaire est éteint."),
		chromedp.Click("#contact summary"),
		chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", "resident@example.org"),
		chromedp.Click("#submit"),
		chromedp.WaitVisible("#request-number"))
	number := b.text("#request-number")

	reporter := func(key string) (int, map[string]string) {
		req, err := http.NewRequest(http.MethodGet, base+"/api/v1/requests/"+number+"/reporter", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Api-Key", key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]string
		json.NewDecoder(res.Body).Decode(&out) //nolint:errcheck // a 404's list body leaves out empty
		return res.StatusCode, out
	}
	if code, rep := reporter(transport); code != http.StatusOK || rep["email"] != "resident@example.org" || rep["notice_version"] != "2026-01" {
		t.Errorf("reporter of %s with a transportation key: %d %v, want the e-mail and notice_version 2026-01", number, code, rep)
	}
	if code, _ := reporter(parks); code != http.StatusNotFound {
		t.Errorf("reporter of %s with a parks key: %d, want 404", number, code)
	}
}
