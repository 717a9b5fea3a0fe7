package dedup

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
)

// replay feeds reports to a fresh Assigner in the given order and keeps
// the clusters up to date from the Outcomes alone, as a store would: it
// checks the Assigner's own view agrees after every step.
func replay(t *testing.T, reports []Report, rules Rules, pj geo.Projection) map[string]string {
	t.Helper()
	a, err := NewAssigner(rules, pj)
	if err != nil {
		t.Fatal(err)
	}
	clusterOf := map[string]string{} // report → cluster
	members := map[string][]string{} // cluster → reports
	for _, r := range reports {
		out, err := a.Assign(r)
		if err != nil {
			t.Fatal(err)
		}
		if out.Joined != (out.Nearest != "") {
			t.Fatalf("%s: Joined %v but Nearest %q", r.ID, out.Joined, out.Nearest)
		}
		for _, x := range out.Absorbed {
			if len(members[x]) == 0 {
				t.Fatalf("%s: absorbed cluster %q did not exist", r.ID, x)
			}
			for _, m := range members[x] {
				clusterOf[m] = out.ClusterID
			}
			members[out.ClusterID] = append(members[out.ClusterID], members[x]...)
			delete(members, x)
		}
		if out.Joined && !slices.Contains(members[out.ClusterID], out.Nearest) {
			t.Fatalf("%s: nearest %q is not in cluster %q", r.ID, out.Nearest, out.ClusterID)
		}
		if !out.Joined && (out.ClusterID != r.ID || len(out.Absorbed) > 0) {
			t.Fatalf("%s started a cluster but got %+v", r.ID, out)
		}
		clusterOf[r.ID] = out.ClusterID
		members[out.ClusterID] = append(members[out.ClusterID], r.ID)
		if got, _ := a.ClusterOf(r.ID); got != out.ClusterID {
			t.Fatalf("%s: ClusterOf = %q, Outcome says %q", r.ID, got, out.ClusterID)
		}
	}
	for id, ms := range members {
		info, err := a.Info(id)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(ms, CompareIDs)
		if !slices.Equal(info.Members, ms) {
			t.Fatalf("cluster %s: Info members %v, outcomes say %v", id, info.Members, ms)
		}
	}
	return clusterOf
}

func timeOrder(reports []Report) []Report {
	s := slices.Clone(reports)
	slices.SortFunc(s, func(a, b Report) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), CompareIDs(a.ID, b.ID))
	})
	return s
}

func TestAssignEqualsBatch(t *testing.T) {
	pj := geo.NewProjection(testOrigin)
	reports := randomReports(rand.New(rand.NewPCG(42, 1)), 4000)
	for _, eps := range []float64{0, 10, 40} {
		for _, window := range []time.Duration{0, 2 * 24 * time.Hour, 3 * time.Hour} {
			for _, same := range []bool{false, true} {
				t.Run(fmt.Sprintf("eps%g/window%v/asset%v", eps, window, same), func(t *testing.T) {
					rules := testRules(eps, window, same)
					batch, err := ClusterIn(reports, rules, pj)
					if err != nil {
						t.Fatal(err)
					}
					online := replay(t, timeOrder(reports), rules, pj)
					for _, b := range batch {
						if online[b.ID] != b.ClusterID {
							t.Fatalf("report %s: online cluster %q, batch %q", b.ID, online[b.ID], b.ClusterID)
						}
					}
				})
			}
		}
	}
}

