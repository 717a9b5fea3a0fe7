// Package text holds small text helpers shared by packages that quote
// input back in messages. It imports no other pinward package.
package text

import "unicode/utf8"

// Clip shortens s to at most max runes followed by "…", so a value quoted
// back in a message (a bad cell, a wrong field name) cannot flood it. It
// never cuts a UTF-8 sequence: "Montréal" clipped anywhere stays valid
// text. Invalid bytes in s count as one rune each.
func Clip(s string, max int) string {
	if len(s) <= max || utf8.RuneCountInString(s) <= max {
		return s
	}
	i := 0
	for n := 0; n < max; n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + "…"
}

// Quote lengths used across pinward.
const (
	// Short is for a value quoted in an error body (an ID, a type, a field).
	Short = 40
	// Cell is for a CSV or GeoJSON value quoted in an import report.
	Cell = 60
	// Reply is for a remote system's answer quoted in a log or an error.
	Reply = 200
)
