package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pinward/pinward/data"
)

// queueCatalog is the sample catalog with public works' contacts and
// potholes due in 2 seconds, escalating at half of that: overdue and
// escalated by the time the page loads.
func queueCatalog(t *testing.T) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data.SampleCategoriesJSON(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, d := range doc["departments"].([]any) {
		if d := d.(map[string]any); d["code"] == "public_works" {
			d["contacts"] = map[string]any{"department": []any{map[string]any{"email": "voirie@example.ca", "lang": "fr"}}}
		}
	}
	for _, c := range doc["categories"].([]any) {
		if c := c.(map[string]any); c["code"] == "pothole" {
			c["sla"] = map[string]any{"hours": 2.0 / 3600, "business_hours": false}
			c["escalation"] = []any{map[string]any{"at": "50%", "notify": "department"}}
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "categories.json")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestBrowserQueue drives the queue page in a real headless Chromium, in
// French: a clerk signs in, picks public works, sees the overdue and
// escalated potholes first (marked in words) and the graffiti after, sorts
// by reception, opens a request from the keyboard's focus order to its
// history (received, escalated) and reads the reporter behind the logged
// read; axe-core finds no accessibility violation on the list or the
// request.
func TestBrowserQueue(t *testing.T) {
	chromium := chromiumPath(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	axePath := filepath.Join("..", "..", "web", "node_modules", "axe-core", "axe.min.js")
	axe, err := os.ReadFile(axePath)
	if err != nil {
		if os.Getenv("PINWARD_REQUIRE_BROWSER") == "1" {
			t.Fatalf("axe-core: %v (run cd web && npm ci)", err)
		}
		t.Skipf("axe-core not installed (cd web && npm ci): %v", err)
	}
	vars := map[string]string{"PINWARD_DATA_DIR": filepath.Join(t.TempDir(), "var"), "PINWARD_ADDR": "127.0.0.1:0",
		"PINWARD_LOG_LEVEL": "warn", "PINWARD_CATEGORIES": queueCatalog(t), "PINWARD_ESCALATION_EVERY": "200ms"}
	env, out, errb := testEnv(vars)
	if code := Main(t.Context(), []string{"keys", "create", "--role", "staff", "--label", "browser test"}, env); code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, errb)
	}
	staffKey := strings.TrimSpace(out.String())
	base := startServeForBrowser(t, vars)

	places := issuePlaces(t, 3, 300)
	var ids []string
	for i, form := range []url.Values{
		{"service_code": {"graffiti"}, "attribute[offensive]": {"no"}},
		{"service_code": {"pothole"}, "attribute[size]": {"large"}, "first_name": {"Élise"}, "email": {"elise@example.ca"}},
		{"service_code": {"pothole"}, "attribute[size]": {"small"}},
	} {
		form.Set("api_key", staffKey)
		form.Set("long", strconv.FormatFloat(places[i][0], 'f', -1, 64))
		form.Set("lat", strconv.FormatFloat(places[i][1], 'f', -1, 64))
		res, err := http.PostForm(base+"/open311/v2/requests.json", form)
		if err != nil {
			t.Fatal(err)
		}
		var got []map[string]string
		json.NewDecoder(res.Body).Decode(&got)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated || len(got) != 1 {
			t.Fatalf("POST %v: %d", form, res.StatusCode)
		}
		ids = append(ids, got[0]["service_request_id"])
	}
	time.Sleep(2500 * time.Millisecond) // the potholes fall due and escalate

	br := &browser{t: t, ctx: newHeadless(t, chromium)}
	br.do("queue page",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(base+"/staff/queue?locale=fr"),
		chromedp.WaitVisible("#staff-key"),
		chromedp.SendKeys("#staff-key", staffKey),
		chromedp.Click(`#login button[type="submit"]`),
		chromedp.WaitVisible(`#queue tbody tr`),
		chromedp.SetValue("#q-department", "public_works"),
		chromedp.Click(`#query button[type="submit"]`),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#queue tbody tr").length === 3 && document.querySelectorAll("#queue tr.escalated").length === 2`,
			chromedp.WithPollingTimeout(15*time.Second)))
	br.shot("queue-fr")
	axeClean(br, string(axe), "the list")

	// Due order: the two potholes (due first, overdue), then the graffiti.
	order := eval[[]string](br, `[...document.querySelectorAll("#queue tbody tr")].map(r => r.dataset.id)`)
	if strings.Join(order, ",") != strings.Join([]string{ids[1], ids[2], ids[0]}, ",") {
		t.Errorf("queue by due: %v, want %v, %v, %v", order, ids[1], ids[2], ids[0])
	}
	for _, id := range ids[1:] {
		row := `#queue tr[data-id="` + id + `"]`
		if got := br.text(row + ` [data-col="due"]`); !strings.Contains(got, "En retard") {
			t.Errorf("pothole %s due cell %q: no overdue mark", id, got)
		}
		if got := br.text(row + ` [data-col="level"]`); got != "Niveau 1" {
			t.Errorf("pothole %s escalation %q, want Niveau 1", id, got)
		}
		if got := br.text(row + ` [data-col="left"]`); !strings.HasPrefix(got, "en retard de") {
			t.Errorf("pothole %s time left %q", id, got)
		}
	}
	graffiti := `#queue tr[data-id="` + ids[0] + `"]`
	if eval[bool](br, `document.querySelector('`+graffiti+`').classList.contains("overdue")`) {
		t.Error("the graffiti is marked overdue")
	}
	if got := br.text(graffiti + ` [data-col="left"]`); !strings.HasSuffix(got, "restant") {
		t.Errorf("graffiti time left %q", got)
	}
	if got := br.text(`#queue thead`); !strings.Contains(got, "Échéance") || !strings.Contains(got, "Escalade") {
		t.Errorf("headings not in French: %q", got)
	}

	br.do("by reception",
		chromedp.SetValue("#q-sort", "received"),
		chromedp.Click(`#query button[type="submit"]`),
		chromedp.Poll[chromedp.Void](`document.querySelector("#queue tbody tr").dataset.id === "`+ids[0]+`"`,
			chromedp.WithPollingTimeout(10*time.Second)))
	order = eval[[]string](br, `[...document.querySelectorAll("#queue tbody tr")].map(r => r.dataset.id)`)
	if strings.Join(order, ",") != strings.Join(ids, ",") {
		t.Errorf("queue by reception: %v, want %v", order, ids)
	}

	// Open the escalated pothole with the keyboard: its button, then Enter.
	br.do("open a request",
		chromedp.Focus(`#queue tr[data-id="`+ids[1]+`"] button`),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(`#history li[data-kind="escalated"]`))
	if got := eval[string](br, `document.activeElement.id`); got != "detail-title" {
		t.Errorf("focus after opening: %q, want the request's heading", got)
	}
	if got := br.text(`#history`); !strings.Contains(got, "Reçue") || !strings.Contains(got, "Escaladée") {
		t.Errorf("history %q", got)
	}
	br.do("reporter",
		chromedp.Click("#show-reporter"),
		chromedp.WaitVisible("#reporter-facts"),
		chromedp.WaitVisible(`#history li[data-kind="reporter_read"]`))
	if got := br.text("#reporter-facts"); !strings.Contains(got, "Élise") || !strings.Contains(got, "elise@example.ca") {
		t.Errorf("reporter %q", got)
	}
	br.shot("queue-request-fr")
	axeClean(br, string(axe), "the request")
}

// axeClean runs axe-core in the page and fails the test on any violation.
func axeClean(br *browser, axe, what string) {
	br.t.Helper()
	type violation struct {
		ID    string `json:"id"`
		Help  string `json:"help"`
		Nodes []struct {
			Target []string `json:"target"`
		} `json:"nodes"`
	}
	br.do("axe-core "+what, chromedp.Evaluate[chromedp.Void](axe))
	var vs []violation
	res, err := chromedp.Run(br.ctx, chromedp.Evaluate[string](`axe.run(document).then(r => JSON.stringify(r.violations))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		br.t.Fatalf("axe-core on %s: %v", what, err)
	}
	if err := json.Unmarshal([]byte(res), &vs); err != nil {
		br.t.Fatal(err)
	}
	for _, v := range vs {
		var at []string
		for _, n := range v.Nodes {
			at = append(at, strings.Join(n.Target, " "))
		}
		br.t.Errorf("axe-core on %s: %s (%s) at %v", what, v.ID, v.Help, at)
	}
}