// TestAssignToleratesLateArrivals delivers reports up to 50 minutes out of
// CreatedAt order (within Lateness): the clusters must not change.
func TestAssignToleratesLateArrivals(t *testing.T) {
	pj := geo.NewProjection(testOrigin)
	rng := rand.New(rand.NewPCG(5, 5))
	reports := randomReports(rng, 3000)
	for i := range reports {
		reports[i].CreatedAt = reports[i].CreatedAt.Add(time.Duration(rng.Int64N(int64(time.Hour))))
	}
	arrival := make(map[string]time.Time, len(reports))
	for _, r := range reports {
		arrival[r.ID] = r.CreatedAt.Add(time.Duration(rng.Int64N(int64(50 * time.Minute))))
	}
	order := slices.Clone(reports)
	slices.SortFunc(order, func(a, b Report) int { return arrival[a.ID].Compare(arrival[b.ID]) })
	for _, window := range []time.Duration{2 * time.Hour, 24 * time.Hour} {
		rules := testRules(30, window, true)
		want := bruteForce(reports, rules, pj)
		online := replay(t, order, rules, pj)
		for _, w := range want {
			if online[w.ID] != w.ClusterID {
				t.Fatalf("window %v: report %s: online %q, want %q", window, w.ID, online[w.ID], w.ClusterID)
			}
		}
	}
}

// TestAssignDropsExpiredMembers checks the index holds only the window's
// members, so Assign costs the same after a year as after a day.
func TestAssignDropsExpiredMembers(t *testing.T) {
	a, err := NewAssigner(testRules(30, 24*time.Hour, true), geo.NewProjection(testOrigin))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 24 * 365 {
		_, err := a.Assign(Report{
			ID: fmt.Sprint(i + 1), Category: "pothole", CreatedAt: start.Add(time.Duration(i) * time.Hour),
			Point: orb.Point{-75.70 + rng.Float64()*0.01, 45.42 + rng.Float64()*0.01}, AssetID: fmt.Sprint("A", i%50),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	p := a.parts[0]
	if n := p.index.Len(); n > 26 {
		t.Errorf("index holds %d members after a year of hourly reports; want ≤ 26 (a day and an hour)", n)
	}
	total := 0
	for _, l := range p.assets {
		total += len(l)
	}
	if total > 26 {
		t.Errorf("asset lists hold %d members; want ≤ 26", total)
	}
}

func TestAssignMergesAndRenames(t *testing.T) {
	pj := geo.NewProjection(testOrigin)
	at := func(x float64) orb.Point { return pj.ToLonLat(orb.Point{x, 0}) }
	a, err := NewAssigner(Rules{Default: Rule{Distance: 30}}, pj)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	rep := func(id string, x float64, hour int) Report {
		return Report{ID: id, Point: at(x), CreatedAt: t0.Add(time.Duration(hour) * time.Hour)}
	}
	steps := []struct {
		r    Report
		want Outcome
	}{
		{rep("10", 0, 0), Outcome{ClusterID: "10"}},
		{rep("12", 55, 1), Outcome{ClusterID: "12"}},
		{rep("13", 55, 2), Outcome{ClusterID: "12", Joined: true, Nearest: "12"}},
		// 25 links 10 (28 m) and 12 and 13 (27 m): the clusters merge into
		// 10; 12 and 13 are equally near, the smaller ID wins.
		{rep("25", 28, 3), Outcome{ClusterID: "10", Joined: true, Absorbed: []string{"12"}, Nearest: "12", Distance: 27}},
		// A smaller ID renames the cluster.
		{rep("9", -10, 4), Outcome{ClusterID: "9", Joined: true, Absorbed: []string{"10"}, Nearest: "10", Distance: 10}},
		{rep("40", 60, 5), Outcome{ClusterID: "9", Joined: true, Nearest: "12", Distance: 5}},
	}
	for _, s := range steps {
		got, err := a.Assign(s.r)
		if err != nil {
			t.Fatal(err)
		}
		got.Distance = float64(int(got.Distance*1e6+0.5)) / 1e6
		if fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Errorf("Assign(%s) = %+v, want %+v", s.r.ID, got, s.want)
		}
	}
	info, err := a.Info("9")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"9", "10", "12", "13", "25", "40"}; !slices.Equal(info.Members, want) || info.Anchor != "10" {
		t.Errorf("Info(9) = %+v, want members %v, anchor 10", info, want)
	}
}

func TestStaffOperations(t *testing.T) {
	pj := geo.NewProjection(testOrigin)
	at := func(x float64) orb.Point { return pj.ToLonLat(orb.Point{x, 0}) }
	a, err := NewAssigner(Rules{Default: Rule{Distance: 10}}, pj)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range []float64{0, 5, 100, 105, 1000} {
		if _, err := a.Assign(Report{ID: fmt.Sprint(i + 1), Point: at(x)}); err != nil {
			t.Fatal(err)
		}
	}
	// Clusters now: 1 {1,2}, 3 {3,4}, 5 {5}.
	if got, err := a.Merge("3", "1"); err != nil || got != "1" {
		t.Fatalf("Merge(3, 1) = %q, %v; want 1", got, err)
	}
	if c, _ := a.ClusterOf("4"); c != "1" {
		t.Fatalf("after merge report 4 is in %q, want 1", c)
	}
	moved, rest, err := a.Split("1", []string{"1", "4"})
	if err != nil || moved != "1" || rest != "2" {
		t.Fatalf("Split(1, [1 4]) = %q, %q, %v; want 1, 2", moved, rest, err)
	}
	for id, want := range map[string]string{"1": "1", "4": "1", "2": "2", "3": "2"} {
		if c, _ := a.ClusterOf(id); c != want {
			t.Errorf("after split report %s is in %q, want %q", id, c, want)
		}
	}
	if err := a.Close("5"); err != nil {
		t.Fatal(err)
	}
	out, err := a.Assign(Report{ID: "6", Point: at(1001)})
	if err != nil || out.Joined || out.ClusterID != "6" {
		t.Errorf("report next to a closed cluster: %+v, %v; want a new cluster 6", out, err)
	}

	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"merge unknown", second(a.Merge("1", "77")), `no cluster "77"`},
		{"merge member", second(a.Merge("4", "2")), `report "4" belongs to cluster "1"`},
		{"split all", third(a.Split("1", []string{"1", "4"})), "need some but not all"},
		{"split foreign", third(a.Split("1", []string{"3"})), `report "3" is not in the cluster`},
		{"close unknown", a.Close("x"), `no cluster "x"`},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, tc.err, tc.want)
		}
	}
}

