// Package addresses searches a municipality's civic addresses, loaded from
// a local file (CSV or GeoJSON points, as cities publish their open
// address points), so the resident page can find "1265 Walkley" without
// asking a geocoding service on the internet.
//
// A search is a few words; an address matches when every word begins one
// of its words, accents and case aside ("1265 walk" finds "1265 Walkley
// Rd", "chemin ste" finds "Chemin Sainte-Élisabeth"). Results put whole-word
// matches first, then shorter addresses.
package addresses

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Address is one civic address and where it is.
type Address struct {
	Label string  `json:"label"`
	Lon   float64 `json:"long"`
	Lat   float64 `json:"lat"`
}

// Index is a set of addresses to search; safe for concurrent searches.
type Index struct {
	addrs []Address
	words []string  // every distinct word, sorted
	post  [][]int32 // post[i]: the addresses having words[i]
}

// MaxQuery is the longest query, in bytes, Search looks at.
const MaxQuery = 200

// New indexes addrs; equal labels are kept once (the first).
func New(addrs []Address) *Index {
	ix := &Index{}
	seen := map[string]bool{}
	byWord := map[string][]int32{}
	for _, a := range addrs {
		if a.Label == "" || seen[a.Label] {
			continue
		}
		seen[a.Label] = true
		n := int32(len(ix.addrs))
		ix.addrs = append(ix.addrs, a)
		for _, w := range dedupe(words(a.Label)) {
			byWord[w] = append(byWord[w], n)
		}
	}
	for w := range byWord {
		ix.words = append(ix.words, w)
	}
	slices.Sort(ix.words)
	ix.post = make([][]int32, len(ix.words))
	for i, w := range ix.words {
		ix.post[i] = byWord[w]
	}
	return ix
}

// Len is the number of addresses.
func (ix *Index) Len() int { return len(ix.addrs) }

// Search returns up to limit addresses matching q, best first.
func (ix *Index) Search(q string, limit int) []Address {
	if len(q) > MaxQuery {
		q = q[:MaxQuery]
	}
	qw := dedupe(words(q))
	if len(qw) == 0 || limit <= 0 {
		return nil
	}
	// Start from the word with the fewest addresses, check the others.
	var seed []int32
	best := -1
	for _, w := range qw {
		lo, hi := ix.prefixRange(w)
		n := 0
		for i := lo; i < hi; i++ {
			n += len(ix.post[i])
		}
		if best < 0 || n < best {
			best = n
			seed = seed[:0]
			for i := lo; i < hi; i++ {
				seed = append(seed, ix.post[i]...)
			}
		}
		if n == 0 {
			return nil
		}
	}
	slices.Sort(seed)
	seed = slices.Compact(seed)
	type hit struct {
		a     Address
		exact int
	}
	var hits []hit
	for _, n := range seed {
		a := ix.addrs[n]
		aw := words(a.Label)
		exact, ok := 0, true
		for _, w := range qw {
			found := false
			for _, x := range aw {
				if x == w {
					exact++
					found = true
					break
				}
			}
			if !found && !slices.ContainsFunc(aw, func(x string) bool { return strings.HasPrefix(x, w) }) {
				ok = false
				break
			}
		}
		if ok {
			hits = append(hits, hit{a, exact})
		}
	}
	slices.SortFunc(hits, func(x, y hit) int {
		return cmp.Or(cmp.Compare(y.exact, x.exact), cmp.Compare(len(x.a.Label), len(y.a.Label)), strings.Compare(x.a.Label, y.a.Label))
	})
	out := make([]Address, 0, min(limit, len(hits)))
	for _, h := range hits[:min(limit, len(hits))] {
		out = append(out, h.a)
	}
	return out
}

// prefixRange is the range of ix.words beginning with w.
func (ix *Index) prefixRange(w string) (int, int) {
	lo, _ := slices.BinarySearch(ix.words, w)
	hi := lo
	for hi < len(ix.words) && strings.HasPrefix(ix.words[hi], w) {
		hi++
	}
	return lo, hi
}

// folds hands out accent-removing transformers: one keeps state while it
// runs, so concurrent searches each take their own.
var folds = sync.Pool{New: func() any { return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC) }}

// words splits s into lower-case words without accents; anything but
// letters and digits separates them.
func words(s string) []string {
	fold := folds.Get().(transform.Transformer)
	t, _, err := transform.String(fold, s)
	folds.Put(fold)
	if err != nil {
		t = s
	}
	return strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func dedupe(w []string) []string {
	slices.Sort(w)
	return slices.Compact(w)
}
