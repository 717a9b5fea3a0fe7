package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/internal/mailtest"
)

// TestBrowserStatusHistoryFrench: a clerk works a request through the
// staff API (acknowledge with a template, a question in French only, a
// note in English only, then close with a template), and the status page
// /r/{id} in French shows each public note in French, or as written when
// it was written in English only, the detailed status and the reason.
func TestBrowserStatusHistoryFrench(t *testing.T) {
	chromium := chromiumPath(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	base, staffKey := startServeWithStaffKey(t)
	place := issuePlaces(t, 1, 300)[0]
	res, err := http.PostForm(base+"/open311/v2/requests.json", url.Values{"api_key": {staffKey}, "service_code": {"pothole"},
		"lat": {strconv.FormatFloat(place[1], 'f', -1, 64)}, "long": {strconv.FormatFloat(place[0], 'f', -1, 64)},
		"attribute[size]": {"large"}, "description": {"Trou profond"}, "locale": {"fr"}, "channel": {"web"}})
	if err != nil {
		t.Fatal(err)
	}
	var created []struct {
		ID string `json:"service_request_id"`
	}
	json.NewDecoder(res.Body).Decode(&created)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || len(created) != 1 {
		t.Fatalf("POST: %d %+v", res.StatusCode, created)
	}
	id := created[0].ID
	act := func(body string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/api/v1/requests/"+id+"/transition", bytes.NewReader([]byte(body)))
		req.Header.Set("X-Api-Key", staffKey)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", body, res.StatusCode)
		}
	}
	act(`{"template":"received_reviewing"}`)
	act(`{"to":"waiting_on_resident","public_note_fr":"De quel côté de la rue se trouve le trou?"}`)
	act(`{"to":"in_progress","public_note_en":"Crew booked for Thursday."}`)
	act(`{"template":"roads_fixed","internal_note":"asphalte froid"}`)

	br := &browser{t: t, ctx: newHeadless(t, chromium)}
	br.do("status page in French",
		chromedp.Navigate(base+"/r/"+id+"?locale=fr"),
		chromedp.WaitVisible(`#history li[data-status="closed"]`))
	br.shot("status-history-fr")
	if got := br.text("#request-status"); got != "Fermée" {
		t.Errorf("status %q, want Fermée", got)
	}
	if got := br.text("#request-reason"); got != "Réglé" {
		t.Errorf("reason %q, want Réglé", got)
	}
	notes := eval[[]string](br, `[...document.querySelectorAll("#history li .note")].map(n => n.textContent)`)
	want := []string{
		"Nous avons reçu la demande " + id + " (Nid-de-poule) et l'équipe Travaux publics l'examine.",
		"De quel côté de la rue se trouve le trou?",
		"Crew booked for Thursday.", // written in English only: shown as written
		"L'équipe Travaux publics a réglé le problème signalé dans la demande " + id + ". Merci de nous l'avoir signalé.",
	}
	if len(notes) != len(want) {
		t.Fatalf("history notes %q, want %d", notes, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(notes[i], w) {
			t.Errorf("note %d = %q, want it to start with %q", i, notes[i], w)
		}
	}
	if html := eval[string](br, `document.body.innerText`); strings.Contains(html, "asphalte froid") || strings.Contains(html, "key:") {
		t.Errorf("the status page shows staff matters: %s", html)
	}
	// Switching to English shows the English notes, and the French-only
	// question as written.
	br.do("status page in English",
		chromedp.Click(`[data-lang-button="en"]`),
		chromedp.Poll[chromedp.Void](`document.getElementById("request-status")?.textContent === "Closed"`, chromedp.WithPollingTimeout(10*time.Second)))
	notes = eval[[]string](br, `[...document.querySelectorAll("#history li .note")].map(n => n.textContent)`)
	if len(notes) != 4 || !strings.HasPrefix(notes[0], "We received request "+id) || notes[1] != "De quel côté de la rue se trouve le trou?" {
		t.Errorf("English notes %q", notes)
	}
}

// statusCatalog is the sample catalog with public works' contacts (who
// hear of a reopen) and the default 14-day reopen window written out.
func statusCatalog(t *testing.T) string {
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
	doc["reopen_days"] = 14
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

var statusLinkRE = regexp.MustCompile(`https://311\.city\.example(/r/[^\s"<>]+)`)

// TestBrowserStatusSatisfactionReopenFrench follows the closing mail of a
// French resident, as delivered to a real mailpit, into the status page in
// a headless Chromium: the history with the French notes, "Êtes-vous
// satisfait ?" answered once (the same link again shows the answer), then
// the mail's reopen link: the request is reopened, its resident and the
// department's staff (its contacts: staff keys have no address) get a
// message.
func TestBrowserStatusSatisfactionReopenFrench(t *testing.T) {
	chromium := chromiumPath(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	smtp := mailtest.Start(t, mailtest.Options{})
	vars := map[string]string{"PINWARD_DATA_DIR": filepath.Join(t.TempDir(), "var"), "PINWARD_ADDR": "127.0.0.1:0",
		"PINWARD_LOG_LEVEL": "warn", "PINWARD_CATEGORIES": statusCatalog(t),
		"PINWARD_SMTP_URL": smtp.SMTPURL("", "tls=none"), "PINWARD_MAIL_FROM": "311@city.example",
		"PINWARD_PUBLIC_URL": "https://311.city.example"}
	env, out, errb := testEnv(vars)
	if code := Main(t.Context(), []string{"keys", "create", "--role", "staff", "--label", "browser test"}, env); code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, errb)
	}
	staffKey := strings.TrimSpace(out.String())
	base := startServeForBrowser(t, vars)

	place := issuePlaces(t, 1, 300)[0]
	res, err := http.PostForm(base+"/open311/v2/requests.json", url.Values{"api_key": {staffKey}, "service_code": {"pothole"},
		"lat": {strconv.FormatFloat(place[1], 'f', -1, 64)}, "long": {strconv.FormatFloat(place[0], 'f', -1, 64)},
		"attribute[size]": {"large"}, "description": {"Trou profond"}, "locale": {"fr"}, "email": {"residente@example.ca"}})
	if err != nil {
		t.Fatal(err)
	}
	var created []struct {
		ID string `json:"service_request_id"`
	}
	json.NewDecoder(res.Body).Decode(&created)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || len(created) != 1 {
		t.Fatalf("POST: %d %+v", res.StatusCode, created)
	}
	id := created[0].ID
	for _, body := range []string{`{"template":"received_reviewing"}`, `{"to":"in_progress","public_note_en":"Crew booked for Thursday."}`,
		`{"template":"roads_fixed"}`} {
		req, _ := http.NewRequest("POST", base+"/api/v1/requests/"+id+"/transition", strings.NewReader(body))
		req.Header.Set("X-Api-Key", staffKey)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", body, res.StatusCode)
		}
	}
	// The receipt, two updates and the closing message.
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if _, err := smtp.WaitForCount(ctx, 4); err != nil {
		t.Fatal(err)
	}
	msgs, err := smtp.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var satLink, reopenLink string
	for _, m := range msgs {
		for _, l := range statusLinkRE.FindAllStringSubmatch(m.Text, -1) {
			switch {
			case strings.Contains(l[1], "&satisfaction="):
				satLink = l[1]
			case strings.Contains(l[1], "&reopen="):
				reopenLink = l[1]
			}
		}
	}
	if satLink == "" || reopenLink == "" || !strings.Contains(satLink, "locale=fr") {
		t.Fatalf("the closing mail has no satisfaction or reopen link (%q, %q)", satLink, reopenLink)
	}

	br := &browser{t: t, ctx: newHeadless(t, chromium)}
	br.do("the closing mail's satisfaction link",
		chromedp.Navigate(base+satLink),
		chromedp.WaitVisible(`#satisfaction-form`))
	if got := br.text("#request-status"); got != "Fermée" {
		t.Errorf("status %q, want Fermée", got)
	}
	notes := eval[[]string](br, `[...document.querySelectorAll("#history li .note")].map(n => n.textContent)`)
	if len(notes) != 3 || !strings.HasPrefix(notes[0], "Nous avons reçu la demande "+id) || notes[1] != "Crew booked for Thursday." ||
		!strings.HasPrefix(notes[2], "L'équipe Travaux publics a réglé le problème") {
		t.Errorf("history notes %q", notes)
	}
	if q := eval[string](br, `location.search`); strings.Contains(q, "satisfaction=") || !strings.Contains(q, "locale=fr") {
		t.Errorf("the token stays in the address bar: %q", q)
	}
	if got := br.text("#satisfaction-title"); got != "Êtes-vous satisfait ?" {
		t.Errorf("satisfaction title %q", got)
	}
	axe, axeErr := os.ReadFile(filepath.Join("..", "..", "web", "node_modules", "axe-core", "axe.min.js"))
	if axeErr == nil {
		axeClean(br, string(axe), "the satisfaction form")
	} else {
		t.Logf("axe-core not installed (cd web && npm ci): the forms are not checked: %v", axeErr)
	}
	br.do("answering 4 of 5",
		chromedp.Click(`#satisfaction-form input[name="score"][value="4"]`),
		chromedp.SendKeys("#satisfaction-comment", "Rapide, merci"),
		chromedp.Click(`#satisfaction-form button[type="submit"]`),
		chromedp.WaitVisible("#satisfaction-done"))
	br.shot("status-satisfaction-fr")
	if got := br.text("#satisfaction-done"); got != "Merci de votre réponse : 4/5" {
		t.Errorf("after answering: %q", got)
	}
	br.do("the same link again",
		chromedp.Navigate(base+satLink),
		chromedp.WaitVisible("#satisfaction-done"))
	if n := eval[int](br, `document.querySelectorAll("#satisfaction-form").length`); n != 0 {
		t.Error("the form is offered again after an answer")
	}

	br.do("the closing mail's reopen link",
		chromedp.Navigate(base+reopenLink),
		chromedp.WaitVisible("#reopen-form"))
	if got := br.text("#reopen-form"); !strings.Contains(got, "Vous pouvez rouvrir cette demande jusqu'au") {
		t.Errorf("reopen form %q", got)
	}
	if axeErr == nil {
		axeClean(br, string(axe), "the reopen form")
	}
	br.do("reopening",
		chromedp.SendKeys("#reopen-comment", "Le trou s'est rouvert"),
		chromedp.Click(`#reopen-form button[type="submit"]`),
		chromedp.WaitVisible("#reopen-done"),
		chromedp.WaitVisible(`#history li[data-status="reopened"]`))
	br.shot("status-reopened-fr")
	if got := br.text("#request-status"); got != "Rouverte" {
		t.Errorf("status after reopen %q, want Rouverte", got)
	}
	if n := eval[int](br, `document.querySelectorAll("#reopen-form, #satisfaction-form").length`); n != 0 {
		t.Error("a reopened request still offers the forms")
	}
	if strings.Contains(eval[string](br, `document.body.innerText`), "Le trou s'est rouvert") {
		t.Error("the resident's comment (an internal note) is on the public page")
	}

	// The resident hears of the reopen, and so does public works.
	if _, err := smtp.WaitForCount(ctx, 6); err != nil {
		t.Fatal(err)
	}
	msgs, err = smtp.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var staff, resident bool
	for _, m := range msgs {
		switch {
		case len(m.To) == 1 && m.To[0].Address == "voirie@example.ca":
			staff = strings.HasPrefix(m.Subject, "[Rouverte] Demande "+id) && strings.Contains(m.Text, "/staff/queue?request="+id) &&
				!strings.Contains(m.Text, "residente@") && !strings.Contains(m.Text, "Le trou s'est rouvert")
		case len(m.To) == 1 && m.To[0].Address == "residente@example.ca" && strings.Contains(m.Subject, "rouverte"):
			resident = true
		}
	}
	if !staff || !resident {
		t.Errorf("after the reopen: staff told %v, resident told %v", staff, resident)
	}
}