func second[A any](_ A, err error) error        { return err }
func third[A, B any](_ A, _ B, err error) error { return err }

func TestAssignRefusesBadReports(t *testing.T) {
	a, err := NewAssigner(DefaultRules(), geo.NewProjection(testOrigin))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Assign(Report{ID: "1", Point: testOrigin}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		r    Report
		want string
	}{
		{Report{Point: testOrigin}, "empty ID"},
		{Report{ID: "1", Point: testOrigin}, `report "1" is already assigned`},
		{Report{ID: "2", Point: orb.Point{-75.7, 95}}, `invalid geometry in report "2": latitude 95 is out of range`},
	} {
		if _, err := a.Assign(tc.r); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Assign(%+v): err = %v, want %q", tc.r, err, tc.want)
		}
	}
	if a.Len() != 1 {
		t.Errorf("refused reports were counted: Len = %d", a.Len())
	}
}

// TestRestoreResumesAssignment restarts a server half way: a new Assigner
// restores, from "the store", the open requests recent enough to be linked
// (within the window and Lateness of the newest), after staff merged,
// split and closed clusters; both then assign the rest and must agree on
// every Outcome.
func TestRestoreResumesAssignment(t *testing.T) {
	pj := geo.NewProjection(testOrigin)
	reports := timeOrder(randomReports(rand.New(rand.NewPCG(9, 9)), 3000))
	window := 2 * 24 * time.Hour
	rules := testRules(30, window, true)
	a, err := NewAssigner(rules, pj)
	if err != nil {
		t.Fatal(err)
	}
	half := len(reports) / 2
	for _, r := range reports[:half] {
		if _, err := a.Assign(r); err != nil {
			t.Fatal(err)
		}
	}
	// Staff work on the clusters of the most recent reports.
	var multi []string
	seen := map[string]bool{}
	for _, r := range slices.Backward(reports[:half]) {
		c, _ := a.ClusterOf(r.ID)
		if info, _ := a.Info(c); len(info.Members) > 2 && !seen[c] {
			seen[c] = true
			multi = append(multi, c)
		}
	}
	if len(multi) < 4 {
		t.Fatalf("only %d clusters with 3 reports: not enough to test staff operations", len(multi))
	}
	info, _ := a.Info(multi[0])
	if _, _, err := a.Split(multi[0], info.Members[1:2]); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Merge(multi[1], multi[2]); err != nil && !strings.Contains(err.Error(), "not equivalent") {
		t.Fatal(err)
	}
	if err := a.Close(multi[3]); err != nil {
		t.Fatal(err)
	}

	// The restart: open requests created at most window + Lateness before
	// the newest, in time order, with the cluster the store recorded.
	b, err := NewAssigner(rules, pj)
	if err != nil {
		t.Fatal(err)
	}
	newest := reports[half-1].CreatedAt
	restored := 0
	for _, r := range reports[:half] {
		c, _ := a.ClusterOf(r.ID)
		if info, _ := a.Info(c); info.Closed || newest.Sub(r.CreatedAt) > window+Lateness {
			continue
		}
		if err := b.Restore(r, c); err != nil {
			t.Fatal(err)
		}
		restored++
	}
	t.Logf("restored %d of %d requests", restored, half)
	// Both hold the restored requests in the same clusters.
	same := func(when string) {
		t.Helper()
		for _, id := range b.ids {
			cb, _ := b.ClusterOf(id)
			ca, _ := a.ClusterOf(id)
			ib, err := b.Info(cb)
			if ca != cb || err != nil || !slices.Contains(ib.Members, id) {
				t.Fatalf("%s: report %s in cluster %q, restarted %q (%v, %v)", when, id, ca, cb, ib.Members, err)
			}
		}
	}
	same("after restore")

	for _, r := range reports[half:] {
		oa, err := a.Assign(r)
		if err != nil {
			t.Fatal(err)
		}
		ob, err := b.Assign(r)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(oa) != fmt.Sprint(ob) {
			t.Fatalf("report %s: original %+v, restarted %+v", r.ID, oa, ob)
		}
	}
	same("at the end")
}

