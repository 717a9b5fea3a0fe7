package dedup

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
)

func TestClusterMatchesBruteForce(t *testing.T) {
	pj := geo.NewProjection(testOrigin)
	n := 2000
	if testing.Short() || raceEnabled {
		n = 600 // the race detector makes the O(n²) reference crawl
	}
	for seed := range uint64(2) {
		reports := randomReports(rand.New(rand.NewPCG(seed, 7)), n)
		for _, eps := range []float64{0, 0.5, 5, 30, 120} {
			for _, window := range []time.Duration{0, 3 * 24 * time.Hour, 12 * time.Hour} {
				for _, same := range []bool{false, true} {
					name := fmt.Sprintf("seed%d/eps%g/window%v/asset%v", seed, eps, window, same)
					t.Run(name, func(t *testing.T) {
						rules := testRules(eps, window, same)
						got, err := ClusterIn(reports, rules, pj)
						if err != nil {
							t.Fatal(err)
						}
						want := bruteForce(reports, rules, pj)
						if d := diff(got, want); d != "" {
							t.Fatal(d)
						}
						// The data must exercise merging, not only singletons.
						if c := clusterCount(got); eps == 30 && (c < n/20 || c > n*97/100) {
							t.Fatalf("%d clusters of %d reports: the test data is not clumpy enough", c, n)
						}
					})
				}
			}
		}
	}
}

// TestClusterEpsBoundary puts points on a lattice whose spacing is the
// distance itself, so many pairs sit at eps to within rounding: the grid
// path must decide each exactly as the pairwise definition does.
func TestClusterEpsBoundary(t *testing.T) {
	pj := geo.NewProjection(orb.Point{-118.3, 34.05})
	for _, eps := range []float64{1, 7.5, 30, 50} {
		var reports []Report
		for i := range 40 {
			for j := range 40 {
				m := orb.Point{float64(i)*eps - 700, float64(j)*eps*0.999999 + 300}
				if (i+j)%7 == 0 {
					m[0] += eps * 1e-9 // just past eps from a neighbour
				}
				reports = append(reports, Report{ID: fmt.Sprint(len(reports) + 1), Point: pj.ToLonLat(m)})
			}
		}
		rules := Rules{Default: Rule{Distance: eps}}
		got, err := ClusterIn(reports, rules, pj)
		if err != nil {
			t.Fatal(err)
		}
		if d := diff(got, bruteForce(reports, rules, pj)); d != "" {
			t.Fatalf("eps %g: %s", eps, d)
		}
	}
}

// TestClusterEpsBoundaryPairs places small clumps in isolated pairs, the
// gap between the two clumps of a pair just under, at or just over eps in
// a random direction: each pair's fate hangs on one comparison at the
// boundary, which the grid's shortcuts (whole cells and boxes linked or
// ruled out at once) must decide exactly as the pairwise definition does.
func TestClusterEpsBoundaryPairs(t *testing.T) {
	pj := geo.NewProjection(orb.Point{-73.6, 45.5})
	rng := rand.New(rand.NewPCG(3, 3))
	rel := []float64{-1e-3, -1e-6, -1e-12, 0, 1e-12, 1e-6, 5e-4, 5e-3, 0.03}
	for _, eps := range []float64{1, 12.5, 50} {
		var reports []Report
		add := func(m orb.Point) {
			reports = append(reports, Report{ID: fmt.Sprint(len(reports) + 1), Point: pj.ToLonLat(m)})
		}
		for i := range 800 {
			// Pairs 20 eps apart on a coarse lattice never touch each other.
			c := orb.Point{float64(i%30)*20*eps + rng.Float64(), float64(i/30)*20*eps + rng.Float64()}
			th := 2 * math.Pi * rng.Float64()
			u := orb.Point{math.Cos(th), math.Sin(th)}
			d := eps * (1 + rel[rng.IntN(len(rel))])
			if i%3 == 0 {
				// A T along an axis: two points side by side, one ahead at d
				// from both. The boxes' gap is under eps and their far
				// corners are the points themselves, so the box shortcuts
				// decide at exactly d.
				u = orb.Point{0, 1}
				if i%2 == 0 {
					u = orb.Point{-1, 0}
				}
				w := 0.3 * eps * (0.2 + rng.Float64())
				a := math.Sqrt(d*d - w*w)
				add(orb.Point{c[0] - w*u[1], c[1] + w*u[0]})
				add(orb.Point{c[0] + w*u[1], c[1] - w*u[0]})
				add(orb.Point{c[0] + a*u[0], c[1] + a*u[1]})
				continue
			}
			add(c)
			add(orb.Point{c[0] + d*u[0], c[1] + d*u[1]})
			// Sometimes clumps: more points behind each end, farther away.
			for range rng.IntN(3) {
				s := 0.3 * eps * rng.Float64()
				add(orb.Point{c[0] - s*u[0], c[1] - s*u[1]})
				add(orb.Point{c[0] + (d+s)*u[0], c[1] + (d+s)*u[1]})
			}
		}
		rules := Rules{Default: Rule{Distance: eps}}
		got, err := ClusterIn(reports, rules, pj)
		if err != nil {
			t.Fatal(err)
		}
		if d := diff(got, bruteForce(reports, rules, pj)); d != "" {
			t.Fatalf("eps %g: %s", eps, d)
		}
	}
}

