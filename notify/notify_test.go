package notify_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/notify"
)

var montreal = mustLoc("America/Toronto")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func cfg() notify.Config {
	return notify.Config{From: "311@city.example", ReplyTo: "info@city.example",
		NameEn: "City of Example", NameFr: "Ville d'Exemple"}
}

func data() notify.Data {
	due := time.Date(2026, 7, 1, 14, 30, 0, 0, montreal)
	return notify.Data{
		RequestID: "4821", Service: i18n.T("Streetlight out", "Lampadaire éteint"),
		Status: "in_progress", Note: i18n.T("Crew booked for Tuesday.", "Équipe prévue mardi."),
		Reason: notify.Referred, ReferredTo: "Hydro-Québec",
		ExpectedDate: due, ReopenUntil: due.AddDate(0, 0, 14),
		TrackingURL:     "https://311.city.example/r/4821",
		SatisfactionURL: "https://311.city.example/r/4821/satisfaction?t=S",
		ReopenURL:       "https://311.city.example/r/4821/reopen?t=R",
		UnsubscribeURL:  "https://311.city.example/unsubscribe/U",
		Level:           2, DueAt: due, Overdue: true, Department: i18n.T("Roads", "Voirie"), Ward: "Ville-Marie",
		StaffURL:  "https://311.city.example/staff/queue?request=4821",
		AccessURL: "https://311.city.example/rights?locale=en#A", AccessUntil: due,
	}
}

// Every message renders in both languages, with its links, in the right
// language, with nothing left unfilled.
func TestRenderEveryMessage(t *testing.T) {
	tm, err := notify.New(cfg(), montreal)
	if err != nil {
		t.Fatal(err)
	}
	// Words that only the English or only the French message contains.
	marker := map[i18n.Lang]string{i18n.En: "request", i18n.Fr: "demande"}
	links := map[notify.Kind][]string{
		notify.Received:  {"/r/4821", "/unsubscribe/U"},
		notify.Updated:   {"/r/4821", "/unsubscribe/U"},
		notify.Closed:    {"/satisfaction?t=S", "/reopen?t=R", "/unsubscribe/U"},
		notify.Reopened:  {"/r/4821", "/unsubscribe/U"},
		notify.Escalated: {"/staff/queue?request=4821"},
		notify.Access:    {"/rights?locale=en#A"},
	}
	for _, k := range notify.Kinds() {
		for _, lang := range []i18n.Lang{i18n.En, i18n.Fr} {
			r, err := tm.Render(k, lang, data())
			if err != nil {
				t.Fatalf("%s/%s: %v", k, lang, err)
			}
			name := string(k) + "/" + string(lang)
			if r.Lang != lang || r.From != "311@city.example" || r.ReplyTo != "info@city.example" ||
				r.FromName != map[i18n.Lang]string{i18n.En: "City of Example", i18n.Fr: "Ville d'Exemple"}[lang] {
				t.Errorf("%s: envelope %+v", name, r)
			}
			for _, part := range []struct{ what, s string }{{"subject", r.Subject}, {"text", r.Text}, {"html", r.HTML}} {
				if part.s == "" || strings.Contains(part.s, "<no value>") || strings.Contains(part.s, "{{") {
					t.Errorf("%s %s is empty or unfilled: %q", name, part.what, part.s)
				}
				if !strings.Contains(strings.ToLower(part.s), marker[lang]) {
					t.Errorf("%s %s is not in %s: %q", name, part.what, lang, part.s)
				}
				if strings.Contains(strings.ToLower(urls.ReplaceAllString(part.s, "")), marker[other(lang)]) && part.what != "html" {
					t.Errorf("%s %s mixes in %s: %q", name, part.what, other(lang), part.s)
				}
			}
			if strings.ContainsAny(r.Subject, "\r\n") {
				t.Errorf("%s subject has a line break: %q", name, r.Subject)
			}
			for _, l := range links[k] {
				if !strings.Contains(r.Text, l) || !strings.Contains(r.HTML, l) {
					t.Errorf("%s lacks link %s in text or HTML", name, l)
				}
			}
			if !strings.Contains(r.HTML, `<html lang="`+string(lang)+`">`) {
				t.Errorf("%s HTML does not declare its language", name)
			}
			if (k == notify.Escalated || k == notify.Access) && strings.Contains(r.Text, "unsubscribe") {
				t.Errorf("%s: staff messages carry no unsubscribe footer", name)
			}
		}
	}
}

var urls = regexp.MustCompile(`https://\S+`)

func other(l i18n.Lang) i18n.Lang {
	if l == i18n.Fr {
		return i18n.En
	}
	return i18n.Fr
}

