package requests

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
)

func toronto(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("America/Toronto")
	if err != nil {
		t.Fatal(err)
	}
	at, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func TestDueAtCalendar(t *testing.T) {
	c := loadTest(t)
	at := toronto(t, "2026-03-06 22:15") // a Friday night
	if got, want := c.DueAt("streetlight_out", at), at.Add(24*time.Hour).UTC(); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("calendar SLA due %v, want %v in UTC", got, want)
	}
	// Calendar hours are elapsed time: across the spring-forward night the
	// wall clock moves 73 hours for 72 elapsed.
	at = toronto(t, "2026-03-06 12:00")
	if got, want := c.DueAt("road_damage", at), toronto(t, "2026-03-09 13:00"); !got.Equal(want) {
		t.Errorf("72 h across DST due %v, want %v", got.In(want.Location()), want)
	}
	if got := c.DueAt("nope", at); !got.IsZero() {
		t.Errorf("unknown category due %v, want zero", got)
	}
}

func TestDueAtBusinessHours(t *testing.T) {
	c := loadTest(t) // pothole: 40 business hours, Mon–Fri 08:30–16:30, holiday 2026-07-01
	for _, tc := range []struct{ name, at, want string }{
		{"monday morning: five working days", "2026-03-02 08:30", "2026-03-06 16:30"},
		{"mid-morning wraps into next week", "2026-03-02 10:00", "2026-03-09 10:00"},
		{"friday afternoon skips the weekend", "2026-03-06 15:30", "2026-03-13 15:30"},
		{"saturday starts monday at opening", "2026-03-07 11:00", "2026-03-13 16:30"},
		{"before opening starts at opening", "2026-03-03 06:00", "2026-03-09 16:30"},
		{"after closing starts next morning", "2026-03-03 17:45", "2026-03-10 16:30"},
		{"exactly at closing", "2026-03-03 16:30", "2026-03-10 16:30"},
		{"across a holiday", "2026-06-29 12:00", "2026-07-07 12:00"},     // Wed 1 July skipped
		{"across a DST change", "2026-03-06 12:00", "2026-03-13 12:00"},  // 8 h days either side
		{"fall back", "2026-10-30 12:00", "2026-11-06 12:00"},            // the night of 1 Nov
		{"holiday plus weekend", "2026-06-30 16:00", "2026-07-08 16:00"}, // Tue 16:00 → Wed off → Thu..
	} {
		t.Run(tc.name, func(t *testing.T) {
			at, want := toronto(t, tc.at), toronto(t, tc.want)
			if got := c.DueAt("pothole", at); !got.Equal(want) {
				t.Errorf("DueAt(pothole, %s) = %s, want %s", tc.at, got.In(want.Location()).Format("Mon 2006-01-02 15:04"), tc.want)
			}
		})
	}
}

func TestDueAtTimeZone(t *testing.T) {
	// The same instant is inside business hours in Toronto and outside them
	// in Vancouver, so the due times differ.
	c := loadTest(t)
	van, err := LoadCatalog(strings.NewReader(edit(t, "America/Toronto", "America/Vancouver")))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC) // Tuesday 09:00 EST in Toronto, 06:00 PST in Vancouver
	// Toronto: 7.5 h on Tuesday, 24 h Wed–Fri, 8 h Monday, 0.5 h Tuesday
	// 10 March, now EDT (DST began 8 March): 09:00 EDT = 13:00 UTC.
	if got, want := c.DueAt("pothole", at), time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Toronto due %v, want %v", got, want)
	}
	// Vancouver opens at 08:30 PST = 16:30 UTC; 40 h later is Mon 9 March
	// 16:30 PDT (DST began 8 March) = 23:30 UTC.
	if got, want := van.DueAt("pothole", at), time.Date(2026, 3, 9, 23, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Vancouver due %v, want %v", got, want)
	}
}

