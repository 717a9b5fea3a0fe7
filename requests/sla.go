package requests

import (
	"fmt"
	"time"

	"github.com/pinward/pinward/i18n"
)

// businessHours is the municipality's working week: open to close (minutes
// after midnight, local time) on the days marked.
type businessHours struct {
	open, close int
	days        [7]bool // indexed by time.Weekday
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// build checks the config's business_hours; nil gives the default working
// week of a Canadian city hall, Monday to Friday 08:30–16:30.
func (h *hoursFile) build() (businessHours, error) {
	b := businessHours{open: 8*60 + 30, close: 16*60 + 30}
	for d := time.Monday; d <= time.Friday; d++ {
		b.days[d] = true
	}
	if h == nil {
		return b, nil
	}
	var err error
	if h.Open != "" {
		if b.open, err = clockMinutes("business_hours.open", h.Open); err != nil {
			return b, err
		}
	}
	if h.Close != "" {
		if b.close, err = clockMinutes("business_hours.close", h.Close); err != nil {
			return b, err
		}
	}
	if b.close <= b.open {
		return b, cfgErr("business_hours.close", i18n.T("must be later than open", "doit être après l'ouverture"))
	}
	if h.Days != nil {
		if len(h.Days) == 0 {
			return b, cfgErr("business_hours.days", i18n.T("needs at least one working day", "doit compter au moins un jour ouvrable"))
		}
		b.days = [7]bool{}
		for i, name := range h.Days {
			d, ok := dayNames[name]
			if !ok {
				return b, cfgErr(fmt.Sprintf("business_hours.days[%d]", i),
					i18n.T("%q is not a day (mon, tue, wed, thu, fri, sat, sun)", "%q n'est pas un jour (mon, tue, wed, thu, fri, sat, sun)"), name)
			}
			b.days[d] = true
		}
	}
	return b, nil
}

func clockMinutes(field, s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, cfgErr(field, i18n.T("must be a time of day HH:MM, not %q", "doit être une heure HH:MM, et non %q"), s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// addBusiness returns the instant d of working time after at. Each day's
// opening and closing are built from the local date, so a day with a
// daylight-saving change still has its full working hours.
func (c *Catalog) addBusiness(at time.Time, d time.Duration) time.Time {
	t := at.In(c.loc)
	// Bounded so a calendar with every day a holiday cannot loop forever;
	// the longest SLA fits in far fewer days.
	for range 20 * 366 {
		y, m, day := t.Date()
		if c.hours.days[t.Weekday()] && !c.holidays[t.Format(time.DateOnly)] {
			open := time.Date(y, m, day, c.hours.open/60, c.hours.open%60, 0, 0, c.loc)
			end := time.Date(y, m, day, c.hours.close/60, c.hours.close%60, 0, 0, c.loc)
			if t.Before(open) {
				t = open
			}
			if t.Before(end) {
				left := end.Sub(t)
				if d <= left {
					return t.Add(d)
				}
				d -= left
			}
		}
		t = time.Date(y, m, day+1, 0, 0, 0, 0, c.loc)
	}
	return time.Time{}
}
