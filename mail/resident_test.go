package mail_test

import (
	"html"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/internal/mailtest"
	"github.com/pinward/pinward/linktoken"
	"github.com/pinward/pinward/mail"
	"github.com/pinward/pinward/notify"
)

// A closed request, told to a French-speaking reporter: the message is
// rendered from the shipped French templates, carries purpose-bound
// tokens, goes through SMTP, and arrives in French with its headers and
// links intact.
func TestFrenchResidentMessageArrives(t *testing.T) {
	s := mailtest.Start(t, mailtest.Options{})
	snd := sender(t, s, "", "tls=none")
	ctx := ctxT(t)

	keys, err := linktoken.New([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	mint := func(p linktoken.Purpose, subject string) string {
		tok, err := keys.Mint(p, subject)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	base := "https://311.city.example"
	unsub := base + "/unsubscribe/" + mint(linktoken.Unsubscribe, "sub-9")
	data := notify.Data{
		RequestID: "4821", Service: i18n.T("Streetlight out", "Lampadaire éteint"),
		Reason: notify.Fixed, Note: i18n.T("Bulb replaced.", "Ampoule remplacée."),
		ReopenUntil:     time.Date(2026, 7, 7, 12, 0, 0, 0, time.UTC),
		TrackingURL:     base + "/r/4821",
		SatisfactionURL: base + "/r/4821/satisfaction?t=" + mint(linktoken.Satisfaction, "req-4821"),
		ReopenURL:       base + "/r/4821/reopen?t=" + mint(linktoken.Reopen, "req-4821"),
		UnsubscribeURL:  unsub,
	}
	tm, err := notify.New(notify.Config{NameEn: "City of Example", NameFr: "Ville d'Exemple",
		ReplyTo: "info@city.example"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tm.Render(notify.Closed, i18n.Fr, data)
	if err != nil {
		t.Fatal(err)
	}
	m := mail.Message{
		ID: mail.MessageID("mail.77.example", from), To: "resident@ok.test",
		From: r.From, FromName: r.FromName, ReplyTo: r.ReplyTo, Lang: string(r.Lang),
		Subject: r.Subject, Text: r.Text, HTML: r.HTML, UnsubscribeURL: data.UnsubscribeURL,
	}
	if res := snd.Send(ctx, m); res.Outcome != mail.Delivered {
		t.Fatalf("Send = %+v", res)
	}

	msgs, err := s.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("%d messages arrived, want 1", len(msgs))
	}
	got := msgs[0]
	if got.Subject != "Ville d'Exemple : votre demande 4821 est fermée" || got.From.Name != "Ville d'Exemple" ||
		got.Header("Content-Language") != "fr" || addr(got.ReplyTo) != "info@city.example" ||
		got.MessageID != "mail.77.example@city.example" {
		t.Errorf("headers: subject %q, from %+v, language %q, reply-to %v, id %q",
			got.Subject, got.From, got.Header("Content-Language"), got.ReplyTo, got.MessageID)
	}
	if got.Header("List-Unsubscribe") != "<"+unsub+">" ||
		got.Header("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || got.ListUnsubscribe.Errors != "" {
		t.Errorf("unsubscribe headers: %q %q (mailpit: %q)", got.Header("List-Unsubscribe"),
			got.Header("List-Unsubscribe-Post"), got.ListUnsubscribe.Errors)
	}
	for _, want := range []string{"Votre demande 4821 (Lampadaire éteint) est fermée : problème réglé.",
		"Ampoule remplacée.", "Êtes-vous satisfait ?", "d'ici le 7 juillet 2026", "Ne plus recevoir ces messages"} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("French text lacks %q:\n%s", want, got.Text)
		}
	}
	if strings.Contains(strings.ToLower(got.Text), "request") {
		t.Errorf("French text has English in it:\n%s", got.Text)
	}

	// The links in the text and in the HTML are the same, well formed,
	// and each token verifies for its own purpose only.
	textLinks := regexp.MustCompile(`https://\S+`).FindAllString(got.Text, -1)
	var htmlLinks []string
	for _, m := range regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(got.HTML, -1) {
		htmlLinks = append(htmlLinks, html.UnescapeString(m[1]))
	}
	slices.Sort(textLinks)
	slices.Sort(htmlLinks)
	if !slices.Equal(textLinks, htmlLinks) || len(textLinks) != 3 {
		t.Fatalf("links differ: text %v, HTML %v", textLinks, htmlLinks)
	}
	purposes := map[string]linktoken.Purpose{"satisfaction": linktoken.Satisfaction, "reopen": linktoken.Reopen}
	for _, l := range textLinks {
		u, err := url.Parse(l)
		if err != nil || u.Scheme != "https" || u.Host != "311.city.example" {
			t.Errorf("link %q is not well formed: %v", l, err)
			continue
		}
		var p linktoken.Purpose
		var tok string
		switch {
		case strings.HasPrefix(u.Path, "/unsubscribe/"):
			p, tok = linktoken.Unsubscribe, strings.TrimPrefix(u.Path, "/unsubscribe/")
		default:
			p, tok = purposes[u.Path[strings.LastIndexByte(u.Path, '/')+1:]], u.Query().Get("t")
		}
		if _, err := keys.Verify(p, tok); err != nil {
			t.Errorf("link %q: token does not verify for %s: %v", l, p, err)
		}
		for _, other := range []linktoken.Purpose{linktoken.Unsubscribe, linktoken.Satisfaction, linktoken.Reopen} {
			if other != p {
				if _, err := keys.Verify(other, tok); err == nil {
					t.Errorf("link %q: token also verifies for %s", l, other)
				}
			}
		}
	}
}
