package data

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/wards"
)

// testConfig is a mid-size city small enough for `go test -race`.
func testConfig() CityConfig {
	cfg := DefaultCityConfig()
	cfg.Seed = 42
	cfg.WardSizeM = 1500
	cfg.VerticesPerSide = 200
	cfg.StreetSpacingM = 200
	cfg.Requests = 20_000
	return cfg
}

func cityFiles(t testing.TB, c *City) [3][32]byte {
	t.Helper()
	var sums [3][32]byte
	for i, write := range []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return c.WriteWardsGeoJSON(b) },
		func(b *bytes.Buffer) error { return c.WriteAssetsCSV(b) },
		func(b *bytes.Buffer) error { // requests, as text
			for _, r := range c.Requests {
				fmt.Fprintf(b, "%s,%s,%s,%v,%v,%s\n", r.ID, r.Category, r.CreatedAt.Format(time.RFC3339Nano), r.Point[0], r.Point[1], r.AssetID)
			}
			return nil
		},
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		sums[i] = sha256.Sum256(b.Bytes())
	}
	return sums
}

func TestDeterministic(t *testing.T) {
	cfg := testConfig()
	a, b := cityFiles(t, mustGenerate(t, cfg)), cityFiles(t, mustGenerate(t, cfg))
	if a != b {
		t.Fatal("same config, different output")
	}
	cfg.Seed++
	if c := cityFiles(t, mustGenerate(t, cfg)); c[0] == a[0] || c[1] == a[1] || c[2] == a[2] {
		t.Error("different seed, some identical output")
	}
	// Separate random streams: more requests must not move wards or assets.
	cfg = testConfig()
	cfg.Requests = 500
	if d := cityFiles(t, mustGenerate(t, cfg)); d[0] != a[0] || d[1] != a[1] {
		t.Error("changing the request count changed wards or assets")
	}
}

func TestAssets(t *testing.T) {
	c := mustGenerate(t, testConfig())
	ids := map[string]bool{}
	counts := map[string]int{}
	prefix := map[string]string{}
	for _, k := range assetKinds {
		prefix[k.typ] = k.prefix + "-"
	}
	br := newBrute(c.Wards)
	for _, a := range c.Assets {
		if ids[a.ID] {
			t.Fatalf("duplicate asset id %s", a.ID)
		}
		ids[a.ID] = true
		counts[a.Type]++
		if !strings.HasPrefix(a.ID, prefix[a.Type]) || prefix[a.Type] == "" {
			t.Errorf("asset %s has type %q", a.ID, a.Type)
		}
		if n := len(br.containing(a.Point)); n != 1 {
			t.Errorf("asset %s at %v is in %d wards, want 1", a.ID, a.Point, n)
		}
	}
	for _, k := range assetKinds {
		if counts[k.typ] == 0 {
			t.Errorf("no %s assets", k.typ)
		}
	}
	// Streetlights every ~35 m dominate; hydrants every ~150 m are rarer.
	if counts[AssetStreetlight] < 3*counts[AssetHydrant] {
		t.Errorf("asset mix looks wrong: %v", counts)
	}
	t.Logf("%d assets: %v", len(c.Assets), counts)
}

// brute finds the wards containing a point the slow, obviously correct
// way: orb's planar.PolygonContains on every part whose bound matches.
type brute struct {
	wards  []Ward
	bounds [][]orb.Bound
}

func newBrute(wards []Ward) *brute {
	b := &brute{wards: wards, bounds: make([][]orb.Bound, len(wards))}
	for i, w := range wards {
		for _, p := range w.Geometry {
			b.bounds[i] = append(b.bounds[i], p.Bound())
		}
	}
	return b
}

func (b *brute) containing(p orb.Point) []int {
	var in []int
	for i, w := range b.wards {
		for j, poly := range w.Geometry {
			if b.bounds[i][j].Contains(p) && planar.PolygonContains(poly, p) {
				in = append(in, i)
			}
		}
	}
	return in
}

