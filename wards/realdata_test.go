package wards_test

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/internal/realdata"
	"github.com/pinward/pinward/wards"
)

// dataFile returns the path of rel under the shared data, skipping the test
// (failing it with PINWARD_REQUIRE_DATA=1) when that file is absent.
func dataFile(tb testing.TB, rel string) string { return realdata.File(tb, rel) }

func loadFile(tb testing.TB, path, fields string) []wards.Ward {
	tb.Helper()
	f, err := wards.ParseFields(fields)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	ws, err := wards.LoadGeoJSON(r, f)
	if err != nil {
		tb.Fatalf("load %s: %v", path, err)
	}
	return ws
}

func generation(tb testing.TB, ws []wards.Ward) *wards.Generation {
	tb.Helper()
	g, err := wards.NewGeneration(ws, time.Time{}, time.Time{})
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// The ward files of the real cities, with a landmark each whose ward is
// public knowledge.
var realCities = []struct {
	name, file, fields string
	count              int
	landmark           string
	at                 orb.Point
	wantID, wantEn     string
	wantFr             string
}{
	{"Ottawa", "ottawa/boundaries/Wards_2022-2026.geojson", "WARD,NAME,NAME_FR", 24,
		"City Hall, 110 Laurier Ave W", orb.Point{-75.6903, 45.4205}, "14", "Somerset", "Somerset"},
	{"Gatineau by CODEID", "gatineau/boundaries/decoupage_administratif.geojson", "CODEID,NOM", 5,
		"Canadian Museum of History", orb.Point{-75.7094, 45.4301}, "20", "Hull", "Hull"},
	{"Gatineau by ENTITEID", "gatineau/boundaries/decoupage_administratif.geojson", "ENTITEID,NOM", 5,
		"Canadian Museum of History", orb.Point{-75.7094, 45.4301}, "{36908290-4C89-41DB-A00A-C29EB4CFB9A8}", "Hull", "Hull"},
	{"Montréal", "montreal/boundaries/limites-administratives-agglomeration.geojson", "CODEID,NOM", 34,
		"Notre-Dame Basilica", orb.Point{-73.5562, 45.5045}, "", "Ville-Marie", "Ville-Marie"},
	{"Los Angeles", "los_angeles/boundaries/la-city-council-districts-2012.json", "name", 15,
		"City Hall, 200 N Spring St", orb.Point{-118.2427, 34.0537}, "14", "14", "14"},
}

func TestRealWardFiles(t *testing.T) {
	for _, c := range realCities {
		t.Run(c.name, func(t *testing.T) {
			ws := loadFile(t, dataFile(t, c.file), c.fields)
			if len(ws) != c.count {
				t.Errorf("%d wards, want %d", len(ws), c.count)
			}
			g := generation(t, ws)
			w, ok := g.Locate(c.at)
			if !ok {
				t.Fatalf("%s %v is in no ward", c.landmark, c.at)
			}
			if (c.wantID != "" && w.ID != c.wantID) || w.Name.En != c.wantEn || w.Name.Fr != c.wantFr {
				t.Errorf("%s is in %q %+v, want %q %q/%q", c.landmark, w.ID, w.Name, c.wantID, c.wantEn, c.wantFr)
			}
			vertices := 0
			for _, w := range ws {
				for _, poly := range w.Geometry {
					for _, r := range poly {
						vertices += len(r)
					}
				}
			}
			t.Logf("%d wards, %d vertices; %s in %s %q", len(ws), vertices, c.landmark, w.ID, w.Name.En)
		})
	}
}

// TestRealWindsorRefused: the derived Windsor file (reprojected from the
// city's UTM shapefile) has two self-intersecting rings, which PostGIS's
// ST_IsValidReason confirms (Self-intersection near -83.01497 42.27452 in
// ward 1, -82.97725 42.32175 in ward 8). The loader must name both.
func TestRealWindsorRefused(t *testing.T) {
	p := dataFile(t, "windsor/boundaries/windsor_wards_2018_wgs84.derived.geojson")
	r, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = wards.LoadGeoJSON(r, wards.Fields{ID: "NUMBER", NameEn: "WARD"})
	want := `wards: invalid geometry in features[1] (NUMBER "1"): ring intersects itself near -83.0141708,42.2733597
wards: invalid geometry in features[8] (NUMBER "8"): ring intersects itself near -82.9763542,42.3216462`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got  %v\n want %s", err, want)
	}
	var inv *geo.InvalidError
	if !errors.As(err, &inv) || inv.Feature != `features[1] (NUMBER "1")` {
		t.Errorf("first problem is not a named *geo.InvalidError: %#v", inv)
	}
}

