//go:build race

package dedup

func init() { raceEnabled = true }