func TestRequests(t *testing.T) {
	cfg := testConfig()
	c := mustGenerate(t, cfg)
	if len(c.Requests) != cfg.Requests {
		t.Fatalf("%d requests, want %d", len(c.Requests), cfg.Requests)
	}
	pj := newProj(c.Config.Center)
	assets := map[string]Asset{}
	for _, a := range c.Assets {
		assets[a.ID] = a
	}
	catAsset := map[string]string{}
	for _, k := range categories {
		catAsset[k.name] = k.asset
	}
	start, end := c.Config.Start, c.Config.Start.AddDate(0, 0, c.Config.Days)
	loc := newLocator(c.Wards)
	var outside, daytime, farFromAsset int
	cats := map[string]int{}
	for i, r := range c.Requests {
		if r.ID != strconv.Itoa(i+1) {
			t.Fatalf("request %d has id %q", i, r.ID)
		}
		if i > 0 && r.CreatedAt.Before(c.Requests[i-1].CreatedAt) {
			t.Fatalf("request %s created before its predecessor", r.ID)
		}
		if r.CreatedAt.Before(start) || !r.CreatedAt.Before(end) || r.CreatedAt.Location() != time.UTC {
			t.Fatalf("request %s created at %v, outside [%v, %v) or not UTC", r.ID, r.CreatedAt, start, end)
		}
		typ, ok := catAsset[r.Category]
		if !ok {
			t.Fatalf("request %s: unknown category %q", r.ID, r.Category)
		}
		cats[r.Category]++
		if (typ != "") != (r.AssetID != "") {
			t.Errorf("request %s (%s): asset id %q", r.ID, r.Category, r.AssetID)
		}
		if typ != "" {
			a, ok := assets[r.AssetID]
			if !ok || a.Type != typ {
				t.Fatalf("request %s (%s) names asset %q of type %q", r.ID, r.Category, r.AssetID, a.Type)
			}
			d := metres(pj, a.Point, r.Point)
			if d > 25.5 {
				farFromAsset++
			}
			if d < 4.5 || d > 66 {
				t.Errorf("request %s is %.1f m from its asset", r.ID, d)
			}
		}
		if loc.locate(r.Point) < 0 {
			outside++
		}
		if h := r.CreatedAt.Add(-5 * time.Hour).Hour(); h >= 8 && h < 18 {
			daytime++
		}
	}
	n := float64(len(c.Requests))
	if s := float64(outside) / n; s < 0.0005 || s > 0.02 {
		t.Errorf("%.2f%% of requests outside the municipality, want about 0.5%%", 100*s)
	}
	if s := float64(daytime) / n; s < 0.5 {
		t.Errorf("only %.0f%% of requests between 8:00 and 18:00", 100*s)
	}
	if float64(farFromAsset) > 0.02*n {
		t.Errorf("%d asset requests more than 25 m from their asset", farFromAsset)
	}
	if len(cats) != len(categories) {
		t.Errorf("categories seen: %v", cats)
	}
	t.Logf("categories %v; %d outside", cats, outside)
}

func metres(pj proj, a, b orb.Point) float64 {
	return math.Hypot((a[0]-b[0])*pj.mLon, (a[1]-b[1])*pj.mLat)
}

