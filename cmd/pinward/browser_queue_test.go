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

// TestBrowserQueueActsFrench is issue 13's clerk in French, from the queue
// page alone: open public works' queue, acknowledge one pothole with the
// canned response "received_reviewing" (the template sets the move), close
// another as fixed with a note in each language; then the status page
// /r/{id} shows each public note in the page's language (French, and
// English after switching), with the detailed status and the reason.
func TestBrowserQueueActsFrench(t *testing.T) {
	chromium := chromiumPath(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	base, staffKey := startServeWithStaffKey(t)
	places := issuePlaces(t, 2, 300)
	var ids []string
	for _, p := range places {
		res, err := http.PostForm(base+"/open311/v2/requests.json", url.Values{"api_key": {staffKey}, "service_code": {"pothole"},
			"attribute[size]": {"large"}, "locale": {"fr"},
			"long": {strconv.FormatFloat(p[0], 'f', -1, 64)}, "lat": {strconv.FormatFloat(p[1], 'f', -1, 64)}})
		if err != nil {
			t.Fatal(err)
		}
		var got []map[string]string
		json.NewDecoder(res.Body).Decode(&got)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated || len(got) != 1 {
			t.Fatalf("POST: %d", res.StatusCode)
		}
		ids = append(ids, got[0]["service_request_id"])
	}
	ack, fix := ids[0], ids[1]
	row := func(id string) string { return `#queue tr[data-id="` + id + `"]` }
	choose := func(sel, v string) chromedp.Action[chromedp.Void] {
		// As a person picks an option: the value, then the change event.
		q, _ := json.Marshal(sel)
		val, _ := json.Marshal(v)
		return chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector(` + string(q) + `); s.value = ` + string(val) +
			`; s.dispatchEvent(new Event("change", {bubbles: true})); })()`)
	}

	br := &browser{t: t, ctx: newHeadless(t, chromium)}
	br.do("the queue in French",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(base+"/staff/queue?locale=fr"),
		chromedp.WaitVisible("#staff-key"),
		chromedp.SendKeys("#staff-key", staffKey),
		chromedp.Click(`#login button[type="submit"]`),
		chromedp.WaitVisible(`#queue tbody tr`),
		chromedp.SetValue("#q-department", "public_works"),
		chromedp.Click(`#query button[type="submit"]`),
		// The rows of the department's query, not those of the first load.
		chromedp.Poll[chromedp.Void](`(document.getElementById("queue").dataset.query || "").includes("department=public_works")`,
			chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.WaitVisible(row(ack)), chromedp.WaitVisible(row(fix)))

	br.do("acknowledging with a canned response",
		chromedp.Click(row(ack)+" button"),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll("#t-template option")].some(o => o.value === "received_reviewing")`,
			chromedp.WithPollingTimeout(10*time.Second)))
	if got := br.text(`#t-template option[value="received_reviewing"]`); !strings.HasPrefix(got, "Prise en charge — Nous avons reçu la demande") {
		t.Errorf("the template's option %q: not its move and French text", got)
	}
	br.do("sending it",
		choose("#t-to", "in_progress"),
		choose("#t-template", "received_reviewing"),
		chromedp.Poll[chromedp.Void](`document.getElementById("t-to").value === "acknowledged"`, chromedp.WithPollingTimeout(5*time.Second)),
		chromedp.Click(`#transition-form button[type="submit"]`),
		chromedp.Poll[chromedp.Void](`document.getElementById("action-result").textContent === "C'est fait."`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.WaitVisible(`#history li[data-kind="status"]`),
		chromedp.Poll[chromedp.Void](`document.querySelector('`+row(ack)+` [data-col="status"]')?.textContent === "Prise en charge"`,
			chromedp.WithPollingTimeout(10*time.Second)))
	br.shot("queue-acknowledged-fr")

	br.do("closing another as fixed",
		chromedp.Click(row(fix)+" button"),
		chromedp.Poll[chromedp.Void](`document.getElementById("detail-title").textContent.includes("`+fix+`")`, chromedp.WithPollingTimeout(5*time.Second)),
		choose("#t-template", ""),
		choose("#t-to", "closed"),
		choose("#t-reason", "fixed"),
		chromedp.SendKeys("#t-note-fr", "Le nid-de-poule est bouché."),
		chromedp.SendKeys("#t-note-en", "The pothole is filled."),
		chromedp.SendKeys("#t-internal", "asphalte froid, 2 sacs"),
		chromedp.Click(`#transition-form button[type="submit"]`),
		chromedp.Poll[chromedp.Void](`document.getElementById("action-result").textContent === "C'est fait."`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Poll[chromedp.Void](`!document.querySelector('`+row(fix)+`')`, chromedp.WithPollingTimeout(10*time.Second)))
	// The history is drawn again once the answer is in: wait for it.
	if _, err := chromedp.Run(br.ctx, chromedp.Poll[chromedp.Void](`document.getElementById("history").textContent.includes("Fermée")`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("the closed request's history %q: %v", br.text("#history"), err)
	}

	// The status pages, in French then in English.
	notes := func() []string {
		return eval[[]string](br, `[...document.querySelectorAll("#history li .note")].map(n => n.textContent)`)
	}
	br.do("the acknowledged request's status page",
		chromedp.Navigate(base+"/r/"+ack+"?locale=fr"),
		chromedp.WaitVisible(`#history li[data-status="acknowledged"]`))
	if got := br.text("#request-status"); got != "Prise en charge" {
		t.Errorf("status %q", got)
	}
	if n := notes(); len(n) != 1 || !strings.HasPrefix(n[0], "Nous avons reçu la demande "+ack+" (Nid-de-poule) et l'équipe Travaux publics l'examine.") {
		t.Errorf("French notes %q", n)
	}
	br.do("the closed request's status page",
		chromedp.Navigate(base+"/r/"+fix+"?locale=fr"),
		chromedp.WaitVisible(`#history li[data-status="closed"]`))
	br.shot("status-fixed-fr")
	if got, reason := br.text("#request-status"), br.text("#request-reason"); got != "Fermée" || reason != "Réglé" {
		t.Errorf("status %q, reason %q", got, reason)
	}
	if n := notes(); len(n) != 1 || n[0] != "Le nid-de-poule est bouché." {
		t.Errorf("French notes %q", n)
	}
	if strings.Contains(eval[string](br, `document.body.innerText`), "asphalte froid") {
		t.Error("the internal note is on the status page")
	}
	br.do("in English",
		chromedp.Click(`[data-lang-button="en"]`),
		chromedp.Poll[chromedp.Void](`document.getElementById("request-status")?.textContent === "Closed"`, chromedp.WithPollingTimeout(10*time.Second)))
	if n := notes(); len(n) != 1 || n[0] != "The pothole is filled." {
		t.Errorf("English notes %q", n)
	}
	br.do("the acknowledged one in English",
		chromedp.Navigate(base+"/r/"+ack+"?locale=en"),
		chromedp.WaitVisible(`#history li[data-status="acknowledged"]`))
	if n := notes(); len(n) != 1 || !strings.HasPrefix(n[0], "We received request "+ack) {
		t.Errorf("English notes %q", n)
	}
}
