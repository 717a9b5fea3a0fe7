package cli

import (
	"fmt"
	"io"
	"time"
)

// Progress reports a long job's advance on stderr at most every interval,
// so an operator importing a city sees it move without drowning in lines.
type Progress struct {
	w        io.Writer
	label    string
	Start    time.Time // when the job began
	last     time.Time
	interval time.Duration
}

// NewProgress starts a report labelled label on w.
func NewProgress(w io.Writer, label string) *Progress {
	now := time.Now()
	return &Progress{w: w, label: label, Start: now, last: now, interval: 2 * time.Second}
}

// Tick reports n items done when the interval has passed.
func (p *Progress) Tick(n int) {
	if n%1024 != 0 {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < p.interval {
		return
	}
	p.last = now
	el := now.Sub(p.Start).Seconds()
	fmt.Fprintf(p.w, "%s: %d done (%.0f/s)\n", p.label, n, float64(n)/el)
}

// BadRows reports the skipped rows of an input file on W, one line each
// up to Max (so a wrong file does not bury the summary), and counts them
// all in N.
type BadRows struct {
	W   io.Writer
	Max int
	N   int
}

// Skip reports bad row line.
func (b *BadRows) Skip(line int, err error) {
	b.N++
	if b.N <= b.Max {
		fmt.Fprintf(b.W, "line %d: %v (skipped)\n", line, err)
	} else if b.N == b.Max+1 {
		fmt.Fprintf(b.W, "further bad rows are not shown; the summary counts them\n")
	}
}
