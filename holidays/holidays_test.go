package holidays

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The published calendars, written out by hand: Québec's CNESST list (with
// Good Friday, see the package comment), Ontario's nine ESA public holidays
// and the ten general holidays of the Canada Labour Code with their
// observed days. Easter was 2025-04-20, 2026-04-05 and 2027-03-28.
var published = map[Calendar]map[int][]string{
	Quebec: {
		2025: {
			"2025-01-01 New Year's Day | Jour de l'An",
			"2025-04-18 Good Friday | Vendredi saint",
			"2025-05-19 National Patriots' Day | Journée nationale des patriotes",
			"2025-06-24 National Holiday (Fête nationale du Québec) | Fête nationale du Québec",
			"2025-07-01 Canada Day | Fête du Canada",
			"2025-09-01 Labour Day | Fête du Travail",
			"2025-10-13 Thanksgiving | Action de grâces",
			"2025-12-25 Christmas Day | Jour de Noël",
		},
		2026: {
			"2026-01-01 New Year's Day | Jour de l'An",
			"2026-04-03 Good Friday | Vendredi saint",
			"2026-05-18 National Patriots' Day | Journée nationale des patriotes",
			"2026-06-24 National Holiday (Fête nationale du Québec) | Fête nationale du Québec",
			"2026-07-01 Canada Day | Fête du Canada",
			"2026-09-07 Labour Day | Fête du Travail",
			"2026-10-12 Thanksgiving | Action de grâces",
			"2026-12-25 Christmas Day | Jour de Noël",
		},
		2027: {
			"2027-01-01 New Year's Day | Jour de l'An",
			"2027-03-26 Good Friday | Vendredi saint",
			"2027-05-24 National Patriots' Day | Journée nationale des patriotes",
			"2027-06-24 National Holiday (Fête nationale du Québec) | Fête nationale du Québec",
			"2027-07-01 Canada Day | Fête du Canada",
			"2027-09-06 Labour Day | Fête du Travail",
			"2027-10-11 Thanksgiving | Action de grâces",
			"2027-12-25 Christmas Day | Jour de Noël",
		},
		// 24 June and 1 July both on a Sunday.
		2029: {
			"2029-01-01 New Year's Day | Jour de l'An",
			"2029-03-30 Good Friday | Vendredi saint",
			"2029-05-21 National Patriots' Day | Journée nationale des patriotes",
			"2029-06-24 National Holiday (Fête nationale du Québec) | Fête nationale du Québec",
			"2029-06-25 National Holiday (Fête nationale du Québec) (observed) | Fête nationale du Québec (congé reporté)",
			"2029-07-02 Canada Day | Fête du Canada",
			"2029-09-03 Labour Day | Fête du Travail",
			"2029-10-08 Thanksgiving | Action de grâces",
			"2029-12-25 Christmas Day | Jour de Noël",
		},
	},
	Ontario: {
		2025: {
			"2025-01-01 New Year's Day | Jour de l'An",
			"2025-02-17 Family Day | Jour de la Famille",
			"2025-04-18 Good Friday | Vendredi saint",
			"2025-05-19 Victoria Day | Fête de Victoria",
			"2025-07-01 Canada Day | Fête du Canada",
			"2025-09-01 Labour Day | Fête du Travail",
			"2025-10-13 Thanksgiving | Action de grâces",
			"2025-12-25 Christmas Day | Jour de Noël",
			"2025-12-26 Boxing Day | Lendemain de Noël",
		},
		2026: {
			"2026-01-01 New Year's Day | Jour de l'An",
			"2026-02-16 Family Day | Jour de la Famille",
			"2026-04-03 Good Friday | Vendredi saint",
			"2026-05-18 Victoria Day | Fête de Victoria",
			"2026-07-01 Canada Day | Fête du Canada",
			"2026-09-07 Labour Day | Fête du Travail",
			"2026-10-12 Thanksgiving | Action de grâces",
			"2026-12-25 Christmas Day | Jour de Noël",
			"2026-12-26 Boxing Day | Lendemain de Noël",
		},
		2027: {
			"2027-01-01 New Year's Day | Jour de l'An",
			"2027-02-15 Family Day | Jour de la Famille",
			"2027-03-26 Good Friday | Vendredi saint",
			"2027-05-24 Victoria Day | Fête de Victoria",
			"2027-07-01 Canada Day | Fête du Canada",
			"2027-09-06 Labour Day | Fête du Travail",
			"2027-10-11 Thanksgiving | Action de grâces",
			"2027-12-25 Christmas Day | Jour de Noël",
			"2027-12-26 Boxing Day | Lendemain de Noël",
		},
	},
	Federal: {
		2025: {
			"2025-01-01 New Year's Day | Jour de l'An",
			"2025-04-18 Good Friday | Vendredi saint",
			"2025-05-19 Victoria Day | Fête de Victoria",
			"2025-07-01 Canada Day | Fête du Canada",
			"2025-09-01 Labour Day | Fête du Travail",
			"2025-09-30 National Day for Truth and Reconciliation | Journée nationale de la vérité et de la réconciliation",
			"2025-10-13 Thanksgiving | Action de grâces",
			"2025-11-11 Remembrance Day | Jour du Souvenir",
			"2025-12-25 Christmas Day | Jour de Noël",
			"2025-12-26 Boxing Day | Lendemain de Noël",
		},
		2026: {
			"2026-01-01 New Year's Day | Jour de l'An",
			"2026-04-03 Good Friday | Vendredi saint",
			"2026-05-18 Victoria Day | Fête de Victoria",
			"2026-07-01 Canada Day | Fête du Canada",
			"2026-09-07 Labour Day | Fête du Travail",
			"2026-09-30 National Day for Truth and Reconciliation | Journée nationale de la vérité et de la réconciliation",
			"2026-10-12 Thanksgiving | Action de grâces",
			"2026-11-11 Remembrance Day | Jour du Souvenir",
			"2026-12-25 Christmas Day | Jour de Noël",
			"2026-12-26 Boxing Day | Lendemain de Noël",
			"2026-12-28 Boxing Day (observed) | Lendemain de Noël (congé reporté)",
		},
		2027: {
			"2027-01-01 New Year's Day | Jour de l'An",
			"2027-03-26 Good Friday | Vendredi saint",
			"2027-05-24 Victoria Day | Fête de Victoria",
			"2027-07-01 Canada Day | Fête du Canada",
			"2027-09-06 Labour Day | Fête du Travail",
			"2027-09-30 National Day for Truth and Reconciliation | Journée nationale de la vérité et de la réconciliation",
			"2027-10-11 Thanksgiving | Action de grâces",
			"2027-11-11 Remembrance Day | Jour du Souvenir",
			"2027-12-25 Christmas Day | Jour de Noël",
			"2027-12-26 Boxing Day | Lendemain de Noël",
			"2027-12-27 Christmas Day (observed) | Jour de Noël (congé reporté)",
			"2027-12-28 Boxing Day (observed) | Lendemain de Noël (congé reporté)",
		},
		// New Year's Day and Canada Day on a Saturday.
		2028: {
			"2028-01-01 New Year's Day | Jour de l'An",
			"2028-01-03 New Year's Day (observed) | Jour de l'An (congé reporté)",
			"2028-04-14 Good Friday | Vendredi saint",
			"2028-05-22 Victoria Day | Fête de Victoria",
			"2028-07-01 Canada Day | Fête du Canada",
			"2028-07-03 Canada Day (observed) | Fête du Canada (congé reporté)",
			"2028-09-04 Labour Day | Fête du Travail",
			"2028-09-30 National Day for Truth and Reconciliation | Journée nationale de la vérité et de la réconciliation",
			"2028-10-02 National Day for Truth and Reconciliation (observed) | Journée nationale de la vérité et de la réconciliation (congé reporté)",
			"2028-10-09 Thanksgiving | Action de grâces",
			"2028-11-11 Remembrance Day | Jour du Souvenir",
			"2028-11-13 Remembrance Day (observed) | Jour du Souvenir (congé reporté)",
			"2028-12-25 Christmas Day | Jour de Noël",
			"2028-12-26 Boxing Day | Lendemain de Noël",
		},
		// Christmas on a Sunday: Boxing Day keeps Monday, Christmas moves
		// to Tuesday.
		2022: {
			"2022-01-01 New Year's Day | Jour de l'An",
			"2022-01-03 New Year's Day (observed) | Jour de l'An (congé reporté)",
			"2022-04-15 Good Friday | Vendredi saint",
			"2022-05-23 Victoria Day | Fête de Victoria",
			"2022-07-01 Canada Day | Fête du Canada",
			"2022-09-05 Labour Day | Fête du Travail",
			"2022-09-30 National Day for Truth and Reconciliation | Journée nationale de la vérité et de la réconciliation",
			"2022-10-10 Thanksgiving | Action de grâces",
			"2022-11-11 Remembrance Day | Jour du Souvenir",
			"2022-12-25 Christmas Day | Jour de Noël",
			"2022-12-26 Boxing Day | Lendemain de Noël",
			"2022-12-27 Christmas Day (observed) | Jour de Noël (congé reporté)",
		},
	},
}

