package mail_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/internal/mailtest"
	"github.com/pinward/pinward/mail"
)

const from = "311@city.example"

func sender(t *testing.T, s *mailtest.Server, userinfo, query string) *mail.Sender {
	t.Helper()
	cfg, err := mail.ParseURL(s.SMTPURL(userinfo, query), from)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 5 * time.Second
	if s.RootCAs() != nil {
		cfg.TLS = &tls.Config{RootCAs: s.RootCAs(), MinVersion: tls.VersionTLS12}
	}
	snd, err := mail.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = snd.Close() })
	return snd
}

func message(key, to string) mail.Message {
	return mail.Message{
		ID: mail.MessageID(key, from), To: to,
		Subject: "Request " + key, Text: "Hello " + key,
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestSendHeadersAndBodies(t *testing.T) {
	s := mailtest.Start(t, mailtest.Options{})
	snd := sender(t, s, "clerk:pa%24%24", "tls=none") // AUTH PLAIN on loopback
	ctx := ctxT(t)
	m := mail.Message{
		ID: "mail.7.t1@city.example", To: "resident@ok.test",
		FromName: "Ville de Montréal", ReplyTo: "info@city.example", Lang: "fr",
		Subject: "Demande 7 : reçue", Text: "Bonjour, votre demande est reçue.",
		HTML:              "<p>Bonjour, votre demande est <b>reçue</b>.</p>",
		UnsubscribeURL:    "https://311.city.example/unsubscribe/tok123",
		UnsubscribeMailto: "unsubscribe@city.example",
	}
	if r := snd.Send(ctx, m); r.Outcome != mail.Delivered {
		t.Fatalf("Send = %+v, want delivered", r)
	}
	msgs, err := s.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("%d messages arrived, want 1", len(msgs))
	}
	got := msgs[0]
	checks := []struct{ what, got, want string }{
		{"Message-ID", got.MessageID, "mail.7.t1@city.example"},
		{"AUTH user", got.Username, "clerk"},
		{"From", got.From.Address, from},
		{"From name", got.From.Name, "Ville de Montréal"},
		{"Subject", got.Subject, "Demande 7 : reçue"},
		{"Reply-To", addr(got.ReplyTo), "info@city.example"},
		{"Content-Language", got.Header("Content-Language"), "fr"},
		{"Auto-Submitted", got.Header("Auto-Submitted"), "auto-generated"},
		{"List-Unsubscribe", got.Header("List-Unsubscribe"),
			"<https://311.city.example/unsubscribe/tok123>, <mailto:unsubscribe@city.example?subject=unsubscribe>"},
		{"List-Unsubscribe-Post", got.Header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click"},
		{"text", strings.TrimSpace(got.Text), "Bonjour, votre demande est reçue."},
		{"mailpit's List-Unsubscribe check", got.ListUnsubscribe.Errors, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if !strings.Contains(got.HTML, "<b>reçue</b>") {
		t.Errorf("HTML = %q", got.HTML)
	}
}

func addr(as []mailtest.Address) string {
	var s []string
	for _, a := range as {
		s = append(s, a.Address)
	}
	return strings.Join(s, ",")
}

// One address refused with a 550: that message is AddressRefused, the
// others are delivered on the same connection.
func TestSendRefusedAddress(t *testing.T) {
	s := mailtest.Start(t, mailtest.Options{AllowedRecipients: `@ok\.test$`})
	snd := sender(t, s, "", "tls=none")
	ctx := ctxT(t)
	tos := []string{"a@ok.test", "gone@bounce.test", "b@ok.test"}
	for i, to := range tos {
		r := snd.Send(ctx, message(fmt.Sprint("m", i), to))
		want := mail.Delivered
		if strings.HasSuffix(to, "bounce.test") {
			want = mail.AddressRefused
			if r.Code != 550 || !r.Permanent() || r.Detail == "" {
				t.Errorf("refused address: %+v, want code 550, permanent, with detail", r)
			}
		}
		if r.Outcome != want {
			t.Errorf("Send to %s = %+v, want %s", to, r, want)
		}
	}
	counts, err := s.CountByMessageID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"m0@city.example": 1, "m2@city.example": 1}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("arrived by Message-ID = %v, want %v", counts, want)
	}
}

// SMTP down: a temporary failure; up again: delivered, once.
func TestSendDownThenUp(t *testing.T) {
	s := mailtest.Start(t, mailtest.Options{})
	snd := sender(t, s, "", "tls=none")
	ctx := ctxT(t)

	// A connection kept from before the outage must not be trusted.
	if r := snd.Send(ctx, message("before", "a@ok.test")); r.Outcome != mail.Delivered {
		t.Fatalf("before the outage: %+v", r)
	}
	s.Stop()
	m := message("during", "a@ok.test")
	for range 3 {
		if r := snd.Send(ctx, m); r.Outcome != mail.Retry || r.Permanent() {
			t.Fatalf("SMTP down: %+v, want retry", r)
		}
	}
	s.Restart()
	if r := snd.Send(ctx, m); r.Outcome != mail.Delivered {
		t.Fatalf("SMTP up again: %+v, want delivered", r)
	}
	// And a connection kept across a restart is reopened transparently.
	s.Stop()
	s.Restart()
	if r := snd.Send(ctx, message("after", "a@ok.test")); r.Outcome != mail.Delivered {
		t.Fatalf("after a restart with a stale connection: %+v, want delivered", r)
	}
	counts, err := s.CountByMessageID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"before@city.example": 1, "during@city.example": 1, "after@city.example": 1}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("arrived by Message-ID = %v, want %v", counts, want)
	}
}

