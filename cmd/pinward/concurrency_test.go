package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/dedup"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/requests"
)

// TestTwoServersOneDatabase: two `pinward serve` processes on one PostGIS
// database take near-identical reports of the same issues at the same
// time, split between them, and still file each issue as one cluster.
//
// The issues are cliques: every report of one lies within 10 m of every
// other (under the 30 m pothole rule) and 250 m or more from any other
// issue's. Whatever order a single process saw them in, it would file one
// cluster per issue, which is also what batch clustering (dedup.Cluster,
// the category rules of the catalog) makes of the stored requests in their
// created order: the test checks the servers' clusters against that
// partition. Without the database serialising assignment across processes,
// two reports racing on two servers both find no cluster and start two.
func TestTwoServersOneDatabase(t *testing.T) {
	db := pgtest.URL(t) // skips without PINWARD_TEST_DATABASE_URL; fails with PINWARD_REQUIRE_DB=1
	bin := buildPinward(t)
	key := createKey(t, bin, "--db", db)
	srvs := []*server{startServe(t, bin, "--db", db), startServe(t, bin, "--db", db)}

	// Rounds of bursts: within a burst every submission is sent at once,
	// so each server has reports of every issue in flight together.
	const rounds, perRound, perIssue = 6, 8, 12
	const issues = rounds * perRound
	places := issuePlaces(t, issues, 250)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	rng := rand.New(rand.NewPCG(4, 2))
	type sub struct {
		srv  int
		form url.Values
	}
	var (
		mu      sync.Mutex
		ids     = map[string]int{} // request → the server that took it
		elapsed time.Duration
	)
	for round := range rounds {
		var subs []sub
		for i, p := range places[round*perRound : (round+1)*perRound] {
			r := geo.NewRuler(p[1])
			b := r.Buffer(p, 1)
			for j := range perIssue {
				// Within 5 m of the place: any two within 10 m.
				q := orb.Point{p[0] + (rng.Float64()*2-1)*3.5*(b.Max[0]-p[0]), p[1] + (rng.Float64()*2-1)*3.5*(b.Max[1]-p[1])}
				form := url.Values{"api_key": {key}, "lat": {strconv.FormatFloat(q[1], 'f', -1, 64)},
					"long": {strconv.FormatFloat(q[0], 'f', -1, 64)}, "description": {fmt.Sprintf("round %d issue %d report %d", round, i, j)}}
				// The equivalent category too: one lock group, one cluster.
				if j%3 == 2 {
					form.Set("service_code", "road_damage")
					form.Set("attribute[damage]", "sunken")
				} else {
					form.Set("service_code", "pothole")
					form.Set("attribute[size]", "large")
				}
				subs = append(subs, sub{srv: j % 2, form: form})
			}
		}
		rng.Shuffle(len(subs), func(i, j int) { subs[i], subs[j] = subs[j], subs[i] })
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, s := range subs {
			wg.Go(func() {
				<-start
				res, err := client.PostForm(srvs[s.srv].url+"/open311/v2/requests.json", s.form)
				if err != nil {
					t.Errorf("POST to server %d: %v", s.srv, err)
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				var out []struct {
					ID string `json:"service_request_id"`
				}
				if res.StatusCode != http.StatusCreated || json.Unmarshal(body, &out) != nil || len(out) != 1 {
					t.Errorf("POST to server %d: %d %s", s.srv, res.StatusCode, body)
					return
				}
				mu.Lock()
				ids[out[0].ID] = s.srv
				mu.Unlock()
			})
		}
		began := time.Now()
		close(start)
		wg.Wait()
		elapsed += time.Since(began)
		if t.Failed() {
			for i, s := range srvs {
				t.Logf("server %d stderr:\n%s", i, s.stderr)
			}
			t.FailNow()
		}
	}

	// The stored requests, read back through the other server.
	stored := listAll(t, client, srvs[1].url)
	if len(stored) != issues*perIssue || len(ids) != issues*perIssue {
		t.Fatalf("%d stored, %d acknowledged; want %d", len(stored), len(ids), issues*perIssue)
	}
	reports := make([]dedup.Report, len(stored))
	got := map[string]string{}
	for i, r := range stored {
		at, err := time.Parse(time.RFC3339Nano, r.Requested)
		if err != nil {
			t.Fatalf("requested_datetime %q: %v", r.Requested, err)
		}
		reports[i] = dedup.Report{ID: r.ID, Category: r.ServiceCode, CreatedAt: at, Point: orb.Point{r.Long, r.Lat}}
		got[r.ID] = r.ClusterID
	}
	sort.SliceStable(reports, func(i, j int) bool {
		if !reports[i].CreatedAt.Equal(reports[j].CreatedAt) {
			return reports[i].CreatedAt.Before(reports[j].CreatedAt)
		}
		return dedup.CompareIDs(reports[i].ID, reports[j].ID) < 0
	})
	cat, err := requests.LoadCatalog(bytes.NewReader(data.SampleCategoriesJSON()))
	if err != nil {
		t.Fatal(err)
	}
	batch, err := dedup.Cluster(reports, cat.DedupRules())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, a := range batch {
		want[a.ID] = a.ClusterID
	}
	gotP, wantP := partition(got), partition(want)
	if !slices.EqualFunc(gotP, wantP, slices.Equal) {
		var wrong [][]string // the servers' clusters batch clustering does not have
		for _, g := range gotP {
			if !slices.ContainsFunc(wantP, func(w []string) bool { return slices.Equal(g, w) }) && len(wrong) < 10 {
				wrong = append(wrong, g)
			}
		}
		t.Errorf("the two servers filed %d issues as %d clusters, want %d (batch clustering of the stored requests); "+
			"clusters batch clustering would not make (first 10): %v", issues, len(gotP), len(wantP), wrong)
	}
	if len(wantP) != issues {
		t.Errorf("batch clustering found %d clusters for %d issues: the test data is not what it means to be", len(wantP), issues)
	}
	// A cluster is named by the request that started it, one of its own.
	for id, c := range got {
		if got[c] != c {
			t.Errorf("request %s is in cluster %s, whose request is in %q", id, c, got[c])
		}
	}
	perServer := [2]int{}
	for _, s := range ids {
		perServer[s]++
	}
	t.Logf("%d near-identical reports of %d issues, %d/%d through each server, in %v: %d clusters",
		len(ids), issues, perServer[0], perServer[1], elapsed.Round(time.Millisecond), len(gotP))
}

// storedRequest is what the test reads of a request.
type storedRequest struct {
	ID          string  `json:"service_request_id"`
	ServiceCode string  `json:"service_code"`
	Lat         float64 `json:"lat"`
	Long        float64 `json:"long"`
	Requested   string  `json:"requested_datetime"`
	ClusterID   string  `json:"cluster_id"`
}

// listAll reads every request through Open311, page by page.
func listAll(t *testing.T, client *http.Client, base string) []storedRequest {
	t.Helper()
	var out []storedRequest
	for page := 1; ; page++ {
		res, err := client.Get(fmt.Sprintf("%s/open311/v2/requests.json?page_size=1000&page=%d&start_date=2000-01-01T00:00:00Z", base, page))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var rs []storedRequest
		if res.StatusCode != http.StatusOK || json.Unmarshal(body, &rs) != nil {
			t.Fatalf("GET requests: %d %s", res.StatusCode, body)
		}
		out = append(out, rs...)
		if len(rs) < 1000 {
			return out
		}
	}
}

// partition is a cluster assignment as sorted groups of sorted IDs, so two
// assignments compare whatever their cluster names.
func partition(m map[string]string) [][]string {
	by := map[string][]string{}
	for id, c := range m {
		by[c] = append(by[c], id)
	}
	out := make([][]string, 0, len(by))
	for _, g := range by {
		slices.SortFunc(g, dedup.CompareIDs)
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b []string) int { return dedup.CompareIDs(a[0], b[0]) })
	return out
}

// issuePlaces returns n points of the sample town, each in a ward and at
// least minGap metres from the others.
func issuePlaces(t *testing.T, n int, minGap float64) []orb.Point {
	t.Helper()
	set, err := data.SampleWards()
	if err != nil {
		t.Fatal(err)
	}
	list, _, err := assets.LoadCSV(bytes.NewReader(data.SampleAssetsCSV()), assets.DefaultCSVFormat())
	if err != nil {
		t.Fatal(err)
	}
	var out []orb.Point
	for _, a := range list {
		if _, ok := set.Locate(a.Point, time.Now()); !ok {
			continue
		}
		if slices.ContainsFunc(out, func(p orb.Point) bool { return geo.Distance(p, a.Point) < minGap }) {
			continue
		}
		out = append(out, a.Point)
		if len(out) == n {
			return out
		}
	}
	t.Fatalf("found only %d places %g m apart in the sample town", len(out), minGap)
	return nil
}