func TestRenderFrenchWords(t *testing.T) {
	tm, err := notify.New(cfg(), montreal)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tm.Render(notify.Closed, i18n.Fr, data())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"est fermée : transmise à un autre organisme (Hydro-Québec)",
		"Équipe prévue mardi.",
		"d'ici le 15 juillet 2026",
		"Êtes-vous satisfait ?",
	} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("French closed text lacks %q:\n%s", want, r.Text)
		}
	}
	r, err = tm.Render(notify.Escalated, i18n.Fr, data())
	if err != nil {
		t.Fatal(err)
	}
	if want := "était due le 1er juillet 2026, 14 h 30 et est en cours"; !strings.Contains(r.Text, want) {
		t.Errorf("French escalation lacks %q:\n%s", want, r.Text)
	}
	if want := "[Escalade niveau 2] Demande 4821 (Lampadaire éteint) : en retard"; r.Subject != want {
		t.Errorf("French escalation subject = %q, want %q", r.Subject, want)
	}
	r, err = tm.Render(notify.Escalated, i18n.En, data())
	if err != nil {
		t.Fatal(err)
	}
	if want := "was due July 1, 2026, 2:30 p.m. and is in progress"; !strings.Contains(r.Text, want) {
		t.Errorf("English escalation lacks %q:\n%s", want, r.Text)
	}
}

// A note is the staff's text: escaped in HTML, shown as written in text.
func TestRenderEscapesNotes(t *testing.T) {
	tm, err := notify.New(cfg(), montreal)
	if err != nil {
		t.Fatal(err)
	}
	d := data()
	d.Note = i18n.T(`<script>alert("x")</script> & more`, `<b>gras</b>`)
	r, err := tm.Render(notify.Updated, i18n.En, d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.HTML, "<script>") || !strings.Contains(r.HTML, "&lt;script&gt;") {
		t.Errorf("HTML does not escape the note: %s", r.HTML)
	}
	if !strings.Contains(r.Text, `<script>alert("x")</script> & more`) {
		t.Errorf("text changed the note: %s", r.Text)
	}
}

func TestRenderRefusesMissingLinks(t *testing.T) {
	tm, err := notify.New(notify.Config{}, nil) // no mail section: defaults
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		kind  notify.Kind
		edit  func(*notify.Data)
		field string
	}{
		{notify.Received, func(d *notify.Data) { d.UnsubscribeURL = "" }, "unsubscribe_url"},
		{notify.Received, func(d *notify.Data) { d.TrackingURL = "/r/4821" }, "tracking_url"},
		{notify.Closed, func(d *notify.Data) { d.SatisfactionURL = "javascript:x" }, "satisfaction_url"},
		{notify.Closed, func(d *notify.Data) { d.Reason = "bored" }, "reason"},
		{notify.Escalated, func(d *notify.Data) { d.Level = 0 }, "due_at"},
		{notify.Updated, func(d *notify.Data) { d.RequestID = "" }, "request_id"},
		{"newsletter", func(*notify.Data) {}, "kind"},
	}
	for _, c := range cases {
		d := data()
		c.edit(&d)
		_, err := tm.Render(c.kind, i18n.En, d)
		var ie *i18n.Error
		if !errors.As(err, &ie) || ie.Field != c.field || ie.Message.Fr == "" {
			t.Errorf("%s with bad %s: %v, want a bilingual error on %s", c.kind, c.field, err, c.field)
		}
	}
}

func TestOverride(t *testing.T) {
	c := cfg()
	c.Templates = map[notify.Kind]notify.Template{notify.Received: {
		Subject: i18n.T("No {{.RequestID}}", "No {{.RequestID}} reçue"),
		Text:    i18n.T("Got {{.RequestID}}: {{.TrackingURL}}\n", "Reçu {{.RequestID}} : {{.TrackingURL}}\n"),
	}}
	tm, err := notify.New(c, montreal)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tm.Render(notify.Received, i18n.Fr, data())
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "No 4821 reçue" || !strings.HasPrefix(r.Text, "Reçu 4821 : https://311.city.example/r/4821\n") || r.HTML != "" {
		t.Errorf("override = %+v", r)
	}
	if !strings.Contains(r.Text, "https://311.city.example/unsubscribe/U") {
		t.Error("an override dropped the unsubscribe footer")
	}
}