func TestRealProjectedFileRefused(t *testing.T) {
	p := dataFile(t, "montreal/boundaries/limites-administratives-agglomeration-nad83.geojson")
	r, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = wards.LoadGeoJSON(r, wards.Fields{ID: "CODEID", NameEn: "NOM"})
	want := `wards: the file declares the coordinate reference system "urn:ogc:def:crs:EPSG::32188"; coordinates must be WGS84 longitude/latitude`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v, want one starting %q", err, want)
	}
}

func TestRealOttawaBilingualProps(t *testing.T) {
	ws := loadFile(t, dataFile(t, "ottawa/boundaries/Wards_2022-2026.geojson"), "WARD,NAME,NAME_FR")
	i := slices.IndexFunc(ws, func(w wards.Ward) bool { return w.ID == "23" })
	if i < 0 {
		t.Fatal("no ward 23")
	}
	w := ws[i]
	if w.Name.En != "Kanata South" || w.Name.Fr != "Kanata-Sud" {
		t.Errorf("ward 23 name %+v", w.Name)
	}
	if w.Props["SECTOR_FR"] != "Suburbain" || w.Props["FID"] != "2" || w.Props["SHAPE_Area"] != "33844909.871718161" {
		t.Errorf("props %v", w.Props)
	}
	if _, ok := w.Props["WARD"]; ok {
		t.Error("the ID property is repeated in Props")
	}
}

// TestRealLocateMatchesBruteForce checks the index against geo.Covers on
// real boundaries: random points over each city plus points on its
// vertices, which lie on the borders neighbours share.
func TestRealLocateMatchesBruteForce(t *testing.T) {
	for _, c := range realCities {
		t.Run(c.name, func(t *testing.T) {
			ws := loadFile(t, dataFile(t, c.file), c.fields)
			g := generation(t, ws)
			rng := rand.New(rand.NewPCG(7, uint64(len(c.name))))
			b := g.Bound()
			pts := make([]orb.Point, 0, 3000)
			for range 2000 {
				pts = append(pts, orb.Point{
					b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]),
					b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1]),
				})
			}
			for range 1000 {
				w := ws[rng.IntN(len(ws))]
				poly := w.Geometry[rng.IntN(len(w.Geometry))]
				r := poly[rng.IntN(len(poly))]
				pts = append(pts, r[rng.IntN(len(r))])
			}
			bad := 0
			for _, p := range pts {
				var want string
				for _, w := range ws {
					if geo.Covers(w.Geometry, p) {
						want = w.ID
						break
					}
				}
				var got string
				if w, ok := g.Locate(p); ok {
					got = w.ID
				}
				if got != want {
					if bad++; bad <= 5 {
						t.Errorf("Locate(%v) = %q, brute force %q", p, got, want)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d disagree", bad, len(pts))
			}
		})
	}
}

// csvColumns opens a CSV file and returns a reader and the positions of the
// named header columns (case-sensitive).
func csvColumns(tb testing.TB, path string, names ...string) (*csv.Reader, []int, func()) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1 // rows with unquoted commas have extra fields
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		tb.Fatalf("%s: header: %v", path, err)
	}
	header = slices.Clone(header)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\uFEFF")
	}
	cols := make([]int, len(names))
	for i, n := range names {
		cols[i] = slices.Index(header, n)
		if cols[i] < 0 {
			tb.Fatalf("%s: no column %q in %q", path, n, header)
		}
	}
	return r, cols, func() { f.Close() }
}

// lonLat parses a geocoded position; false for blanks and the 0,0 some
// exports write for "not geocoded".
func lonLat(rec []string, latCol, lonCol int) (orb.Point, bool) {
	if latCol >= len(rec) || lonCol >= len(rec) {
		return orb.Point{}, false
	}
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(rec[latCol]), 64)
	lon, err2 := strconv.ParseFloat(strings.TrimSpace(rec[lonCol]), 64)
	if err1 != nil || err2 != nil || (lat == 0 && lon == 0) {
		return orb.Point{}, false
	}
	p := orb.Point{lon, lat}
	return p, geo.ValidatePoint(p) == nil
}

