package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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
