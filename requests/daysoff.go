package requests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pinward/pinward/holidays"
	"github.com/pinward/pinward/i18n"
)

// daysOff is the municipality's calendar of days the SLA clock skips: a
// statutory calendar computed by rule plus its own closures.
type daysOff struct {
	calendar holidays.Calendar // "" when the catalog names none
	dates    map[string]bool   // closures on one date, "2006-01-02"
	rules    []holidays.Rule   // closures every year (easter_monday)
	years    sync.Map          // year → map[string]bool, built on first use
}

// closureName names a closure given as a date.
var closureName = i18n.T("Municipal closure", "Fermeture municipale")

// daysOff reads "holidays" and "closures".
func (f *catalogFile) daysOff() (*daysOff, error) {
	d := &daysOff{dates: map[string]bool{}}
	raw := bytes.TrimSpace(f.Holidays)
	switch {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] == '"':
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			return nil, cfgErr("holidays", i18n.T("is not a valid string: %v", "n'est pas une chaîne valide : %v"), err)
		}
		cal, ok := holidays.ParseCalendar(name)
		if !ok {
			return nil, cfgErr("holidays",
				i18n.T("%q is not a built-in holiday calendar (QC, ON or federal)", "%q n'est pas un calendrier de jours fériés connu (QC, ON ou federal)"), name)
		}
		d.calendar = cal
	case raw[0] == '[':
		// The older form: a list of dates, read as closures.
		var dates []string
		if err := json.Unmarshal(raw, &dates); err != nil {
			return nil, cfgErr("holidays", i18n.T("must be QC, ON, federal or a list of dates", "doit être QC, ON, federal ou une liste de dates"))
		}
		for i, s := range dates {
			if _, err := time.Parse(time.DateOnly, s); err != nil {
				return nil, cfgErr(fmt.Sprintf("holidays[%d]", i),
					i18n.T("must be a date YYYY-MM-DD, not %q", "doit être une date AAAA-MM-JJ, et non %q"), s)
			}
			d.dates[s] = true
		}
	default:
		return nil, cfgErr("holidays", i18n.T("must be QC, ON or federal", "doit être QC, ON ou federal"))
	}
	var ids []string
	for _, r := range holidays.Rules() {
		ids = append(ids, r.ID)
	}
	for i, s := range f.Closures {
		field := fmt.Sprintf("closures[%d]", i)
		if r, ok := holidays.LookupRule(s); ok {
			if slices.ContainsFunc(d.rules, func(x holidays.Rule) bool { return x.ID == r.ID }) {
				return nil, cfgErr(field, msgDuplicate, s)
			}
			d.rules = append(d.rules, r)
			continue
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, cfgErr(field,
				i18n.T("must be a date YYYY-MM-DD or a holiday (%s), not %q", "doit être une date AAAA-MM-JJ ou un jour férié (%s), et non %q"),
				strings.Join(ids, ", "), s)
		}
		d.dates[s] = true
	}
	return d, nil
}

// list returns the days off of year in date order: the calendar's
// holidays (with their observed days), then closures on other dates.
func (d *daysOff) list(year int) []holidays.Holiday {
	out := d.calendar.Year(year)
	seen := map[time.Time]bool{}
	for _, h := range out {
		seen[h.Date] = true
	}
	add := func(h holidays.Holiday) {
		if !seen[h.Date] {
			seen[h.Date] = true
			out = append(out, h)
		}
	}
	for _, r := range d.rules {
		if day, ok := r.On(year); ok {
			add(holidays.Holiday{Date: day, Rule: r.ID, Name: r.Name})
		}
	}
	prefix := fmt.Sprintf("%04d-", year)
	for s := range d.dates {
		if strings.HasPrefix(s, prefix) {
			day, _ := time.Parse(time.DateOnly, s)
			add(holidays.Holiday{Date: day, Rule: "closure", Name: closureName})
		}
	}
	slices.SortStableFunc(out, func(a, b holidays.Holiday) int { return a.Date.Compare(b.Date) })
	return out
}

// off reports whether the local date y-m-d is a day off.
func (d *daysOff) off(y int, m time.Month, day int) bool {
	key := fmt.Sprintf("%04d-%02d-%02d", y, m, day)
	if d.dates[key] {
		return true
	}
	set, ok := d.years.Load(y)
	if !ok {
		s := map[string]bool{}
		for _, h := range d.list(y) {
			s[h.DateString()] = true
		}
		set, _ = d.years.LoadOrStore(y, s)
	}
	return set.(map[string]bool)[key]
}

// HolidayCalendar returns the statutory calendar the catalog names ("QC",
// "ON", "federal"), or "" for none.
func (c *Catalog) HolidayCalendar() holidays.Calendar { return c.days.calendar }

// DaysOff returns the municipality's days off in year, in date order: its
// statutory holidays and observed days, then its closures (a closure given
// as a date is named "Municipal closure").
func (c *Catalog) DaysOff(year int) []holidays.Holiday { return c.days.list(year) }

// ClosedOn reports whether at falls on a day off (a holiday or closure) in
// the municipality's time zone.
func (c *Catalog) ClosedOn(at time.Time) bool {
	y, m, d := at.In(c.loc).Date()
	return c.days.off(y, m, d)
}
