//go:build !race

package histimport_test

const raceEnabled = false
