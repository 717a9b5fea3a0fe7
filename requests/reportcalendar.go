package requests

import (
	"sort"
	"time"
)

// WorkCalendar is the catalog's working time laid out day by day over a
// span, so that a store can count working time inside its report query
// rather than request by request in Go. Working time is piecewise linear:
// the working seconds from the span's first midnight to an instant t are
//
//	Cum[i] + min(max(t - Opens[i], 0), Lens[i])
//
// where i is t's day (the last i with Starts[i] <= t; 0 before the span).
// The working time between two instants is the difference of their
// values, and time waiting on the resident comes off the same way, so a
// request's business hours to close are one expression over its row and
// its events. All times are Unix seconds (float64 keeps microseconds at
// today's magnitudes).
type WorkCalendar struct {
	Starts []float64 // local midnight of each day, ascending
	Opens  []float64 // when each day's working hours begin
	Lens   []float64 // how long they last: 0 on a weekend, holiday or closure
	Cum    []float64 // working seconds from Starts[0] to Starts[i]
}

// maxCalendarDays bounds a calendar (a century), so a wild period cannot
// build an array the size of memory.
const maxCalendarDays = 100 * 366

// WorkCalendar lays out the catalog's working time (business hours,
// statutory holidays, closures) from the local day of from through the
// local day of to, as the SLA clock counts it (see WorkingTime).
func (c *Catalog) WorkCalendar(from, to time.Time) *WorkCalendar {
	if to.Before(from) {
		to = from
	}
	f := from.In(c.loc)
	y, m, d := f.Date()
	w := &WorkCalendar{}
	var cum float64
	for i := 0; i < maxCalendarDays; i++ {
		start := time.Date(y, m, d+i, 0, 0, 0, 0, c.loc)
		if i > 0 && start.After(to) {
			break
		}
		dy, dm, dd := start.Date()
		open, closing, ok := c.window(dy, dm, dd)
		w.Starts = append(w.Starts, unixSeconds(start))
		w.Cum = append(w.Cum, cum)
		if ok {
			l := closing.Sub(open).Seconds()
			w.Opens, w.Lens = append(w.Opens, unixSeconds(open)), append(w.Lens, l)
			cum += l
		} else {
			w.Opens, w.Lens = append(w.Opens, unixSeconds(start)), append(w.Lens, 0)
		}
	}
	return w
}

// Seconds returns the working seconds from the calendar's first midnight
// to t (see WorkCalendar), as the stores compute them.
func (w *WorkCalendar) Seconds(t time.Time) float64 {
	x := unixSeconds(t)
	i := sort.Search(len(w.Starts), func(i int) bool { return w.Starts[i] > x }) - 1
	if i < 0 {
		if len(w.Starts) == 0 {
			return 0
		}
		i = 0
	}
	return w.Cum[i] + min(max(x-w.Opens[i], 0), w.Lens[i])
}

// unixSeconds is t as Unix seconds with its microseconds.
func unixSeconds(t time.Time) float64 {
	return float64(t.UnixMicro()) / 1e6
}
