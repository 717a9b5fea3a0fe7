package dedup

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// Rule says when two reports of a category are the same problem.
type Rule struct {
	// Distance is how far apart, in metres, two reports may lie.
	Distance float64
	// Window is how far apart in time two reports may be created; 0 means
	// no limit.
	Window time.Duration
	// SameAsset links two reports naming the same asset (a streetlight, a
	// hydrant) at any distance, within the window.
	SameAsset bool
	// Equivalent lists categories that are the same problem under another
	// name ("pothole" and "road_damage"): all of them form one partition and
	// must share Distance, Window and SameAsset.
	Equivalent []string
}

// Rules holds the rule of each category; categories without an entry use
// Default.
type Rules struct {
	Default    Rule
	Categories map[string]Rule
}

// DefaultRule is what a category gets without tuning:
//   - 30 m: a phone fix in a street canyon is off by 5–20 m, and residents
//     drop the pin on their side of a street 15–25 m wide; wider radii start
//     joining the neighbour's separate pothole.
//   - 14 days: about the repair time a works department commits to for
//     potholes and streetlights; a report after that is more likely a new
//     defect or a failed repair, which deserves its own ticket.
//   - same asset: two residents naming the same streetlight mean the same
//     lamp, wherever on the block they stood.
func DefaultRule() Rule {
	return Rule{Distance: 30, Window: 14 * 24 * time.Hour, SameAsset: true}
}

// Ruleset is Rules checked and with equivalence classes resolved.
type Ruleset struct {
	def  Rule
	part map[string]string // category → partition key
	rule map[string]Rule   // partition key → rule
}

// Compile checks the rules: finite non-negative distances and windows, and
// one rule per equivalence class. The partition key of a class is its
// bytewise-smallest category name.
func (rs Rules) Compile() (*Ruleset, error) {
	var errs []error
	check := func(name string, r Rule) {
		if math.IsNaN(r.Distance) || math.IsInf(r.Distance, 0) || r.Distance < 0 {
			errs = append(errs, fmt.Errorf("rule %s: distance %g m: need a finite number ≥ 0", name, r.Distance))
		}
		if r.Window < 0 {
			errs = append(errs, fmt.Errorf("rule %s: window %v: need ≥ 0 (0 = no limit)", name, r.Window))
		}
	}
	check("default", rs.Default)
	if len(rs.Default.Equivalent) > 0 {
		errs = append(errs, errors.New("rule default: Equivalent must be empty (it would make every category one)"))
	}

	// Union the categories each rule names; iterate in sorted order so
	// errors and keys never depend on map order.
	parent := map[string]string{}
	var find func(string) string
	find = func(c string) string {
		p, ok := parent[c]
		if !ok || p == c {
			parent[c] = c
			return c
		}
		r := find(p)
		parent[c] = r
		return r
	}
	union := func(a, b string) {
		ra, rb := find(a), find(b)
		if ra == rb {
			return
		}
		if rb < ra {
			ra, rb = rb, ra
		}
		parent[rb] = ra // the smaller name stays root: it is the key
	}
	names := slices.Sorted(maps.Keys(rs.Categories))
	for _, c := range names {
		r := rs.Categories[c]
		check(fmt.Sprintf("%q", c), r)
		find(c)
		for _, e := range r.Equivalent {
			union(c, e)
		}
	}

	s := &Ruleset{def: rs.Default, part: map[string]string{}, rule: map[string]Rule{}}
	s.def.Equivalent = nil
	owner := map[string]string{} // key → category whose rule the class took
	for _, c := range slices.Sorted(maps.Keys(parent)) {
		key := find(c)
		s.part[c] = key
		r, ok := rs.Categories[c]
		if !ok {
			continue
		}
		r.Equivalent = nil
		if prev, seen := owner[key]; seen {
			if p := s.rule[key]; p.Distance != r.Distance || p.Window != r.Window || p.SameAsset != r.SameAsset {
				errs = append(errs, fmt.Errorf("categories %q and %q are equivalent but have different rules (%s vs %s)",
					prev, c, describe(p), describe(r)))
			}
			continue
		}
		owner[key] = c
		s.rule[key] = r
	}
	// A class made only of names listed as Equivalent takes the default.
	for _, key := range s.part {
		if _, ok := s.rule[key]; !ok {
			s.rule[key] = s.def
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("invalid dedup rules: %w", err)
	}
	return s, nil
}

func describe(r Rule) string {
	return fmt.Sprintf("%g m, window %v, same asset %v", r.Distance, r.Window, r.SameAsset)
}

// Partition returns the partition key of category: the smallest name of its
// equivalence class, or the category itself when it has none.
func (s *Ruleset) Partition(category string) string {
	if k, ok := s.part[category]; ok {
		return k
	}
	return category
}

// Rule returns the rule that applies to category.
func (s *Ruleset) Rule(category string) Rule {
	if r, ok := s.rule[s.Partition(category)]; ok {
		return r
	}
	return s.def
}