func TestBusinessHoursConfig(t *testing.T) {
	// A four-day week, 07:00–15:00: Friday is not a working day.
	doc := edit(t, `{"open": "08:30", "close": "16:30", "days": ["mon", "tue", "wed", "thu", "fri"]}`,
		`{"open": "07:00", "close": "15:00", "days": ["mon", "tue", "wed", "thu"]}`)
	c, err := LoadCatalog(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.DueAt("pothole", toronto(t, "2026-03-05 11:00")), toronto(t, "2026-03-16 11:00"); !got.Equal(want) {
		t.Errorf("four-day week due %v, want %v", got.In(want.Location()), want)
	}
	// Without business_hours the default week applies.
	doc = edit(t, `"business_hours": {"open": "08:30", "close": "16:30", "days": ["mon", "tue", "wed", "thu", "fri"]},`, ``)
	if c, err = LoadCatalog(strings.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	if got, want := c.DueAt("pothole", toronto(t, "2026-03-06 15:30")), toronto(t, "2026-03-13 15:30"); !got.Equal(want) {
		t.Errorf("default week due %v, want %v", got.In(want.Location()), want)
	}
}

// loadQC is the test catalog on Québec's statutory calendar, closed also
// on Easter Monday, 24 and 31 December.
func loadQC(t *testing.T, calendar string) *Catalog {
	t.Helper()
	doc := edit(t, `"holidays": ["2026-07-01"],`,
		`"holidays": "`+calendar+`", "closures": ["easter_monday", "2026-12-24", "2026-12-31"],`)
	c, err := LoadCatalog(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDueAtStatutoryHolidays(t *testing.T) {
	qc := loadQC(t, "QC")
	noClosures, err := LoadCatalog(strings.NewReader(edit(t, `"holidays": ["2026-07-01"],`, `"holidays": "federal",`)))
	if err != nil {
		t.Fatal(err)
	}
	// pothole: 40 business hours, Monday to Friday 08:30–16:30.
	for _, tc := range []struct {
		name string
		c    *Catalog
		at   string
		want string
	}{
		// Fri 6.5 h; Mon 18 May (Journée nationale des patriotes) off;
		// Tue–Fri 32 h; Mon 25 1.5 h.
		{"Victoria Day long weekend", qc, "2026-05-15 10:00", "2026-05-25 10:00"},
		// Thu 4.5 h; Good Friday off; Easter Monday a closure; Tue–Fri 32 h;
		// Mon 13 3.5 h.
		{"Easter weekend, Good Friday and Easter Monday", qc, "2026-04-02 12:00", "2026-04-13 12:00"},
		// Tue 1.5 h; Wed 24 June off; Thu–Tue 32 h; Wed 1 July off; Thu 6.5 h.
		{"Fête nationale and Canada Day", qc, "2026-06-23 15:00", "2026-07-02 15:00"},
		// Tue 7.5 h; Wed 8 h; 24 Dec closure; 25 Dec holiday; Mon 28, Tue
		// 29, Wed 30 24 h; 31 Dec closure; 1 Jan holiday; Mon 4 Jan 0.5 h.
		{"Christmas to New Year", qc, "2026-12-22 09:00", "2027-01-04 09:00"},
		// Federally Boxing Day (Saturday) is observed Monday 28; 24 and 31
		// December are working days: Tue 7.5, Wed 8, Thu 8, Tue 29 8,
		// Wed 30 8, Thu 31 0.5.
		{"Christmas to New Year, federal", noClosures, "2026-12-22 09:00", "2026-12-31 09:00"},
		// Fri 0.5 h; Thanksgiving Monday 12 October off; Tue–Fri 32 h;
		// Mon 19 7.5 h.
		{"Thanksgiving", qc, "2026-10-09 16:00", "2026-10-19 16:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at, want := toronto(t, tc.at), toronto(t, tc.want)
			if got := tc.c.DueAt("pothole", at); !got.Equal(want) {
				t.Errorf("DueAt(pothole, %s) = %s, want %s", tc.at, got.In(want.Location()).Format("Mon 2006-01-02 15:04 MST"), tc.want)
			}
		})
	}
}

func TestWorkingTimeAcrossClockChanges(t *testing.T) {
	// A working day of 00:30–23:30 every day is 23 h of wall clock, but 22 h
	// on the night clocks spring forward and 24 h when they fall back: the
	// clock counts real time. (Counting wall-clock hours would give Sunday
	// 17:30 both times below.)
	doc := edit(t, `{"open": "08:30", "close": "16:30", "days": ["mon", "tue", "wed", "thu", "fri"]}`,
		`{"open": "00:30", "close": "23:30", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}`)
	c, err := LoadCatalog(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	// Sat 7 March 23 h; Sun 8 March (EST→EDT at 02:00) needs 17 h from
	// 00:30 EST (05:30 UTC): 22:30 UTC, 18:30 EDT.
	if got, want := c.DueAt("pothole", toronto(t, "2026-03-07 00:30")), toronto(t, "2026-03-08 18:30"); !got.Equal(want) {
		t.Errorf("spring forward: due %s, want %s", got.In(want.Location()), want)
	}
	if got, want := c.WorkingTime(toronto(t, "2026-03-08 00:00"), toronto(t, "2026-03-09 00:00"), nil), 22*time.Hour; got != want {
		t.Errorf("working time on 8 March = %v, want %v", got, want)
	}
	// Sat 31 October 23 h; Sun 1 November (EDT→EST at 02:00, the hour
	// 01:00–02:00 twice) needs 17 h from 00:30 EDT (04:30 UTC): 21:30 UTC,
	// 16:30 EST.
	if got, want := c.DueAt("pothole", toronto(t, "2026-10-31 00:30")), toronto(t, "2026-11-01 16:30"); !got.Equal(want) {
		t.Errorf("fall back: due %s, want %s", got.In(want.Location()), want)
	}
	if got, want := c.WorkingTime(toronto(t, "2026-11-01 00:00"), toronto(t, "2026-11-02 00:00"), nil), 24*time.Hour; got != want {
		t.Errorf("working time on 1 November = %v, want %v", got, want)
	}

	// Office hours do not change length: Friday noon to Monday noon is
	// 8 working hours across either change, and 71 h or 73 h elapsed.
	qc := loadQC(t, "QC")
	for _, tc := range []struct {
		from, to        string
		working, actual time.Duration
	}{
		{"2026-03-06 12:00", "2026-03-09 12:00", 8 * time.Hour, 71 * time.Hour},
		{"2026-10-30 12:00", "2026-11-02 12:00", 8 * time.Hour, 73 * time.Hour},
	} {
		from, to := toronto(t, tc.from), toronto(t, tc.to)
		if got := qc.SLAElapsed("pothole", from, to, nil); got != tc.working {
			t.Errorf("business SLA elapsed %s → %s = %v, want %v", tc.from, tc.to, got, tc.working)
		}
		if got := qc.SLAElapsed("streetlight_out", from, to, nil); got != tc.actual {
			t.Errorf("calendar SLA elapsed %s → %s = %v, want %v", tc.from, tc.to, got, tc.actual)
		}
	}
}

func TestPauseSpanningHoliday(t *testing.T) {
	c := loadQC(t, "QC")
	at := toronto(t, "2026-06-23 15:00") // due Thu 2 July 15:00 without a pause
	// Waiting on the resident from Tuesday 16:00 to Monday 29 June 10:00,
	// across the Fête nationale and a weekend. Counted: Tue 1 h; Mon 6.5 h;
	// Tue 30 8 h; Wed 1 July off; Thu, Fri, Mon 24 h; Tue 7 July 0.5 h.
	pause := Pause{Start: toronto(t, "2026-06-23 16:00"), End: toronto(t, "2026-06-29 10:00")}
	want := toronto(t, "2026-07-07 09:00")
	if got := c.DueAtPaused("pothole", at, []Pause{pause}); !got.Equal(want) {
		t.Errorf("due with pause %s, want %s", got.In(want.Location()), want)
	}
	// Overlapping, unsorted and empty pauses count once.
	split := []Pause{
		{Start: toronto(t, "2026-06-26 09:00"), End: pause.End},
		{Start: pause.Start, End: toronto(t, "2026-06-26 12:00")},
		{Start: toronto(t, "2026-06-25 10:00"), End: toronto(t, "2026-06-25 10:00")},
	}
	if got := c.DueAtPaused("pothole", at, split); !got.Equal(want) {
		t.Errorf("due with overlapping pauses %s, want %s", got.In(want.Location()), want)
	}
	now := toronto(t, "2026-06-30 12:00")
	if got, want := c.SLAElapsed("pothole", at, now, []Pause{pause}), 11*time.Hour; got != want {
		t.Errorf("elapsed with pause = %v, want %v (1 + 6.5 + 3.5)", got, want)
	}
	// Still waiting: the clock stopped at 16:00 on Tuesday after 1 h, and
	// the due time is not known yet.
	open := []Pause{{Start: pause.Start}}
	if got := c.DueAtPaused("pothole", at, open); !got.IsZero() {
		t.Errorf("due while paused = %v, want zero", got)
	}
	if got, want := c.SLAElapsed("pothole", at, now, open), time.Hour; got != want {
		t.Errorf("elapsed while paused = %v, want %v", got, want)
	}
	// A pause stops a calendar SLA too: 24 h plus the 24 h waited.
	calPause := []Pause{{Start: toronto(t, "2026-06-23 16:00"), End: toronto(t, "2026-06-24 16:00")}}
	if got, want := c.DueAtPaused("streetlight_out", at, calPause), toronto(t, "2026-06-25 15:00"); !got.Equal(want) {
		t.Errorf("calendar SLA due with pause %s, want %s", got.In(want.Location()), want)
	}
	// A pause that ends after the due time would have fallen does not move
	// it if it starts after that.
	late := []Pause{{Start: toronto(t, "2026-07-03 09:00")}}
	if got, want := c.DueAtPaused("pothole", at, late), toronto(t, "2026-07-02 15:00"); !got.Equal(want) {
		t.Errorf("due with a later pause %s, want %s", got.In(want.Location()), want)
	}
}

func TestEscalationHelpers(t *testing.T) {
	c := loadQC(t, "QC")
	if got := c.WorkingDay(); got != 8*time.Hour {
		t.Errorf("working day %v, want 8h", got)
	}
	// Two business days after Tue 23 June 16:00: Thu 25 and Fri 26 (24
	// June is off), so Fri 16:00.
	due := toronto(t, "2026-06-23 16:00")
	if got, want := c.AddWorkingTime(due, 2*c.WorkingDay(), nil), toronto(t, "2026-06-26 16:00"); !got.Equal(want) {
		t.Errorf("due + 2 business days = %s, want %s", got.In(want.Location()), want)
	}
	if d, business, ok := c.SLATarget("pothole"); !ok || !business || d != 40*time.Hour {
		t.Errorf("SLATarget(pothole) = %v, %v, %v", d, business, ok)
	}
	if _, _, ok := c.SLATarget("nope"); ok {
		t.Error("SLATarget of an unknown category")
	}
}

func TestDaysOff(t *testing.T) {
	c := loadQC(t, "QC")
	if c.HolidayCalendar() != "QC" {
		t.Errorf("calendar %q", c.HolidayCalendar())
	}
	var got []string
	for _, h := range c.DaysOff(2026) {
		got = append(got, h.DateString()+" "+h.Name.Fr)
	}
	want := []string{
		"2026-01-01 Jour de l'An", "2026-04-03 Vendredi saint", "2026-04-06 Lundi de Pâques",
		"2026-05-18 Journée nationale des patriotes", "2026-06-24 Fête nationale du Québec",
		"2026-07-01 Fête du Canada", "2026-09-07 Fête du Travail", "2026-10-12 Action de grâces",
		"2026-12-24 Fermeture municipale", "2026-12-25 Jour de Noël", "2026-12-31 Fermeture municipale",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("days off 2026:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Easter Monday is a closure every year, not only the one listed.
	if !c.ClosedOn(toronto(t, "2027-03-29 12:00")) || c.ClosedOn(toronto(t, "2027-03-30 12:00")) {
		t.Error("Easter Monday 2027 should be closed, the Tuesday open")
	}
	// ClosedOn reads the date in the municipality's time zone: 02:00 UTC
	// on 25 June is still 24 June in Toronto.
	if !c.ClosedOn(time.Date(2026, 6, 25, 2, 0, 0, 0, time.UTC)) {
		t.Error("24 June evening in Toronto should be closed")
	}
}

func TestHolidaysConfigErrors(t *testing.T) {
	old := `"holidays": ["2026-07-01"],`
	for _, tc := range []struct{ name, new, field string }{
		{"unknown calendar", `"holidays": "BC",`, "holidays"},
		{"not a string", `"holidays": 5,`, "holidays"},
		{"list of numbers", `"holidays": [1],`, "holidays"},
		{"bad closure date", `"closures": ["2026-02-30"],`, "closures[0]"},
		{"unknown closure rule", `"closures": ["2026-12-24", "xmas"],`, "closures[1]"},
		{"rule twice", `"closures": ["easter_monday", "easter_monday"],`, "closures[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadCatalog(strings.NewReader(edit(t, old, tc.new)))
			var e *i18n.Error
			if !errors.As(err, &e) {
				t.Fatalf("LoadCatalog error = %v, want an *i18n.Error", err)
			}
			if e.Kind != i18n.Invalid || e.Field != tc.field {
				t.Errorf("got kind %s field %q (%v); want invalid, field %q", e.Kind, e.Field, err, tc.field)
			}
			if e.Message.En == "" || e.Message.Fr == "" || e.Message.En == e.Message.Fr {
				t.Errorf("message not bilingual: %+v", e.Message)
			}
		})
	}
	// Calendar names are read in any case; no holidays at all is allowed.
	for _, ok := range []string{`"holidays": "qc",`, `"holidays": "Federal",`, ``, `"closures": [],`} {
		if _, err := LoadCatalog(strings.NewReader(edit(t, old, ok))); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// TestDaysOffConcurrent: the catalog computes each year's days off on first
// use; concurrent readers (run with -race) get the same answers.
func TestDaysOffConcurrent(t *testing.T) {
	c := loadQC(t, "QC")
	want := toronto(t, "2027-01-04 09:00")
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			if got := c.DueAt("pothole", toronto(t, "2026-12-22 09:00")); !got.Equal(want) {
				errs <- got.String()
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent DueAt = %s, want %s", e, want)
	}
}
