package dedup

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
)

// TestClusterIgnoresInputOrder shuffles the reports: every report must land
// in the same cluster, named by the same ID, on both paths (grid and time
// order).
func TestClusterIgnoresInputOrder(t *testing.T) {
	pj := geo.NewProjection(testOrigin)
	rng := rand.New(rand.NewPCG(42, 1))
	reports := randomReports(rng, 4000)
	for _, eps := range []float64{0.5, 40} {
		for _, window := range []time.Duration{0, 2 * 24 * time.Hour} {
			rules := testRules(eps, window, true)
			want, err := ClusterIn(reports, rules, pj)
			if err != nil {
				t.Fatal(err)
			}
			if c := clusterCount(want); eps == 40 && c > len(reports)*9/10 {
				t.Fatalf("eps %g window %v: %d clusters of %d reports: too few links to test", eps, window, c, len(reports))
			}
			clusterOf := make(map[string]string, len(want))
			for _, a := range want {
				clusterOf[a.ID] = a.ClusterID
			}
			shuffled := append([]Report(nil), reports...)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			got, err := ClusterIn(shuffled, rules, pj)
			if err != nil {
				t.Fatal(err)
			}
			for k, a := range got {
				if a.ID != shuffled[k].ID || a.ClusterID != clusterOf[a.ID] {
					t.Fatalf("eps %g window %v: row %d = %+v, want %s in %q", eps, window, k+1, a, shuffled[k].ID, clusterOf[shuffled[k].ID])
				}
			}
		}
	}
}

// TestClusterMergesAndNames checks a small case by hand, on the grid path
// (no window) and the time-ordered one: a report linked to two clusters
// merges them, and a cluster is named by its smallest ID even when that
// report comes last.
func TestClusterMergesAndNames(t *testing.T) {
	pj := geo.NewProjection(testOrigin)
	at := func(x float64) orb.Point { return pj.ToLonLat(orb.Point{x, 0}) }
	t0 := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	rep := func(id string, x float64, hour int) Report {
		return Report{ID: id, Point: at(x), CreatedAt: t0.Add(time.Duration(hour) * time.Hour)}
	}
	reports := []Report{
		rep("10", 0, 0),
		rep("12", 55, 1),
		rep("13", 55, 2),
		// 25 lies 28 m from 10 and 27 m from 12 and 13.
		rep("25", 28, 3),
		// 9 lies 10 m from 10, 38 m from 25.
		rep("9", -10, 4),
		// 40 lies 5 m from 12 and 13, 32 m from 25.
		rep("40", 60, 5),
		rep("8", 1000, 5),
	}
	for _, tc := range []struct {
		window time.Duration
		want   []string // cluster of each report
	}{
		// Everything within 30 m of something chains into one cluster.
		{0, []string{"9", "9", "9", "9", "9", "9", "8"}},
		// Within 2 hours: 25 links 12 (2 h before) and 13, not 10 (3 h);
		// 9 and 40 are too far from the reports of their last 2 hours.
		{2 * time.Hour, []string{"10", "12", "12", "12", "9", "40", "8"}},
	} {
		got, err := ClusterIn(reports, Rules{Default: Rule{Distance: 30, Window: tc.window}}, pj)
		if err != nil {
			t.Fatal(err)
		}
		for k, a := range got {
			if a.ID != reports[k].ID || a.ClusterID != tc.want[k] {
				t.Errorf("window %v: report %s in %q, want %q", tc.window, reports[k].ID, a.ClusterID, tc.want[k])
			}
		}
	}
}

// TestTimedDropsExpiredMembers checks the index holds only the window's
// members, so a report costs the same after a year of history as after a
// day.
func TestTimedDropsExpiredMembers(t *testing.T) {
	rules, err := testRules(30, 24*time.Hour, true).Compile()
	if err != nil {
		t.Fatal(err)
	}
	c := newTimedClusterer(rules, geo.NewProjection(testOrigin))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 24 * 365 {
		c.add(Report{
			ID: fmt.Sprint(i + 1), Category: "pothole", CreatedAt: start.Add(time.Duration(i) * time.Hour),
			Point: orb.Point{-75.70 + rng.Float64()*0.01, 45.42 + rng.Float64()*0.01}, AssetID: fmt.Sprint("A", i%50),
		})
	}
	p := c.parts[0]
	if n := p.index.Len(); n != 25 {
		t.Errorf("index holds %d members after a year of hourly reports; want 25 (a day, both ends included)", n)
	}
	total := 0
	for _, l := range p.assets {
		total += len(l)
	}
	if total != 25 {
		t.Errorf("asset lists hold %d members; want 25", total)
	}
	if len(p.live)-p.head != 25 || len(p.live) > 2*1024+25 {
		t.Errorf("live list: %d entries from %d; want 25 live and the expired ones compacted", len(p.live), p.head)
	}
}