// TestRealLosAngelesAgreesWithCity locates the MyLA311 requests of January
// 2020 in the 2012 council districts (in force until the 2021 redistricting)
// and compares with the district the city itself recorded.
func TestRealLosAngelesAgreesWithCity(t *testing.T) {
	g := generation(t, loadFile(t, dataFile(t, "los_angeles/boundaries/la-city-council-districts-2012.json"), "name"))
	r, cols, done := csvColumns(t, dataFile(t, "los_angeles/311/myla311_2020_seed_requests.csv"), "latitude", "longitude", "cd")
	defer done()
	var rows, geocoded, withCD, agree, outside int
	confusion := map[string]int{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows++
		p, ok := lonLat(rec, cols[0], cols[1])
		if !ok {
			continue
		}
		geocoded++
		cd := numberField(rec[cols[2]])
		if cd == "" {
			continue
		}
		withCD++
		w, ok := g.Locate(p)
		switch {
		case !ok:
			outside++
			confusion[cd+"→outside"]++
		case w.ID == cd:
			agree++
		default:
			confusion[cd+"→"+w.ID]++
		}
	}
	share := float64(agree) / float64(withCD)
	t.Logf("Los Angeles: %d rows, %d geocoded, %d with the city's cd; agreement %d/%d = %.2f%%; %d outside every district; disagreements (city→ours): %v",
		rows, geocoded, withCD, agree, withCD, 100*share, outside, confusion)
	if withCD < 9000 {
		t.Errorf("only %d geocoded requests with a district; the CSV parse is off", withCD)
	}
	if share < 0.99 {
		t.Errorf("agreement with the city's council district %.2f%%, want ≥ 99%%", 100*share)
	}
}

// numberField normalises "6", "6.0" and " 6 " to "6".
func numberField(s string) string {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int64(f)) {
		return strconv.FormatInt(int64(f), 10)
	}
	return s
}

// TestRealOttawaCollisions locates Ottawa's geocoded traffic collisions: a
// real point stream inside the city, so nearly all must land in a ward.
func TestRealOttawaCollisions(t *testing.T) {
	g := generation(t, loadFile(t, dataFile(t, "ottawa/boundaries/Wards_2022-2026.geojson"), "WARD,NAME,NAME_FR"))
	r, cols, done := csvColumns(t, dataFile(t, "ottawa/events/collisions_raw.csv"), "LATITUDE", "LONGITUDE")
	defer done()
	var rows, geocoded, located, ragged int
	perWard := map[string]int{}
	var missed []orb.Point
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows++
		if len(rec) != 16 {
			ragged++
		}
		p, ok := lonLat(rec, cols[0], cols[1])
		if !ok {
			continue
		}
		geocoded++
		if w, ok := g.Locate(p); ok {
			located++
			perWard[w.ID]++
		} else if len(missed) < 5 {
			missed = append(missed, p)
		}
	}
	share := float64(located) / float64(geocoded)
	t.Logf("Ottawa collisions: %d rows (%d with unquoted commas), %d geocoded, %d in a ward = %.2f%%; first misses %v; per ward %v",
		rows, ragged, geocoded, located, 100*share, missed, perWard)
	if rows != 15000 || geocoded < 14900 {
		t.Errorf("read %d rows, %d geocoded; want 15,000 and about 14,929", rows, geocoded)
	}
	if share < 0.99 {
		t.Errorf("only %.2f%% of collisions in a ward, want ≥ 99%%", 100*share)
	}
	if len(perWard) != 24 {
		t.Errorf("collisions in %d wards, want all 24", len(perWard))
	}
}

// TestRealConcurrentLocate runs lookups from many goroutines under -race.
func TestRealConcurrentLocate(t *testing.T) {
	g := generation(t, loadFile(t, dataFile(t, "ottawa/boundaries/Wards_2022-2026.geojson"), "WARD,NAME,NAME_FR"))
	s, err := wards.NewSet(g)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := s.Locate(orb.Point{-75.6903, 45.4205}, time.Now())
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			for range 1000 {
				if w, ok := s.Locate(orb.Point{-75.6903, 45.4205}, time.Now()); !ok || w != want {
					errs <- fmt.Errorf("goroutine %d: got %v", i, w)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
