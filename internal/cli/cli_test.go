package cli

import (
	"testing"
	"time"
)

func TestParseWindow(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"0": 0, "30d": 30 * 24 * time.Hour, "1.5d": 36 * time.Hour, "72h": 72 * time.Hour, "90m": 90 * time.Minute, " 2d ": 48 * time.Hour,
	} {
		if got, err := ParseWindow(in); err != nil || got != want {
			t.Errorf("ParseWindow(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-1d", "-5m", "3 days", "NaNd", "1e9d"} {
		if _, err := ParseWindow(in); err == nil {
			t.Errorf("ParseWindow(%q) accepted", in)
		}
	}
}
