package i18n

import (
	"errors"
	"fmt"
	"testing"
)

func TestNegotiate(t *testing.T) {
	cases := []struct {
		locale, accept string
		want           Lang
	}{
		{"", "", En},
		{"fr", "", Fr},
		{"fr_CA", "en", Fr},
		{"en-CA", "fr-CA,fr;q=0.9", En},
		{"", "fr-CA,fr;q=0.9,en;q=0.5", Fr},
		{"", "en-US,en;q=0.9,fr;q=0.5", En},
		{"", "de-DE", En},
		{"es", "fr", Fr},
		{"", "garbage;;q=x", En},
	}
	for _, c := range cases {
		if got := Negotiate(c.locale, c.accept); got != c.want {
			t.Errorf("Negotiate(%q, %q) = %q, want %q", c.locale, c.accept, got, c.want)
		}
	}
}

func TestErrorKindAndMessage(t *testing.T) {
	e := Errorf(Invalid, "lat", T("must be between %d and %d", "doit être entre %d et %d"), -90, 90)
	wrapped := fmt.Errorf("submit: %w", e)
	if KindOf(wrapped) != Invalid {
		t.Errorf("KindOf = %v", KindOf(wrapped))
	}
	m := MessageOf(wrapped)
	if m.En != "lat: must be between -90 and 90" || m.Fr != "lat : doit être entre -90 et 90" {
		t.Errorf("MessageOf = %+v", m)
	}
	plain := errors.New("pq: connection refused")
	if KindOf(plain) != Internal || MessageOf(plain).En == plain.Error() {
		t.Error("an internal error leaked its message")
	}
	if T("Hello", "Bonjour").In(Fr) != "Bonjour" || T("Hello", "").In(Fr) != "Hello" {
		t.Error("Text.In fallback")
	}
}