// A 4xx from the server is temporary; 5xx to MAIL FROM (our sender
// configuration, not the resident's address) is retried too.
func TestSendTemporaryReplies(t *testing.T) {
	s := mailtest.Start(t, mailtest.Options{})
	snd := sender(t, s, "", "tls=none")
	ctx := ctxT(t)
	cases := []struct {
		chaos mailtest.Chaos
		code  int
	}{
		{mailtest.Chaos{Recipient: mailtest.ChaosTrigger{ErrorCode: 451, Probability: 100}}, 451},
		{mailtest.Chaos{Sender: mailtest.ChaosTrigger{ErrorCode: 421, Probability: 100}}, 421},
		{mailtest.Chaos{Sender: mailtest.ChaosTrigger{ErrorCode: 553, Probability: 100}}, 553},
	}
	for _, c := range cases {
		if err := s.SetChaos(ctx, c.chaos); err != nil {
			t.Fatal(err)
		}
		if r := snd.Send(ctx, message("tmp", "a@ok.test")); r.Outcome != mail.Retry || r.Code != c.code {
			t.Errorf("under chaos %+v: %+v, want retry with code %d", c.chaos, r, c.code)
		}
	}
	if err := s.SetChaos(ctx, mailtest.Chaos{}); err != nil {
		t.Fatal(err)
	}
	if r := snd.Send(ctx, message("tmp", "a@ok.test")); r.Outcome != mail.Delivered {
		t.Fatalf("after chaos: %+v", r)
	}
}

func TestSendTLS(t *testing.T) {
	ctx := ctxT(t)
	starttls := mailtest.Start(t, mailtest.Options{TLS: mailtest.StartTLS})
	if r := sender(t, starttls, "u:p", "").Send(ctx, message("st", "a@ok.test")); r.Outcome != mail.Delivered {
		t.Errorf("smtp:// with STARTTLS and AUTH: %+v", r)
	}
	implicit := mailtest.Start(t, mailtest.Options{TLS: mailtest.ImplicitTLS})
	if r := sender(t, implicit, "u:p", "").Send(ctx, message("it", "a@ok.test")); r.Outcome != mail.Delivered {
		t.Errorf("smtps:// with AUTH: %+v", r)
	}
	// smtp:// requires STARTTLS: a server without it gets nothing, and
	// the message waits (configuration trouble, not the resident's).
	plain := mailtest.Start(t, mailtest.Options{})
	if r := sender(t, plain, "u:p", "").Send(ctx, message("pl", "a@ok.test")); r.Outcome != mail.Retry ||
		!strings.Contains(r.Detail, "STARTTLS") || strings.Contains(r.Detail, ":p@") {
		t.Errorf("smtp:// to a server without STARTTLS: %+v, want retry about STARTTLS", r)
	}
	if sums, err := plain.Summaries(ctx); err != nil || len(sums) != 0 {
		t.Errorf("server without STARTTLS received %d messages (%v)", len(sums), err)
	}
	// An untrusted certificate is refused.
	cfg, err := mail.ParseURL(starttls.SMTPURL("u:p", ""), from)
	if err != nil {
		t.Fatal(err)
	}
	snd, err := mail.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer snd.Close()
	if r := snd.Send(ctx, message("untrusted", "a@ok.test")); r.Outcome != mail.Retry {
		t.Errorf("untrusted certificate: %+v, want retry", r)
	}
}

func TestSendBadMessage(t *testing.T) {
	s := mailtest.Start(t, mailtest.Options{})
	snd := sender(t, s, "", "tls=none")
	ctx := ctxT(t)
	if r := snd.Send(ctx, message("x", "not an address")); r.Outcome != mail.AddressRefused {
		t.Errorf("malformed recipient: %+v, want address_refused", r)
	}
	m := message("y", "a@ok.test")
	m.ID = "<y@city.example>"
	if r := snd.Send(ctx, m); r.Outcome != mail.Refused {
		t.Errorf("Message-ID with brackets: %+v, want refused", r)
	}
	m = message("z", "a@ok.test")
	m.UnsubscribeURL = "javascript:alert(1)"
	if r := snd.Send(ctx, m); r.Outcome != mail.Refused {
		t.Errorf("unsubscribe link not http(s): %+v, want refused", r)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if r := snd.Send(cctx, message("c", "a@ok.test")); r.Outcome != mail.Retry {
		t.Errorf("cancelled context: %+v, want retry", r)
	}
}

// BenchmarkSend sends messages one after another over one kept
// connection to mailpit.
func BenchmarkSend(b *testing.B) {
	s := mailtest.Start(b, mailtest.Options{})
	cfg, err := mail.ParseURL(s.SMTPURL("", "tls=none"), from)
	if err != nil {
		b.Fatal(err)
	}
	snd, err := mail.NewSender(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer snd.Close()
	ctx := context.Background()
	m := message("bench", "a@ok.test")
	m.HTML = "<p>" + strings.Repeat("Bonjour. ", 100) + "</p>"
	i := 0
	for b.Loop() {
		i++
		m.ID = mail.MessageID(fmt.Sprint("bench.", i), from)
		if r := snd.Send(ctx, m); r.Outcome != mail.Delivered {
			b.Fatal(r)
		}
	}
}
