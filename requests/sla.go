package requests

import (
	"fmt"
	"slices"
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

// Pause is a stretch during which a request's SLA clock stands still:
// the request waits on the resident. A zero End means it still waits.
type Pause struct {
	Start, End time.Time
}

// forever stands for the end of a pause that has not ended.
var forever = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// SLATarget returns the SLA of category code: its length, and whether it
// counts working time (else elapsed time). ok is false when the category
// is unknown or has no SLA.
func (c *Catalog) SLATarget(code string) (d time.Duration, business, ok bool) {
	cat, found := c.Category(code)
	if !found || cat.SLA.Hours <= 0 {
		return 0, false, false
	}
	return time.Duration(cat.SLA.Hours * float64(time.Hour)), cat.SLA.BusinessHours, true
}

// DueAtPaused returns when a request of category code submitted at at is
// due, in UTC, when its clock stood still during pauses (see DueAt for how
// working time counts; a pause stops calendar SLAs too). It returns zero
// when the category has no SLA and while a pause that the due time would
// fall after is still open: the due time is not known until the clock
// resumes.
func (c *Catalog) DueAtPaused(code string, at time.Time, pauses []Pause) time.Time {
	d, business, ok := c.SLATarget(code)
	if !ok {
		return time.Time{}
	}
	return c.add(at, d, business, pauses).UTC()
}

// SLAElapsed returns how much of category code's SLA ran between at (the
// request's submission) and now: working time for a business-hour SLA,
// elapsed time otherwise, less the pauses. The SLA target (SLATarget) less
// this is the time remaining; a negative remainder is how far overdue the
// request is, in the SLA's own units. Zero when the category has no SLA.
func (c *Catalog) SLAElapsed(code string, at, now time.Time, pauses []Pause) time.Duration {
	_, business, ok := c.SLATarget(code)
	if !ok {
		return 0
	}
	return c.between(at, now, business, pauses)
}

// AddWorkingTime returns the instant d of working time after at, skipping
// nights, weekends, holidays, closures and pauses; zero if an open pause
// stops the clock first. Escalation uses it for "business days past due"
// (a business day is WorkingDay long).
func (c *Catalog) AddWorkingTime(at time.Time, d time.Duration, pauses []Pause) time.Time {
	return c.add(at, d, true, pauses).UTC()
}

// WorkingTime returns the working time between from and to, less pauses.
func (c *Catalog) WorkingTime(from, to time.Time, pauses []Pause) time.Duration {
	return c.between(from, to, true, pauses)
}

// WorkingDay returns the length of one working day (close less open).
func (c *Catalog) WorkingDay() time.Duration {
	return time.Duration(c.hours.close-c.hours.open) * time.Minute
}

// window returns the working hours of the local date y-m-d, or false on a
// day the municipality is closed. Opening and closing are built from the
// local date, so a day with a daylight-saving change still has its full
// working hours.
func (c *Catalog) window(y int, m time.Month, d int) (open, end time.Time, ok bool) {
	day := time.Date(y, m, d, 12, 0, 0, 0, c.loc)
	if !c.hours.days[day.Weekday()] || c.days.off(y, m, d) {
		return time.Time{}, time.Time{}, false
	}
	open = time.Date(y, m, d, c.hours.open/60, c.hours.open%60, 0, 0, c.loc)
	end = time.Date(y, m, d, c.hours.close/60, c.hours.close%60, 0, 0, c.loc)
	return open, end, true
}

// normPauses returns the pauses sorted and merged, open ones ending at
// forever, empty ones dropped.
func normPauses(pauses []Pause) []Pause {
	var ps []Pause
	for _, p := range pauses {
		if p.End.IsZero() {
			p.End = forever
		}
		if p.End.After(p.Start) {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b Pause) int { return a.Start.Compare(b.Start) })
	var out []Pause
	for _, p := range ps {
		if n := len(out); n > 0 && !p.Start.After(out[n-1].End) {
			if p.End.After(out[n-1].End) {
				out[n-1].End = p.End
			}
			continue
		}
		out = append(out, p)
	}
	return out
}

// add returns the instant d of counted time after at: working time when
// business is set, elapsed time otherwise, with the clock stopped during
// pauses. Zero when an open pause stops the clock before d has run.
func (c *Catalog) add(at time.Time, d time.Duration, business bool, pauses []Pause) time.Time {
	ps := normPauses(pauses)
	t := at.In(c.loc)
	// Bounded so a calendar with every day off cannot loop forever; the
	// longest SLA fits in far fewer days.
	for range 20 * 366 {
		end := forever
		if business {
			y, m, day := t.Date()
			open, closing, ok := c.window(y, m, day)
			if !ok || !t.Before(closing) {
				t = time.Date(y, m, day+1, 0, 0, 0, 0, c.loc)
				continue
			}
			if t.Before(open) {
				t = open
			}
			end = closing
		}
		// Run the clock from t to end, around the pauses.
		for t.Before(end) {
			i := slices.IndexFunc(ps, func(p Pause) bool { return p.End.After(t) })
			stop := end
			if i >= 0 {
				if !ps[i].Start.After(t) { // paused now
					if ps[i].End.Equal(forever) {
						return time.Time{}
					}
					t = ps[i].End.In(c.loc)
					continue
				}
				if ps[i].Start.Before(stop) {
					stop = ps[i].Start
				}
			}
			left := stop.Sub(t)
			if d <= left {
				return t.Add(d)
			}
			d -= left
			t = stop
		}
	}
	return time.Time{}
}

// between returns the counted time in [from, to): working time when
// business is set, elapsed time otherwise, less pauses.
func (c *Catalog) between(from, to time.Time, business bool, pauses []Pause) time.Duration {
	if !to.After(from) {
		return 0
	}
	ps := normPauses(pauses)
	count := func(s, e time.Time) time.Duration {
		total := e.Sub(s)
		for _, p := range ps {
			if p.End.After(s) && p.Start.Before(e) {
				total -= minTime(p.End, e).Sub(maxTime(p.Start, s))
			}
		}
		return total
	}
	if !business {
		return count(from, to)
	}
	var total time.Duration
	start := from.In(c.loc)
	for day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, c.loc); day.Before(to); {
		y, m, d := day.Date()
		if open, closing, ok := c.window(y, m, d); ok {
			if s, e := maxTime(open, from), minTime(closing, to); s.Before(e) {
				total += count(s, e)
			}
		}
		day = time.Date(y, m, d+1, 0, 0, 0, 0, c.loc)
	}
	return total
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