func TestParseConfig(t *testing.T) {
	good := `{"from":"311@city.example","name_en":"City","name_fr":"Ville",
	  "templates":{"closed":{"subject":{"en":"Closed {{.RequestID}}","fr":"Fermée {{.RequestID}}"},
	  "text":{"en":"{{reason .Reason}} {{.SatisfactionURL}}","fr":"{{reason .Reason}} {{.SatisfactionURL}}"},
	  "html":{"en":"<p>{{.Note}}</p>","fr":"<p>{{.Note}}</p>"}}}}`
	c, err := notify.ParseConfig(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.NameFr != "Ville" || c.Templates[notify.Closed].Subject.Fr != "Fermée {{.RequestID}}" {
		t.Errorf("parsed %+v", c)
	}

	bad := []struct{ json, field string }{
		{`{"name_en":"City","name_fr":"Ville","colour":"red"}`, "mail"},
		{`{"name_en":"City"}`, "mail.name_en/name_fr"},
		{`{"name_en":"City","name_fr":"Ville","from":"City <311@city.example>"}`, "mail.from"},
		{`{"name_en":"City","name_fr":"Ville","reply_to":"nobody"}`, "mail.reply_to"},
		{`{"name_en":"City","name_fr":"Ville","templates":{"newsletter":{}}}`, "mail.templates.newsletter"},
		{`{"name_en":"City","name_fr":"Ville","templates":{"received":{"subject":{"en":"x"},"text":{"en":"x","fr":"x"}}}}`,
			"mail.templates.received.subject"},
		{`{"name_en":"City","name_fr":"Ville","templates":{"received":{"subject":{"en":"x","fr":"x"},"text":{"en":"{{.Nope}}","fr":"x"}}}}`,
			"mail.templates.received.text"},
		{`{"name_en":"City","name_fr":"Ville","templates":{"received":{"subject":{"en":"{{if}}","fr":"x"},"text":{"en":"x","fr":"x"}}}}`,
			"mail.templates.received.subject"},
		{`{"name_en":"City","name_fr":"Ville","templates":{"received":{"subject":{"en":"x","fr":"x"},"text":{"en":"x","fr":"x"},"html":{"en":"<p>x</p>"}}}}`,
			"mail.templates.received.html"},
	}
	for _, b := range bad {
		_, err := notify.ParseConfig(strings.NewReader(b.json))
		var ie *i18n.Error
		if !errors.As(err, &ie) || ie.Field != b.field || ie.Kind != i18n.Invalid || ie.Message.En == "" || ie.Message.Fr == "" {
			t.Errorf("ParseConfig(%s) = %v, want a bilingual error on %s", b.json, err, b.field)
		}
	}
}

func TestCloseReasons(t *testing.T) {
	want := []string{"fixed", "duplicate", "referred", "not_found", "no_action_needed", "no_response"}
	got := notify.CloseReasons()
	if len(got) != len(want) {
		t.Fatalf("CloseReasons = %v", got)
	}
	for i, r := range got {
		txt, ok := r.Text()
		if string(r) != want[i] || !ok || txt.En == "" || txt.Fr == "" || txt.En == txt.Fr {
			t.Errorf("reason %q: %+v", r, txt)
		}
	}
}

func TestFormatDate(t *testing.T) {
	cases := []struct {
		t    time.Time
		lang i18n.Lang
		want string
	}{
		{time.Date(2026, 6, 23, 0, 0, 0, 0, time.UTC), i18n.Fr, "23 juin 2026"},
		{time.Date(2026, 6, 23, 0, 0, 0, 0, time.UTC), i18n.En, "June 23, 2026"},
		{time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), i18n.Fr, "1er juillet 2026"},
		{time.Date(2027, 8, 2, 0, 0, 0, 0, time.UTC), i18n.Fr, "2 août 2027"},
		{time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC), i18n.Fr, "25 décembre 2026"},
	}
	for _, c := range cases {
		if got := notify.FormatDate(c.t, c.lang); got != c.want {
			t.Errorf("FormatDate(%s, %s) = %q, want %q", c.t, c.lang, got, c.want)
		}
	}
	dt := []struct {
		t    time.Time
		lang i18n.Lang
		want string
	}{
		{time.Date(2026, 6, 23, 15, 0, 0, 0, time.UTC), i18n.Fr, "23 juin 2026, 15 h"},
		{time.Date(2026, 6, 23, 9, 5, 0, 0, time.UTC), i18n.Fr, "23 juin 2026, 9 h 05"},
		{time.Date(2026, 6, 23, 0, 30, 0, 0, time.UTC), i18n.En, "June 23, 2026, 12:30 a.m."},
		{time.Date(2026, 6, 23, 12, 0, 0, 0, time.UTC), i18n.En, "June 23, 2026, 12:00 p.m."},
	}
	for _, c := range dt {
		if got := notify.FormatDateTime(c.t, c.lang); got != c.want {
			t.Errorf("FormatDateTime(%s, %s) = %q, want %q", c.t, c.lang, got, c.want)
		}
	}
}

// Dates are shown in the municipality's time zone: 01:00 UTC on June 24
// is still June 23 in Montréal.
func TestDatesInMunicipalityZone(t *testing.T) {
	tm, err := notify.New(cfg(), montreal)
	if err != nil {
		t.Fatal(err)
	}
	d := data()
	d.ExpectedDate = time.Date(2026, 6, 24, 1, 0, 0, 0, time.UTC)
	r, err := tm.Render(notify.Received, i18n.Fr, d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "d'ici le 23 juin 2026") {
		t.Errorf("expected date not in the municipality's zone:\n%s", r.Text)
	}
}