// TestDuplicateShare counts requests that have an earlier request of the
// same category within 40 m and 10 days. That is at least the configured
// share (every generated duplicate qualifies) plus chance coincidences.
func TestDuplicateShare(t *testing.T) {
	for _, share := range []float64{0, 0.3, 0.6} {
		cfg := testConfig()
		cfg.DuplicateShare = share
		c := mustGenerate(t, cfg)
		pj := newProj(c.Config.Center)
		type key struct {
			cat  string
			x, y int
		}
		const cell = 40.0
		grid := map[key][]int{}
		dups := 0
		for i, r := range c.Requests {
			m := pj.metres(r.Point)
			cx, cy := int(math.Floor(m.x/cell)), int(math.Floor(m.y/cell))
			found := false
			for dx := -1; dx <= 1 && !found; dx++ {
				for dy := -1; dy <= 1 && !found; dy++ {
					for _, j := range grid[key{r.Category, cx + dx, cy + dy}] {
						e := c.Requests[j]
						if r.CreatedAt.Sub(e.CreatedAt) <= 10*24*time.Hour && metres(pj, e.Point, r.Point) <= 40.01 {
							found = true
							break
						}
					}
				}
			}
			if found {
				dups++
			}
			k := key{r.Category, cx, cy}
			grid[k] = append(grid[k], i)
		}
		got := float64(dups) / float64(len(c.Requests))
		if got < share-0.005 || got > share+0.05 {
			t.Errorf("share %.2f: %.3f of requests are near-duplicates", share, got)
		}
		t.Logf("share %.2f: measured %.3f", share, got)
	}
}

// The files the generator writes read back, through the service's own
// readers, to the same assets and wards.
func TestFilesRoundTrip(t *testing.T) {
	c := mustGenerate(t, testConfig())
	var b bytes.Buffer
	if err := c.WriteAssetsCSV(&b); err != nil {
		t.Fatal(err)
	}
	as, rowErrs, err := assets.LoadCSV(&b, assets.DefaultCSVFormat())
	if err != nil || len(rowErrs) > 0 {
		t.Fatal(err, rowErrs)
	}
	if len(as) != len(c.Assets) {
		t.Fatalf("read %d assets, wrote %d", len(as), len(c.Assets))
	}
	for i, a := range as {
		w := c.Assets[i]
		if a.ID != w.ID || a.Layer != w.Type || a.Point != w.Point {
			t.Fatalf("asset %d: read %+v, wrote %+v", i, a, w)
		}
	}

	b.Reset()
	if err := c.WriteWardsGeoJSON(&b); err != nil {
		t.Fatal(err)
	}
	ws, err := wards.LoadGeoJSON(&b, wards.DefaultFields())
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != len(c.Wards) {
		t.Fatalf("read %d wards, wrote %d", len(ws), len(c.Wards))
	}
	for i, w := range ws {
		g := c.Wards[i]
		if w.ID != g.ID || w.Name.En != g.NameEn || w.Name.Fr != g.NameFr || !w.Geometry.Equal(g.Geometry) {
			t.Fatalf("ward %d differs after the round trip", i)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	bad := []func(*CityConfig){
		func(c *CityConfig) { c.WardsX = 0 },
		func(c *CityConfig) { c.WardSizeM = 10 },
		func(c *CityConfig) { c.VerticesPerSide = 100_000 },
		func(c *CityConfig) { c.StreetSpacingM = 0 },
		func(c *CityConfig) { c.Requests = -1 },
		func(c *CityConfig) { c.DuplicateShare = 1 },
		func(c *CityConfig) { c.DuplicateShare = math.NaN() },
		func(c *CityConfig) { c.Center = orb.Point{200, 46} },
		func(c *CityConfig) { c.Days = -3 },
	}
	for i, mutate := range bad {
		cfg := SampleConfig()
		mutate(&cfg)
		if _, err := GenerateCity(cfg); err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
	cfg := SampleConfig()
	cfg.Center, cfg.Start, cfg.Days, cfg.Requests = orb.Point{}, time.Time{}, 0, 10
	c := mustGenerate(t, cfg)
	if c.Config.Center != (orb.Point{-73.10, 46.05}) || c.Config.Days != 365 || c.Config.Start.Year() != 2024 {
		t.Errorf("defaults not applied: %+v", c.Config)
	}
	if !c.Bound.Contains(c.Config.Center) {
		t.Errorf("bound %v does not contain the centre", c.Bound)
	}
}

func BenchmarkGenerateCity(b *testing.B) {
	cfg := DefaultCityConfig()
	cfg.Requests = 100_000
	for b.Loop() {
		if _, err := GenerateCity(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
