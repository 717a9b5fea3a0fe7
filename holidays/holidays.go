// Package holidays computes Canadian statutory holidays by rule, for any
// year: the federal, Québec and Ontario calendars, with English and French
// names and the observed days the law gives when a holiday falls on a
// weekend. Nothing here is a hand-kept list of dates.
//
// The calendars are the holidays of the labour-standards law of each
// jurisdiction, which is what decides when a Monday-to-Friday office is
// closed:
//
//   - QC, Loi sur les normes du travail (art. 60) and Loi sur la fête
//     nationale: 8 days. The Act lets the employer choose Good Friday or
//     Easter Monday; this calendar takes Good Friday (the day the federal
//     and Ontario calendars share), and a municipality that closes on Easter
//     Monday too adds the rule "easter_monday" to its closures.
//   - ON, Employment Standards Act, 2000 (s. 1): 9 public holidays. The
//     Civic Holiday (first Monday of August) is not one of them; a
//     municipality that closes adds "civic_holiday" to its closures.
//   - federal, Canada Labour Code (s. 166): 10 general holidays. Easter
//     Monday and the Civic Holiday are days off of the federal public
//     service's collective agreements, not of the Code; add them as
//     closures where they apply.
//
// Observed days, only where a statute fixes them: Canada Day is 2 July when
// 1 July is a Sunday (Holidays Act, s. 2(2); every calendar); in Québec,
// 25 June is a day off when 24 June is a Sunday (Loi sur la fête nationale,
// art. 2); federally, New Year's Day, Canada Day, the National Day for
// Truth and Reconciliation, Remembrance Day, Christmas and Boxing Day that
// fall on a Saturday or Sunday give the next working day (Canada Labour
// Code, s. 193(2), which allows the day before or after: this package takes
// the day after, as the federal public service does). Ontario's Act and
// Québec's Loi sur les normes du travail give a substitute day per employee
// instead, with no fixed date, so those calendars have no other observed
// days.
//
// The rules are today's law applied to every year; a holiday created
// recently appears from its first year (Family Day 2008, National Day for
// Truth and Reconciliation 2021).
package holidays

import (
	"slices"
	"strings"
	"time"

	"github.com/pinward/pinward/i18n"
)

// Calendar names a built-in set of statutory holidays.
type Calendar string

// The built-in calendars.
const (
	Quebec  Calendar = "QC"
	Ontario Calendar = "ON"
	Federal Calendar = "federal"
)

// Calendars returns the built-in calendars.
func Calendars() []Calendar { return []Calendar{Quebec, Ontario, Federal} }

// ParseCalendar returns the calendar named s ("QC", "ON" or "federal",
// in any case).
func ParseCalendar(s string) (Calendar, bool) {
	for _, c := range Calendars() {
		if strings.EqualFold(s, string(c)) {
			return c, true
		}
	}
	return "", false
}

// Holiday is one day off of a calendar.
type Holiday struct {
	Date time.Time // the civil date, at midnight UTC
	Rule string    // the ID of the rule it comes from: "canada_day"
	Name i18n.Text
	// Observed marks a working day given in place of a holiday that fell on
	// a weekend; its Name says so in both languages.
	Observed bool
}

// DateString returns the date as YYYY-MM-DD.
func (h Holiday) DateString() string { return h.Date.Format(time.DateOnly) }

// Rule is how one holiday's date is found in a given year.
type Rule struct {
	ID    string
	Name  i18n.Text
	since int // first year it exists; 0: always
	date  func(year int) time.Time
}

// On returns the rule's date in year, and false for a year before the
// holiday existed.
func (r Rule) On(year int) (time.Time, bool) {
	if year < r.since {
		return time.Time{}, false
	}
	return r.date(year), true
}

var rules = []Rule{
	{ID: "new_years_day", Name: i18n.T("New Year's Day", "Jour de l'An"), date: fixed(time.January, 1)},
	{ID: "family_day", Name: i18n.T("Family Day", "Jour de la Famille"), since: 2008, date: nthMonday(time.February, 3)},
	{ID: "good_friday", Name: i18n.T("Good Friday", "Vendredi saint"), date: fromEaster(-2)},
	{ID: "easter_monday", Name: i18n.T("Easter Monday", "Lundi de Pâques"), date: fromEaster(1)},
	{ID: "victoria_day", Name: i18n.T("Victoria Day", "Fête de Victoria"), date: mondayBefore25May},
	{ID: "patriots_day", Name: i18n.T("National Patriots' Day", "Journée nationale des patriotes"), date: mondayBefore25May},
	{ID: "fete_nationale", Name: i18n.T("National Holiday (Fête nationale du Québec)", "Fête nationale du Québec"), date: fixed(time.June, 24)},
	{ID: "canada_day", Name: i18n.T("Canada Day", "Fête du Canada"), date: canadaDay},
	{ID: "civic_holiday", Name: i18n.T("Civic Holiday", "Congé civique"), date: nthMonday(time.August, 1)},
	{ID: "labour_day", Name: i18n.T("Labour Day", "Fête du Travail"), date: nthMonday(time.September, 1)},
	{ID: "truth_reconciliation", Name: i18n.T("National Day for Truth and Reconciliation", "Journée nationale de la vérité et de la réconciliation"),
		since: 2021, date: fixed(time.September, 30)},
	{ID: "thanksgiving", Name: i18n.T("Thanksgiving", "Action de grâces"), date: nthMonday(time.October, 2)},
	{ID: "remembrance_day", Name: i18n.T("Remembrance Day", "Jour du Souvenir"), date: fixed(time.November, 11)},
	{ID: "christmas_eve", Name: i18n.T("Christmas Eve", "Veille de Noël"), date: fixed(time.December, 24)},
	{ID: "christmas_day", Name: i18n.T("Christmas Day", "Jour de Noël"), date: fixed(time.December, 25)},
	{ID: "boxing_day", Name: i18n.T("Boxing Day", "Lendemain de Noël"), date: fixed(time.December, 26)},
	{ID: "new_years_eve", Name: i18n.T("New Year's Eve", "Veille du jour de l'An"), date: fixed(time.December, 31)},
}

