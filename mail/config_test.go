package mail_test

import (
	"strings"
	"testing"

	"github.com/pinward/pinward/mail"
)

func TestParseURL(t *testing.T) {
	good := []struct {
		url  string
		want mail.Config
	}{
		{"smtp://u%40x:p%3Ass@mail.city.example", mail.Config{Host: "mail.city.example", Port: 587,
			Username: "u@x", Password: "p:ss", Security: mail.StartTLS, From: "311@city.example"}},
		{"smtp://mail.city.example:2525", mail.Config{Host: "mail.city.example", Port: 2525,
			Security: mail.StartTLS, From: "311@city.example"}},
		{"smtps://u:p@mail.city.example", mail.Config{Host: "mail.city.example", Port: 465,
			Username: "u", Password: "p", Security: mail.ImplicitTLS, From: "311@city.example"}},
		{"smtp://u:p@127.0.0.1:1025?tls=none", mail.Config{Host: "127.0.0.1", Port: 1025,
			Username: "u", Password: "p", Security: mail.Plain, From: "311@city.example"}},
		{"smtp://u:p@[::1]:1025?tls=opportunistic", mail.Config{Host: "::1", Port: 1025,
			Username: "u", Password: "p", Security: mail.Opportunistic, From: "311@city.example"}},
		// A relay on the municipality's own network, without credentials.
		{"smtp://relay.internal:25?tls=none", mail.Config{Host: "relay.internal", Port: 25,
			Security: mail.Plain, From: "311@city.example"}},
	}
	for _, tc := range good {
		got, err := mail.ParseURL(tc.url, "311@city.example")
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.url, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, want %+v", tc.url, got, tc.want)
		}
	}

	bad := []struct{ url, from, want string }{
		{"http://mail.city.example", "311@city.example", "scheme"},
		{"smtp://", "311@city.example", "no host"},
		{"smtp://h:99999", "311@city.example", "port"},
		{"smtp://h/x", "311@city.example", "path"},
		{"smtp://h?tls=maybe", "311@city.example", "tls="},
		{"smtp://h?auth=plain", "311@city.example", "unknown SMTP URL parameter"},
		{"smtps://h?tls=none", "311@city.example", "always uses TLS"},
		{"smtp://u:secret@mail.city.example?tls=none", "311@city.example", "in clear"},
		{"smtp://h", "", "sender address is required"},
		{"smtp://h", "City <311@city.example>", "bare e-mail address"},
		{"smtp://h", "not-an-address", "bare e-mail address"},
	}
	for _, tc := range bad {
		_, err := mail.ParseURL(tc.url, tc.from)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseURL(%q, %q) = %v, want an error about %q", tc.url, tc.from, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseURL error leaks the password: %v", err)
		}
	}
}

func TestRedacted(t *testing.T) {
	c, err := mail.ParseURL("smtp://u:secret@127.0.0.1:25?tls=none", "a@b.example")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Redacted(); strings.Contains(got, "secret") || !strings.Contains(got, "tls=none") {
		t.Errorf("Redacted() = %q", got)
	}
}

func TestMessageID(t *testing.T) {
	if got := mail.MessageID("mail.42.t1", "311@city.example"); got != "mail.42.t1@city.example" {
		t.Errorf("MessageID = %q", got)
	}
}
