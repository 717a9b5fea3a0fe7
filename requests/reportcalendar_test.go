package requests

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
)

// TestWorkCalendar: the working seconds a store computes from the laid-out
// calendar agree with the SLA clock's WorkingTime for random spans across
// weekends, a holiday, both clock changes and the year's end, with and
// without a pause; and a few spans by hand.
func TestWorkCalendar(t *testing.T) {
	c := loadTest(t) // Mon–Fri 08:30–16:30 Toronto, holiday 2026-07-01
	from, to := toronto(t, "2025-12-20 00:00"), toronto(t, "2027-01-10 00:00")
	w := c.WorkCalendar(from, to)
	if n := len(w.Starts); n < 380 || n != len(w.Opens) || n != len(w.Lens) || n != len(w.Cum) {
		t.Fatalf("calendar of %d days (%d, %d, %d)", n, len(w.Opens), len(w.Lens), len(w.Cum))
	}
	between := func(a, b time.Time) float64 { return w.Seconds(b) - w.Seconds(a) }
	for _, tc := range []struct {
		a, b  string
		hours float64
	}{
		{"2026-03-06 15:30", "2026-03-10 12:00", 12.5}, // Fri 1 h, Mon 8 h (after spring forward), Tue 3.5 h
		{"2026-06-30 16:00", "2026-07-02 09:30", 1.5},  // Canada Day skipped
		{"2026-10-30 16:00", "2026-11-02 09:00", 1},    // fall back
		{"2026-03-07 10:00", "2026-03-08 20:00", 0},    // a weekend
		{"2026-03-02 07:00", "2026-03-02 08:30", 0},    // before opening
	} {
		if got := between(toronto(t, tc.a), toronto(t, tc.b)) / 3600; math.Abs(got-tc.hours) > 1e-9 {
			t.Errorf("%s to %s: %v working hours, want %v", tc.a, tc.b, got, tc.hours)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	span := int64(to.Sub(from)) - int64(30*24*time.Hour)
	for range 2000 {
		a := from.Add(time.Duration(rng.Int64N(span))).Truncate(time.Microsecond)
		b := a.Add(time.Duration(rng.Int64N(int64(20 * 24 * time.Hour)))).Truncate(time.Microsecond)
		want := c.WorkingTime(a, b, nil).Seconds()
		if got := between(a, b); math.Abs(got-want) > 1e-6 {
			t.Fatalf("%v to %v: %v working seconds, want %v", a, b, got, want)
		}
		// A pause comes off as the working seconds within it.
		ps := a.Add(b.Sub(a) / 3).Truncate(time.Microsecond)
		pe := a.Add(b.Sub(a) / 2).Truncate(time.Microsecond)
		want = c.WorkingTime(a, b, []Pause{{Start: ps, End: pe}}).Seconds()
		if got := between(a, b) - between(ps, pe); math.Abs(got-want) > 1e-6 {
			t.Fatalf("%v to %v paused %v to %v: %v working seconds, want %v", a, b, ps, pe, got, want)
		}
	}
	// Before the first day, nothing has been worked; an empty calendar
	// counts nothing.
	if got := w.Seconds(from.Add(-48 * time.Hour)); got != 0 {
		t.Errorf("before the calendar: %v", got)
	}
	if got := (&WorkCalendar{}).Seconds(from); got != 0 {
		t.Errorf("empty calendar: %v", got)
	}
}

// TestParseReportGrouping: one grouping, two different ones crossed, and
// each refusal an Invalid error on "by".
func TestParseReportGrouping(t *testing.T) {
	for s, want := range map[string][2]ReportBy{
		"ward": {ByWard, ""}, "channel": {ByChannel, ""}, "ward,department": {ByWard, ByDepartment},
		"category,channel": {ByCategory, ByChannel}, "channel,ward": {ByChannel, ByWard},
	} {
		by, cross, err := ParseReportGrouping(s)
		if err != nil || by != want[0] || cross != want[1] {
			t.Errorf("ParseReportGrouping(%q) = %q, %q, %v", s, by, cross, err)
		}
		if got := (ReportQuery{By: by, Cross: cross}).Grouping(); got != s {
			t.Errorf("Grouping() = %q, want %q", got, s)
		}
	}
	for _, s := range []string{"", "street", "ward,ward", "ward,", ",ward", "ward,department,category", "Ward"} {
		if _, _, err := ParseReportGrouping(s); i18n.KindOf(err) != i18n.Invalid {
			t.Errorf("ParseReportGrouping(%q): %v, want Invalid", s, err)
		}
	}
}