func TestRestoreRefuses(t *testing.T) {
	pj := geo.NewProjection(testOrigin)
	a, err := NewAssigner(Rules{Default: Rule{Distance: 10}}, pj)
	if err != nil {
		t.Fatal(err)
	}
	r := Report{ID: "5", Category: "pothole", Point: testOrigin}
	if err := a.Restore(r, "3"); err != nil {
		t.Fatal(err)
	}
	if c, _ := a.ClusterOf("5"); c != "3" {
		t.Errorf("restored into %q, want the store's 3", c)
	}
	// Report 3 itself is not held (yet); the cluster keeps its name.
	out, err := a.Assign(Report{ID: "7", Category: "pothole", Point: testOrigin})
	if err != nil || out.ClusterID != "3" || !out.Joined {
		t.Errorf("Assign next to a restored cluster: %+v, %v; want cluster 3", out, err)
	}
	if err := a.Restore(Report{ID: "3", Category: "pothole", Point: testOrigin}, "3"); err != nil {
		t.Errorf("restoring the report a cluster is named after: %v", err)
	}
	if _, err := a.Assign(Report{ID: "3", Category: "pothole", Point: testOrigin}); err == nil {
		t.Error("Assign took an ID already restored")
	}
	for _, tc := range []struct {
		r    Report
		c    string
		want string
	}{
		{Report{ID: "5", Category: "pothole", Point: testOrigin}, "3", `report "5" is already assigned`},
		{Report{ID: "3", Category: "pothole", Point: testOrigin}, "4", `report "3" is already assigned`},
		{Report{ID: "8", Category: "pothole", Point: testOrigin}, "", "empty cluster ID"},
		{Report{ID: "9", Category: "graffiti", Point: testOrigin}, "3", "not equivalent"},
	} {
		if err := a.Restore(tc.r, tc.c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Restore(%s, %q): err = %v, want %q", tc.r.ID, tc.c, err, tc.want)
		}
	}
}