func TestPublishedCalendars(t *testing.T) {
	for cal, years := range published {
		for year, want := range years {
			t.Run(fmt.Sprintf("%s/%d", cal, year), func(t *testing.T) {
				var got []string
				for _, h := range cal.Year(year) {
					got = append(got, h.DateString()+" "+h.Name.En+" | "+h.Name.Fr)
					if h.Date.Location() != time.UTC || h.Date.Hour() != 0 {
						t.Errorf("%s: date %v, want midnight UTC", h.Name.En, h.Date)
					}
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			})
		}
	}
}

func TestCounts(t *testing.T) {
	// The number of holidays each law names, in a year with no weekend
	// observances (2025).
	for cal, n := range map[Calendar]int{Quebec: 8, Ontario: 9, Federal: 10} {
		if got := len(cal.Year(2025)); got != n {
			t.Errorf("%s 2025: %d holidays, want %d", cal, got, n)
		}
	}
}

func TestEaster(t *testing.T) {
	for year, want := range map[int]string{
		1818: "1818-03-22", // the earliest possible date
		1943: "1943-04-25", // the latest possible date
		2000: "2000-04-23",
		2019: "2019-04-21",
		2024: "2024-03-31",
		2025: "2025-04-20",
		2026: "2026-04-05",
		2027: "2027-03-28",
		2028: "2028-04-16",
		2038: "2038-04-25",
	} {
		if got := Easter(year).Format(time.DateOnly); got != want {
			t.Errorf("Easter(%d) = %s, want %s", year, got, want)
		}
	}
}

func TestRecentHolidaysStartInTheirFirstYear(t *testing.T) {
	has := func(cal Calendar, year int, rule string) bool {
		for _, h := range cal.Year(year) {
			if h.Rule == rule {
				return true
			}
		}
		return false
	}
	if has(Ontario, 2007, "family_day") || !has(Ontario, 2008, "family_day") {
		t.Error("Family Day should start in 2008")
	}
	if has(Federal, 2020, "truth_reconciliation") || !has(Federal, 2021, "truth_reconciliation") {
		t.Error("the National Day for Truth and Reconciliation should start in 2021")
	}
}

func TestParseAndRules(t *testing.T) {
	for in, want := range map[string]Calendar{"QC": Quebec, "qc": Quebec, "ON": Ontario, "Federal": Federal} {
		if got, ok := ParseCalendar(in); !ok || got != want {
			t.Errorf("ParseCalendar(%q) = %q, %v", in, got, ok)
		}
	}
	if _, ok := ParseCalendar("BC"); ok {
		t.Error("BC is not a built-in calendar")
	}
	if c := Calendar("BC"); len(c.Year(2026)) != 0 {
		t.Error("an unknown calendar has holidays")
	}
	for id, want := range map[string]string{
		"easter_monday": "2026-04-06", "civic_holiday": "2026-08-03",
		"christmas_eve": "2026-12-24", "new_years_eve": "2026-12-31",
	} {
		r, ok := LookupRule(id)
		if !ok {
			t.Fatalf("no rule %q", id)
		}
		if d, ok := r.On(2026); !ok || d.Format(time.DateOnly) != want {
			t.Errorf("%s in 2026 = %v, want %s", id, d, want)
		}
		if r.Name.En == "" || r.Name.Fr == "" {
			t.Errorf("%s lacks a name in one language", id)
		}
	}
	if _, ok := LookupRule("groundhog_day"); ok {
		t.Error("unknown rule found")
	}
}

func TestWriteCSV(t *testing.T) {
	var b strings.Builder
	if err := WriteCSV(&b, Quebec.Year(2027)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if lines[0] != "date,name_en,name_fr" || len(lines) != len(Quebec.Year(2027))+1 {
		t.Fatalf("CSV:\n%s", b.String())
	}
	if !strings.HasPrefix(lines[1], "2027-01-01,") {
		t.Errorf("first holiday line %q, want New Year's Day 2027-01-01", lines[1])
	}
}