// Rules returns every holiday rule the package knows, including days that
// are in no built-in calendar (Easter Monday, the Civic Holiday, Christmas
// Eve, New Year's Eve), for a municipality's closures.
func Rules() []Rule { return slices.Clone(rules) }

// LookupRule returns the rule with the given ID.
func LookupRule(id string) (Rule, bool) {
	i := slices.IndexFunc(rules, func(r Rule) bool { return r.ID == id })
	if i < 0 {
		return Rule{}, false
	}
	return rules[i], true
}

// entry is one holiday of a calendar; observed says whether a weekend date
// gives the next free weekday.
type entry struct {
	rule     string
	observed func(d time.Time) bool
}

// weekend is the federal rule (Canada Labour Code s. 193(2)).
func weekend(d time.Time) bool { return d.Weekday() == time.Saturday || d.Weekday() == time.Sunday }

// sunday is Québec's rule for the Fête nationale.
func sunday(d time.Time) bool { return d.Weekday() == time.Sunday }

var calendars = map[Calendar][]entry{
	Quebec: {
		{rule: "new_years_day"},
		{rule: "good_friday"},
		{rule: "patriots_day"},
		{rule: "fete_nationale", observed: sunday},
		{rule: "canada_day"},
		{rule: "labour_day"},
		{rule: "thanksgiving"},
		{rule: "christmas_day"},
	},
	Ontario: {
		{rule: "new_years_day"},
		{rule: "family_day"},
		{rule: "good_friday"},
		{rule: "victoria_day"},
		{rule: "canada_day"},
		{rule: "labour_day"},
		{rule: "thanksgiving"},
		{rule: "christmas_day"},
		{rule: "boxing_day"},
	},
	Federal: {
		{rule: "new_years_day", observed: weekend},
		{rule: "good_friday"},
		{rule: "victoria_day"},
		{rule: "canada_day", observed: weekend},
		{rule: "labour_day"},
		{rule: "truth_reconciliation", observed: weekend},
		{rule: "thanksgiving"},
		{rule: "remembrance_day", observed: weekend},
		{rule: "christmas_day", observed: weekend},
		{rule: "boxing_day", observed: weekend},
	},
}

var observedSuffix = i18n.T(" (observed)", " (congé reporté)")

// Year returns the calendar's holidays in year, in date order, each
// observed day right after its holiday. An unknown calendar has none.
func (c Calendar) Year(year int) []Holiday {
	var out []Holiday
	taken := map[time.Time]bool{}
	for _, e := range calendars[c] {
		r, _ := LookupRule(e.rule)
		d, ok := r.On(year)
		if !ok {
			continue
		}
		out = append(out, Holiday{Date: d, Rule: r.ID, Name: r.Name})
		taken[d] = true
	}
	// Observed days in date order, so Boxing Day on a Sunday after
	// Christmas on a Saturday moves past Christmas's Monday to Tuesday.
	slices.SortFunc(out, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	for _, h := range slices.Clone(out) {
		i := slices.IndexFunc(calendars[c], func(e entry) bool { return e.rule == h.Rule })
		if obs := calendars[c][i].observed; obs == nil || !obs(h.Date) {
			continue
		}
		d := h.Date
		for weekend(d) || taken[d] {
			d = d.AddDate(0, 0, 1)
		}
		taken[d] = true
		out = append(out, Holiday{Date: d, Rule: h.Rule, Observed: true,
			Name: i18n.T(h.Name.En+observedSuffix.En, h.Name.Fr+observedSuffix.Fr)})
	}
	slices.SortStableFunc(out, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return out
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func fixed(m time.Month, day int) func(int) time.Time {
	return func(y int) time.Time { return date(y, m, day) }
}

// nthMonday returns the n-th Monday of month m.
func nthMonday(m time.Month, n int) func(int) time.Time {
	return func(y int) time.Time {
		first := date(y, m, 1)
		offset := (int(time.Monday) - int(first.Weekday()) + 7) % 7
		return first.AddDate(0, 0, offset+7*(n-1))
	}
}

// mondayBefore25May is Victoria Day and the Journée nationale des
// patriotes: the last Monday before 25 May.
func mondayBefore25May(y int) time.Time {
	d := date(y, time.May, 24)
	return d.AddDate(0, 0, -((int(d.Weekday()) - int(time.Monday) + 7) % 7))
}

// canadaDay is 1 July, or 2 July when the 1st is a Sunday (Holidays Act).
func canadaDay(y int) time.Time {
	d := date(y, time.July, 1)
	if d.Weekday() == time.Sunday {
		return d.AddDate(0, 0, 1)
	}
	return d
}

func fromEaster(days int) func(int) time.Time {
	return func(y int) time.Time { return Easter(y).AddDate(0, 0, days) }
}

// Easter returns Easter Sunday of year in the Gregorian calendar (the
// anonymous Gregorian algorithm, also known as Meeus/Jones/Butcher).
func Easter(year int) time.Time {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return date(year, time.Month(month), day)
}
