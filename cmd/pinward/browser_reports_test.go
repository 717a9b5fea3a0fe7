package main

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserReports drives the council reports page in a real headless
// Chromium, in French: a clerk signs in with a staff key, groups this
// month's requests by category and reads the same figures as the reports
// API, with French headings and names, then by ward.
func TestBrowserReports(t *testing.T) {
	chromium := chromiumPath(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	base, staffKey := startServeWithStaffKey(t)

	places := issuePlaces(t, 3, 300)
	for i, form := range []url.Values{
		{"service_code": {"pothole"}, "attribute[size]": {"large"}},
		{"service_code": {"pothole"}, "attribute[size]": {"small"}},
		{"service_code": {"graffiti"}, "attribute[offensive]": {"no"}},
	} {
		form.Set("api_key", staffKey)
		form.Set("long", strconv.FormatFloat(places[i][0], 'f', -1, 64))
		form.Set("lat", strconv.FormatFloat(places[i][1], 'f', -1, 64))
		res, err := http.PostForm(base+"/open311/v2/requests.json", form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("POST %v: %d", form, res.StatusCode)
		}
	}

	br := &browser{t: t, ctx: newHeadless(t, chromium)}
	br.do("reports page",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(base+"/staff/reports?locale=fr"),
		chromedp.WaitVisible("#staff-key"),
		chromedp.SendKeys("#staff-key", staffKey),
		chromedp.Click(`#login button[type="submit"]`),
		chromedp.WaitVisible(`#report tfoot tr`),
		chromedp.SetValue("#r-by", "category"),
		chromedp.Click(`#query button[type="submit"]`),
		chromedp.WaitVisible(`#report tbody tr[data-key="pothole"]`))
	br.shot("reports-by-category-fr")

	if got := br.text(`#report tbody tr[data-key="pothole"] [data-col="received"]`); got != "2" {
		t.Errorf("potholes received: %q, want 2", got)
	}
	if got := br.text(`#report tbody tr[data-key="graffiti"] [data-col="open"]`); got != "1" {
		t.Errorf("graffiti open: %q, want 1", got)
	}
	if got := br.text(`#report tfoot [data-col="received"]`); got != "3" {
		t.Errorf("total received: %q, want 3", got)
	}
	head := br.text(`#report thead`)
	if !strings.Contains(head, "Reçues") || !strings.Contains(head, "Respect des délais") {
		t.Errorf("headings not in French: %q", head)
	}
	// Nothing closed yet: no compliance and no hours, shown as a dash.
	if got := br.text(`#report tfoot [data-col="sla_compliance"]`); got != "—" {
		t.Errorf("compliance with nothing closed: %q, want —", got)
	}
	// The page asked the staff reports API.
	urls := eval[[]string](br, `performance.getEntriesByType("resource").map(e => e.name)`)
	var asked bool
	for _, u := range urls {
		asked = asked || strings.Contains(u, "/api/v1/reports/category.json?start_date=")
	}
	if !asked {
		t.Errorf("the page fetched %v: want /api/v1/reports/category.json?start_date=…", urls)
	}

	br.do("by ward",
		chromedp.SetValue("#r-by", "ward"),
		chromedp.Click(`#query button[type="submit"]`),
		chromedp.Poll[chromedp.Void](`document.getElementById("report-caption").textContent.includes("par quartier")`,
			chromedp.WithPollingTimeout(15*time.Second)))
	rows := eval[int](br, `document.querySelectorAll("#report tbody tr").length`)
	if rows < 1 || rows > 3 {
		t.Errorf("by ward: %d rows for 3 requests", rows)
	}
	br.shot("reports-by-ward-fr")

	// Crossed: by category then by channel (Open311 with a key is "api"),
	// the new columns headed in French.
	br.do("by category and channel",
		chromedp.SetValue("#r-by", "category"),
		chromedp.SetValue("#r-cross", "channel"),
		chromedp.Click(`#query button[type="submit"]`),
		chromedp.WaitVisible(`#report tbody tr[data-key="pothole"][data-key2="api"]`))
	br.shot("reports-by-category-channel-fr")
	if got := br.text(`#report tbody tr[data-key="pothole"][data-key2="api"] [data-col="received"]`); got != "2" {
		t.Errorf("potholes by the API received: %q, want 2", got)
	}
	head = br.text(`#report thead`)
	for _, h := range []string{"Catégorie", "Canal", "Heures ouvrables médianes avant fermeture", "Heures médianes avant prise en charge",
		"Réouvertures", "Satisfaction moyenne"} {
		if !strings.Contains(head, h) {
			t.Errorf("crossed headings lack %q: %q", h, head)
		}
	}
	if got := br.text(`#report tfoot [data-col="satisfied_share"]`); got != "—" {
		t.Errorf("satisfaction with no answer: %q, want —", got)
	}
	urls = eval[[]string](br, `performance.getEntriesByType("resource").map(e => e.name)`)
	asked = false
	for _, u := range urls {
		asked = asked || strings.Contains(u, "/api/v1/reports/category,channel.json?start_date=")
	}
	if !asked {
		t.Errorf("the page fetched %v: want /api/v1/reports/category,channel.json?start_date=…", urls)
	}
}
