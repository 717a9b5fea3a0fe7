package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClip(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…"},
		{"éèà", 3, "éèà"},               // 6 bytes, 3 runes: not clipped
		{"éèàù", 3, "éèà…"},             // cut after the third rune, not the third byte
		{"Montréal-Nord", 5, "Montr…"},  // cut just before the two-byte é
		{"Montréal-Nord", 6, "Montré…"}, // and just after it
		{"日本語テキスト", 2, "日本…"},           // three-byte runes
		{"a\xffb\xffc", 3, "a\xffb…"},   // invalid bytes count as one rune each
		{strings.Repeat("x", 10), 0, "…"},
	} {
		got := Clip(c.in, c.max)
		if got != c.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
		if utf8.ValidString(c.in) && !utf8.ValidString(got) {
			t.Errorf("Clip(%q, %d) = %q is not valid UTF-8", c.in, c.max, got)
		}
	}
	// Every cut of a long accented string is valid UTF-8 and max runes long.
	s := strings.Repeat("Québec ", 40)
	for max := range 250 {
		got := Clip(s, max)
		if !utf8.ValidString(got) {
			t.Fatalf("Clip(.., %d) is not valid UTF-8", max)
		}
		if n := utf8.RuneCountInString(strings.TrimSuffix(got, "…")); n != min(max, utf8.RuneCountInString(s)) {
			t.Fatalf("Clip(.., %d) kept %d runes", max, n)
		}
	}
}
