package dedup

import "strings"

// CompareIDs orders report IDs, returning -1, 0 or +1. IDs made only of
// ASCII digits are integers: they sort numerically (without overflow, at
// any length) and before every other ID; other IDs sort bytewise. Two
// integers of equal value ("7", "007") fall back to bytewise order, so the
// order is total and only equal strings compare equal.
//
// Integers first (rather than mixing the two kinds) keeps the order
// transitive: "2" < "10" numerically but "10" < "1a" < "2" bytewise.
func CompareIDs(a, b string) int {
	ai, bi := isInteger(a), isInteger(b)
	switch {
	case ai && bi:
		ta, tb := strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(ta) != len(tb) {
			if len(ta) < len(tb) {
				return -1
			}
			return 1
		}
		if c := strings.Compare(ta, tb); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	case ai:
		return -1
	case bi:
		return 1
	}
	return strings.Compare(a, b)
}

func isInteger(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
