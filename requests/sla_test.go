package requests

import (
	"strings"
	"testing"
	"time"
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
