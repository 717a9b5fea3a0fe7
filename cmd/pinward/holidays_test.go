package main

import (
	"strings"
	"testing"
)

// TestHolidaysCommand checks the exact output scripts read: the header, one
// line per holiday in date order, names in both languages.
func TestHolidaysCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--province", "QC", "--year", "2026"}, `date,name_en,name_fr
2026-01-01,New Year's Day,Jour de l'An
2026-04-03,Good Friday,Vendredi saint
2026-05-18,National Patriots' Day,Journée nationale des patriotes
2026-06-24,National Holiday (Fête nationale du Québec),Fête nationale du Québec
2026-07-01,Canada Day,Fête du Canada
2026-09-07,Labour Day,Fête du Travail
2026-10-12,Thanksgiving,Action de grâces
2026-12-25,Christmas Day,Jour de Noël
`},
		{[]string{"--province", "ON", "--year", "2025"}, `date,name_en,name_fr
2025-01-01,New Year's Day,Jour de l'An
2025-02-17,Family Day,Jour de la Famille
2025-04-18,Good Friday,Vendredi saint
2025-05-19,Victoria Day,Fête de Victoria
2025-07-01,Canada Day,Fête du Canada
2025-09-01,Labour Day,Fête du Travail
2025-10-13,Thanksgiving,Action de grâces
2025-12-25,Christmas Day,Jour de Noël
2025-12-26,Boxing Day,Lendemain de Noël
`},
		{[]string{"--year", "2027", "--province", "federal"}, `date,name_en,name_fr
2027-01-01,New Year's Day,Jour de l'An
2027-03-26,Good Friday,Vendredi saint
2027-05-24,Victoria Day,Fête de Victoria
2027-07-01,Canada Day,Fête du Canada
2027-09-06,Labour Day,Fête du Travail
2027-09-30,National Day for Truth and Reconciliation,Journée nationale de la vérité et de la réconciliation
2027-10-11,Thanksgiving,Action de grâces
2027-11-11,Remembrance Day,Jour du Souvenir
2027-12-25,Christmas Day,Jour de Noël
2027-12-26,Boxing Day,Lendemain de Noël
2027-12-27,Christmas Day (observed),Jour de Noël (congé reporté)
2027-12-28,Boxing Day (observed),Lendemain de Noël (congé reporté)
`},
	} {
		code, out, errOut := run(t, "", append([]string{"holidays"}, tc.args...)...)
		if code != 0 || errOut != "" {
			t.Fatalf("holidays %v: exit %d, stderr %s", tc.args, code, errOut)
		}
		if out != tc.want {
			t.Errorf("holidays %v:\n%s\nwant\n%s", tc.args, out, tc.want)
		}
	}
}

func TestHolidaysCommandUsage(t *testing.T) {
	code, out, _ := run(t, "", "holidays", "--help")
	if code != 0 || !strings.Contains(out, "Usage: pinward holidays --province QC|ON|federal") || !strings.Contains(out, "-year") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{
		{"holidays", "--year", "2026"},                          // no province
		{"holidays", "--province", "BC", "--year", "2026"},      // unknown calendar
		{"holidays", "--province", "QC", "--year", "1500"},      // before the Gregorian calendar
		{"holidays", "--province", "QC", "--year", "twenty"},    // not a year
		{"holidays", "--province", "QC", "--year", "2026", "x"}, // stray argument
	} {
		if code, out, errOut := run(t, "", args...); code != 2 || out != "" || errOut == "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and a message", args, code, out, errOut)
		}
	}
}
