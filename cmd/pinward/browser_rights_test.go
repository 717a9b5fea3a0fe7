package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pinward/pinward/internal/mailtest"
)

// TestBrowserRightsFrench: a resident on /rights in French asks for their
// information with their request number and address; the link arrives in
// a real mailpit; opened in Chromium it leaves the address bar, shows
// what is held with French labels, files a deletion request, and a second
// opening of the same link is refused in French.
func TestBrowserRightsFrench(t *testing.T) {
	chromium := chromiumPath(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	smtp := mailtest.Start(t, mailtest.Options{})
	vars := map[string]string{"PINWARD_DATA_DIR": filepath.Join(t.TempDir(), "var"), "PINWARD_ADDR": "127.0.0.1:0",
		"PINWARD_LOG_LEVEL": "warn", "PINWARD_SMTP_URL": smtp.SMTPURL("", "tls=none"), "PINWARD_MAIL_FROM": "311@city.example",
		"PINWARD_PUBLIC_URL": "https://311.city.example"}
	env, out, errb := testEnv(vars)
	if code := Main(t.Context(), []string{"keys", "create", "--role", "integrator"}, env); code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, errb)
	}
	key := strings.TrimSpace(out.String())
	base := startServeForBrowser(t, vars)
	place := issuePlaces(t, 1, 300)[0]
	res, err := http.PostForm(base+"/open311/v2/requests.json", url.Values{"api_key": {key}, "service_code": {"pothole"},
		"lat": {strconv.FormatFloat(place[1], 'f', -1, 64)}, "long": {strconv.FormatFloat(place[0], 'f', -1, 64)},
		"attribute[size]": {"large"}, "description": {"Trou profond"}, "locale": {"fr"},
		"email": {"camille@ok.test"}, "first_name": {"Camille"}})
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
	wctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := smtp.WaitForCount(wctx, 1); err != nil { // the receipt
		t.Fatal(err)
	}

	br := &browser{t: t, ctx: newHeadless(t, chromium)}
	// From the request's status page, in French: its link to the rights
	// page carries the request number and the language.
	br.do("follow the status page's link to the rights page",
		chromedp.Navigate(base+"/r/"+id+"?locale=fr"),
		chromedp.WaitVisible("#rights-link"),
		chromedp.Poll[chromedp.Void](`document.querySelector("#rights-link").innerText.startsWith("Vos renseignements personnels")`,
			chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Click("#rights-link"),
		chromedp.WaitVisible("#ask-form"))
	prefilled, err := chromedp.Run(br.ctx, chromedp.Evaluate[string](`document.querySelector("#ask-token").value`))
	if err != nil || prefilled != id {
		t.Fatalf("the rights page opened from /r/%s has request %q filled in (%v)", id, prefilled, err)
	}
	br.do("ask for the link in French",
		chromedp.Poll[chromedp.Void](`document.documentElement.lang === "fr"`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.SetValue("#ask-email", "Camille@ok.test"),
		chromedp.Click("#ask-form button"),
		chromedp.Poll[chromedp.Void](`document.querySelector("#message").innerText.includes("Si cette adresse")`,
			chromedp.WithPollingTimeout(10*time.Second)))
	if _, err := smtp.WaitForCount(wctx, 2); err != nil {
		t.Fatal(err)
	}
	msgs, err := smtp.Messages(wctx)
	if err != nil {
		t.Fatal(err)
	}
	var token string
	for _, m := range msgs {
		if mm := regexp.MustCompile(`https://311\.city\.example/rights\?locale=fr#([A-Za-z0-9_-]+)`).FindStringSubmatch(m.Text); mm != nil {
			token = mm[1]
		}
	}
	if token == "" {
		t.Fatalf("no access link in %d messages", len(msgs))
	}
	br.do("open the link",
		chromedp.Navigate(base+"/rights?locale=fr#"+token),
		chromedp.WaitVisible("#open-button"))
	if h := eval[string](br, `location.hash`); h != "" {
		t.Errorf("the token stays in the address bar: %q", h)
	}
	br.do("show my information",
		chromedp.Click("#open-button"),
		chromedp.WaitVisible("#summary li"))
	br.shot("rights-fr")
	if got := br.text("#summary"); !strings.Contains(got, "Vos coordonnées, par demande : 1\n") {
		t.Errorf("summary %q, want the French labels and one reporter row", got)
	}
	br.do("ask for the deletion",
		chromedp.Click(`#file-form input[value=deletion]`),
		chromedp.SetValue("#file-text", "Merci de supprimer mes coordonnées"),
		chromedp.Click("#file-form button"),
		chromedp.Poll[chromedp.Void](`document.querySelector("#message").innerText.includes("transmise")`,
			chromedp.WithPollingTimeout(10*time.Second)))
	br.do("open the link again",
		chromedp.Navigate(base+"/rights?locale=fr#"+token),
		chromedp.WaitVisible("#open-button"),
		chromedp.Click("#open-button"),
		chromedp.Poll[chromedp.Void](`document.querySelector("#message .alert") !== null`, chromedp.WithPollingTimeout(10*time.Second)))
	if got := br.text("#message"); !strings.Contains(got, "déjà servi") {
		t.Errorf("a used link says %q, want the French 410", got)
	}
}
