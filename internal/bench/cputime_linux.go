package bench

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time the calling OS thread has used (the caller
// locks its goroutine to the thread). On a machine shared with other work a
// single-core figure in CPU time is the bench's own cost; wall time is shown
// beside it.
func threadCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
