package main

import (
	"fmt"
	"io"
	"time"
)

// progress reports a long job's advance on stderr at most every interval,
// so an operator importing a city sees it move without drowning in lines.
type progress struct {
	w        io.Writer
	label    string
	start    time.Time
	last     time.Time
	interval time.Duration
}

func newProgress(w io.Writer, label string) *progress {
	now := time.Now()
	return &progress{w: w, label: label, start: now, last: now, interval: 2 * time.Second}
}

// tick reports n items done when the interval has passed.
func (p *progress) tick(n int) {
	if n%1024 != 0 {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < p.interval {
		return
	}
	p.last = now
	el := now.Sub(p.start).Seconds()
	fmt.Fprintf(p.w, "%s: %d done (%.0f/s)\n", p.label, n, float64(n)/el)
}
