package cli

import (
	"errors"
	"strings"
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

func TestSplitArgs(t *testing.T) {
	flags, ops := SplitArgs([]string{"a.csv", "--layer", "hydrant", "-batch=5", "-", "--help", "--", "-x.csv"})
	if got, want := strings.Join(flags, " "), "--layer hydrant -batch=5 --help"; got != want {
		t.Errorf("flags = %q, want %q", got, want)
	}
	if got, want := strings.Join(ops, " "), "a.csv - -x.csv"; got != want {
		t.Errorf("operands = %q, want %q", got, want)
	}
}

func TestParseExpiryAndInstant(t *testing.T) {
	if got, err := ParseExpiry(""); err != nil || !got.IsZero() {
		t.Errorf(`ParseExpiry("") = %v, %v`, got, err)
	}
	if got, err := ParseExpiry("2027-01-01"); err != nil || !got.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("ParseExpiry(date) = %v, %v", got, err)
	}
	if got, err := ParseExpiry("2027-01-01T10:00:00-05:00"); err != nil || got.Location() != time.UTC || got.Hour() != 15 {
		t.Errorf("ParseExpiry(RFC 3339) = %v, %v", got, err)
	}
	if _, err := ParseExpiry("next year"); err == nil {
		t.Error("ParseExpiry accepted next year")
	}
	loc, err := time.LoadLocation("America/Toronto")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"2026-06-23T15:00", "2026-06-23 15:00:00", "2026-06-23T15:00:00-04:00"} {
		if got, err := ParseInstant(s, loc); err != nil || !got.Equal(time.Date(2026, 6, 23, 19, 0, 0, 0, time.UTC)) {
			t.Errorf("ParseInstant(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseInstant("2026-06-23", loc); err == nil {
		t.Error("ParseInstant accepted a date without a time")
	}
}

func TestBadRows(t *testing.T) {
	var b strings.Builder
	bad := BadRows{W: &b, Max: 2}
	for line := 2; line <= 5; line++ {
		bad.Skip(line, errors.New("bad lon"))
	}
	want := "line 2: bad lon (skipped)\nline 3: bad lon (skipped)\nfurther bad rows are not shown; the summary counts them\n"
	if bad.N != 4 || b.String() != want {
		t.Errorf("N = %d, output %q", bad.N, b.String())
	}
}

func TestCheckPublicURL(t *testing.T) {
	for s, ok := range map[string]bool{"": true, "https://311.example.ca": true, "http://localhost:8080/": true,
		"ftp://x": false, "311.example.ca": false, "https://": false} {
		if err := CheckPublicURL(s); (err == nil) != ok {
			t.Errorf("CheckPublicURL(%q) = %v", s, err)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	loc, err := time.LoadLocation("America/Toronto")
	if err != nil {
		t.Skip(err)
	}
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	start, end, err := ParsePeriod("", "", loc, now)
	if err != nil || !start.Equal(now.AddDate(0, 0, -90)) || !end.IsZero() {
		t.Errorf("defaults: %v %v %v", start, end, err)
	}
	start, end, err = ParsePeriod("2026-01-01", "2026-03-31", loc, now)
	if err != nil || !start.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, loc)) || !end.After(time.Date(2026, 3, 31, 23, 0, 0, 0, loc)) {
		t.Errorf("days: %v %v %v", start, end, err)
	}
	for _, c := range [][3]string{{"bad", "", "--from: "}, {"", "bad", "--to: "}, {"2026-02-01", "2026-01-01", "--to is before --from"}} {
		if _, _, err := ParsePeriod(c[0], c[1], loc, now); err == nil || !strings.HasPrefix(err.Error(), c[2]) {
			t.Errorf("%q..%q: %v, want %q", c[0], c[1], err, c[2])
		}
	}
}

func TestSubcommands(t *testing.T) {
	var ran []string
	subs := map[string]func([]string) error{"due": func(a []string) error { ran = a; return nil }}
	missing := func(sub string) error { return UsageErrorf("no %q", sub) }
	var out strings.Builder
	env := Env{Stdout: &out}
	if err := Subcommands(env, []string{"due", "--at", "x"}, "sla due", "\nhelp\n", missing, subs); err != nil || strings.Join(ran, " ") != "--at x" {
		t.Errorf("due: %v, ran %q", err, ran)
	}
	for _, h := range []string{"-h", "--help", "-help"} {
		out.Reset()
		if err := Subcommands(env, []string{h}, "sla due", "\nhelp\n", missing, subs); err != nil || out.String() != "Usage: pinward sla due\n\nhelp\n" {
			t.Errorf("%s: %v, %q", h, err, out.String())
		}
	}
	for args, want := range map[string]string{"": `no ""`, "nope": `no "nope"`} {
		var a []string
		if args != "" {
			a = []string{args}
		}
		err := Subcommands(env, a, "sla due", "", missing, subs)
		if err == nil || err.Error() != want || ExitCode(err) != 2 {
			t.Errorf("%q: %v, want usage error %s", args, err, want)
		}
	}
}
