package addresses

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pinward/pinward/internal/realdata"
)

func write(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func labels(as []Address) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Label)
	}
	return out
}

func TestSearch(t *testing.T) {
	ix := New([]Address{
		{Label: "1265 Walkley Rd", Lon: -75.6588, Lat: 45.3734},
		{Label: "12 Walkley Rd", Lon: -75.6, Lat: 45.3},
		{Label: "1265 Walkley Rd", Lon: -75, Lat: 45}, // the same label again: kept once
		{Label: "60 Rue de la Futaie", Lon: -75.6875, Lat: 45.4864},
		{Label: "15 Chemin Sainte-Élisabeth", Lon: -73.1, Lat: 46.05},
		{Label: "120 Boulevard de l'Hôpital", Lon: -75.7, Lat: 45.5},
	})
	if ix.Len() != 5 {
		t.Errorf("Len %d, want 5", ix.Len())
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"1265 walk", []string{"1265 Walkley Rd"}},
		{"walkley", []string{"12 Walkley Rd", "1265 Walkley Rd"}},
		{"12 walkley", []string{"12 Walkley Rd", "1265 Walkley Rd"}}, // the whole number first
		{"chemin ste", nil}, // "ste" begins no word of "Sainte"
		{"sainte elis", []string{"15 Chemin Sainte-Élisabeth"}}, // accents and case aside
		{"HOPITAL", []string{"120 Boulevard de l'Hôpital"}},
		{"futaie 61", nil},
		{"  ", nil},
		{"", nil},
	} {
		got := labels(ix.Search(c.q, 10))
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("Search(%q) = %q, want %q", c.q, got, c.want)
		}
	}
	if got := ix.Search("walkley", 1); len(got) != 1 || got[0].Lon != -75.6 {
		t.Errorf("limit 1: %+v", got)
	}
	if got := ix.Search(strings.Repeat("w", 10_000), 5); got != nil {
		t.Errorf("a long query: %v", got)
	}
}

// TestSearchConcurrent: searches run at once on one index (the server
// answers residents in parallel); run with -race.
func TestSearchConcurrent(t *testing.T) {
	ix := New([]Address{{Label: "1265 Walkley Rd"}, {Label: "15 Chemin Sainte-Élisabeth"}})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				q := "walk"
				if i%2 == 1 {
					q = "élisa"
				}
				if got := ix.Search(q, 5); len(got) != 1 {
					t.Errorf("Search(%q) = %v", q, got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestLoadCSV(t *testing.T) {
	// A byte-order mark, a civic number and a street, a decimal comma, a
	// row without a point and one outside the world.
	p := write(t, "a.csv", "\ufeffNO_CIVIQUE;x\n")
	if _, _, err := LoadFile(p); err == nil {
		t.Error("a CSV without address columns loaded")
	}
	p = write(t, "a.csv", "\ufeffCIVIC_NUMBER,Street_Name,UNIT,Longitude,Latitude\n"+
		"10,Rue Principale,,-73.1,46.05\n"+
		"12,Rue Principale,3,\"-73,2\",\"46,1\"\n"+
		"14,Rue Principale,,,\n"+
		"16,Rue Principale,,-273.1,46.05\n")
	ix, skipped, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 2 || skipped != 2 {
		t.Errorf("%d addresses, %d skipped; want 2 and 2", ix.Len(), skipped)
	}
	if got := ix.Search("12 princ", 1); len(got) != 1 || got[0].Label != "12 Rue Principale, 3" || got[0].Lon != -73.2 {
		t.Errorf("12 princ: %+v", got)
	}
	p = write(t, "w.csv", "ADR_COMPLE,GEOM\n\"60 Rue de la Futaie\",\"POINT (-75.68749 45.486385)\"\nx,POINT EMPTY\n")
	if ix, skipped, err = LoadFile(p); err != nil || ix.Len() != 1 || skipped != 1 {
		t.Fatalf("WKT: %v, %d skipped, %v", ix, skipped, err)
	}
	if a := ix.Search("futaie", 1)[0]; math.Abs(a.Lat-45.486385) > 1e-9 {
		t.Errorf("WKT point %+v", a)
	}
	if _, _, err := LoadFile(write(t, "a.xlsx", "x")); err == nil {
		t.Error("an .xlsx loaded")
	}
	if _, _, err := LoadFile(write(t, "e.csv", "address,lon,lat\n")); err == nil {
		t.Error("a file without addresses loaded")
	}
}

func TestLoadGeoJSON(t *testing.T) {
	p := write(t, "a.geojson", `{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"addr:housenumber":"5","addr:street":"Main St"},"geometry":{"type":"Point","coordinates":[-75.7,45.4]}},
 {"type":"Feature","properties":{"ADDRESS":"7 Main St"},"geometry":{"type":"Point","coordinates":[-75.71,45.41]}},
 {"type":"Feature","properties":{"ADDRESS":"9 Main St"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},
 {"type":"Feature","properties":{"name":"a park"},"geometry":{"type":"Point","coordinates":[-75.72,45.42]}}
]}`)
	ix, skipped, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 2 || skipped != 2 {
		t.Errorf("%d addresses, %d skipped; want 2 and 2", ix.Len(), skipped)
	}
	if got := labels(ix.Search("main", 5)); strings.Join(got, "|") != "5 Main St|7 Main St" {
		t.Errorf("main: %q", got)
	}
	if _, _, err := LoadFile(write(t, "b.geojson", `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:32188"}},"features":[]}`)); err == nil {
		t.Error("a projected GeoJSON loaded")
	}
}

// TestRealFiles reads real municipal files with addresses and points
// (../shared/data): Ottawa's recreation facilities (an address column,
// latitude and longitude), Ottawa's schools (civic number and street) and
// Gatineau's public places (a byte-order mark, an address, WKT points).
func TestRealFiles(t *testing.T) {
	for _, c := range []struct {
		file, query, want string
		min               int
	}{
		{"ottawa/assets/recreation_facilities_raw.csv", "1265 walkley", "1265 Walkley Rd", 150},
		{"ottawa/assets/schools_raw.csv", "201 crestway", "201 prom. Crestway Dr", 300},
		{"gatineau/assets/lieu_publique.csv", "60 futaie", "60 Rue de la Futaie", 500},
	} {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			ix, skipped, err := LoadFile(realdata.File(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d addresses, %d rows skipped", ix.Len(), skipped)
			if ix.Len() < c.min {
				t.Errorf("%d addresses, want at least %d", ix.Len(), c.min)
			}
			got := ix.Search(c.query, 3)
			if len(got) == 0 || got[0].Label != c.want {
				t.Fatalf("Search(%q) = %+v, want %q first", c.query, got, c.want)
			}
			if got[0].Lon > -75 || got[0].Lon < -76.5 || got[0].Lat < 45 || got[0].Lat > 45.6 {
				t.Errorf("%s at %v,%v: not in the Ottawa–Gatineau area", got[0].Label, got[0].Lon, got[0].Lat)
			}
		})
	}
}
