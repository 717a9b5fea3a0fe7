package dedup

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRulesCompile(t *testing.T) {
	rs, err := Rules{
		Default: DefaultRule(),
		Categories: map[string]Rule{
			"road_damage": {Distance: 40, Window: time.Hour, Equivalent: []string{"pothole"}},
			"pothole":     {Distance: 40, Window: time.Hour},
			"asphalt":     {Distance: 40, Window: time.Hour, Equivalent: []string{"road_damage", "crack"}},
		},
	}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"pothole", "road_damage", "asphalt", "crack"} {
		if k := rs.Partition(c); k != "asphalt" {
			t.Errorf("Partition(%q) = %q, want asphalt", c, k)
		}
		if r := rs.Rule(c); r.Distance != 40 {
			t.Errorf("Rule(%q) = %+v, want the class rule", c, r)
		}
	}
	if k, r := rs.Partition("graffiti"), rs.Rule("graffiti"); k != "graffiti" || r.Distance != 30 {
		t.Errorf("unknown category: %q %+v, want its own partition and the default", k, r)
	}
}

func TestRulesCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		rules Rules
		want  string
	}{
		{Rules{Default: Rule{Distance: math.NaN()}}, "rule default: distance NaN m"},
		{Rules{Default: Rule{Distance: 1, Window: -time.Hour}}, "window -1h0m0s"},
		{Rules{Default: Rule{Equivalent: []string{"a"}}}, "Equivalent must be empty"},
		{Rules{Categories: map[string]Rule{"a": {Distance: -1}}}, `rule "a": distance -1 m`},
		{Rules{Categories: map[string]Rule{
			"pothole":     {Distance: 30, Equivalent: []string{"road_damage"}},
			"road_damage": {Distance: 50},
		}}, `categories "pothole" and "road_damage" are equivalent but have different rules`},
	} {
		_, err := tc.rules.Compile()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Compile(%+v): err = %v, want %q", tc.rules, err, tc.want)
		}
	}
}

func TestCompareIDs(t *testing.T) {
	sorted := []string{"0", "00", "01", "1", "2", "9", "0010", "10", "99", "100",
		"18446744073709551616", "99999999999999999999999", "", "-1", "1-1523590121", "10a", "1a", "2a", "A", "SR-1", "a"}
	got := slices.Clone(sorted)
	rand.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
	slices.SortFunc(got, CompareIDs)
	if !slices.Equal(got, sorted) {
		t.Errorf("sorted: %q\nwant:   %q", got, sorted)
	}
	// A total order: antisymmetric and transitive on every triple.
	for _, a := range sorted {
		for _, b := range sorted {
			if CompareIDs(a, b) != -CompareIDs(b, a) || (CompareIDs(a, b) == 0) != (a == b) {
				t.Fatalf("CompareIDs(%q, %q) not antisymmetric", a, b)
			}
			for _, c := range sorted {
				if CompareIDs(a, b) < 0 && CompareIDs(b, c) < 0 && CompareIDs(a, c) >= 0 {
					t.Fatalf("not transitive: %q < %q < %q", a, b, c)
				}
			}
		}
	}
}
