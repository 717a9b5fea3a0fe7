//go:build !linux

package assets_test

import "testing"

// cpuLoop runs body b.N times; thread CPU time is measured on Linux only.
func cpuLoop(b *testing.B, body func(i int)) {
	i := 0
	for b.Loop() {
		body(i)
		i++
	}
}