func TestClusterRefusesBadReports(t *testing.T) {
	ok := Report{ID: "1", Category: "pothole", Point: orb.Point{-75.7, 45.4}}
	for _, tc := range []struct {
		name    string
		reports []Report
		want    string
	}{
		{"empty ID", []Report{ok, {Point: ok.Point}}, "report 2 has an empty ID"},
		{"duplicate ID", []Report{ok, ok}, `report 2: ID "1" appears twice`},
		{"NaN", []Report{ok, {ID: "2", Point: orb.Point{math.NaN(), 45}}}, `report 2 (ID "2"): longitude is not a finite number`},
		{"swapped", []Report{{ID: "x", Point: orb.Point{45.4, -175.7}}}, "swapped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Cluster(tc.reports, Rules{Default: DefaultRule()})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestClusterEmpty(t *testing.T) {
	for _, reports := range [][]Report{nil, {}} {
		if as, err := Cluster(reports, Rules{Default: DefaultRule()}); err != nil || len(as) != 0 {
			t.Errorf("Cluster(%v) = %v, %v; want nothing", reports, as, err)
		}
	}
}

func TestClusterPartitionsByEquivalence(t *testing.T) {
	p := orb.Point{-75.7, 45.4}
	reports := []Report{
		{ID: "3", Category: "road_damage", Point: p},
		{ID: "1", Category: "pothole", Point: p},
		{ID: "2", Category: "graffiti", Point: p},
	}
	got, err := Cluster(reports, testRules(30, 0, true)) // pothole ≡ road_damage
	if err != nil {
		t.Fatal(err)
	}
	want := []Assignment{{"3", "1"}, {"1", "1"}, {"2", "2"}}
	if d := diff(got, want); d != "" {
		t.Fatal(d)
	}
}

// TestGridExactBoundary feeds the grid metres directly, so that distances
// land on eps exactly and one float step either side, where the squared
// distance and the rounded square root can disagree: Pythagorean triples
// (3-4-5 and friends, scaled) nudged by an ulp. Every decision must match
// dist(a, b) <= eps, computed pair by pair.
func TestGridExactBoundary(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	triples := [][3]float64{{3, 4, 5}, {5, 12, 13}, {8, 15, 17}, {7, 24, 25}, {20, 21, 29}, {0, 1, 1}}
	nudge := func(v float64) float64 {
		switch rng.IntN(3) {
		case 0:
			return math.Nextafter(v, math.Inf(1))
		case 1:
			return math.Nextafter(v, math.Inf(-1))
		}
		return v
	}
	for _, scale := range []float64{1, 2.5, 10, 0.3} {
		var xs, ys []float64
		for i := range 600 {
			tr := triples[rng.IntN(len(triples))]
			// Pairs on a lattice 40 times the largest eps apart, each pair
			// about its triple's eps long.
			x, y := float64(i%25)*40*scale*29, float64(i/25)*40*scale*29
			dx, dy := tr[0]*scale, tr[1]*scale
			if rng.IntN(2) == 0 {
				dx, dy = dy, -dx
			}
			xs, ys = append(xs, x), append(ys, y)
			xs, ys = append(xs, nudge(x+dx)), append(ys, nudge(y+dy))
		}
		for _, tr := range triples {
			eps := tr[2] * scale
			if eps < minGridDistance {
				continue
			}
			n := len(xs)
			reports := make([]Report, n)
			idx := make([]int32, n)
			num := make([]uint64, n)
			for i := range reports {
				reports[i].ID = fmt.Sprint(i + 1)
				idx[i], num[i] = int32(i), uint64(i+1)
			}
			name := make([]int32, n)
			var s gridScratch
			if !clusterGrid(&s, reports, idx, xs, ys, Rule{Distance: eps}, idOrder{reports: reports, num: num}, name) {
				t.Fatal("grid refused the data")
			}
			// Pairs are isolated, so each is linked exactly when its two
			// points are within eps.
			linked := 0
			for i := 0; i < n; i += 2 {
				want := dist(orb.Point{xs[i], ys[i]}, orb.Point{xs[i+1], ys[i+1]}) <= eps
				if got := name[i] == name[i+1]; got != want {
					t.Fatalf("eps %g: pair %v–%v at %v: linked %v, want %v", eps,
						orb.Point{xs[i], ys[i]}, orb.Point{xs[i+1], ys[i+1]},
						dist(orb.Point{xs[i], ys[i]}, orb.Point{xs[i+1], ys[i+1]}), got, want)
				}
				if want {
					linked++
				}
			}
			if linked == 0 || linked == n/2 {
				t.Logf("eps %g: %d of %d pairs linked", eps, linked, n/2)
			}
		}
	}
}
