package assets_test

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/internal/realdata"
)

// sharedData returns the path of a file under the real open-data folder
// (shared/data beside the repository root), or skips the test naming where
// it looked (fails it with PINWARD_REQUIRE_DATA=1).
func sharedData(tb testing.TB, rel string) string { return realdata.File(tb, rel) }

type realLayer struct {
	file, format string // format: a --asset-columns spec, or "geojson:idProp:layer"
	count        int
	bbox         orb.Bound // from PROVENANCE.md, rounded to 1e-5°
}

// The real layers, with what each city's PROVENANCE.md says about them.
var realLayers = map[string]realLayer{
	"gatineau hydrants": {"gatineau/assets/borne_fontaine.csv", "id=ENTITEID,wkt=GEOM,layer=hydrant", 8077,
		orb.Bound{Min: orb.Point{-75.87652, 45.38014}, Max: orb.Point{-75.38411, 45.59899}}},
	"ottawa stops": {"ottawa/assets/OC_Transpo_Stops.csv", "id=FID,lon=Longitude,lat=Latitude,layer=bus_stop", 5785,
		orb.Bound{Min: orb.Point{-76.04278, 45.13014}, Max: orb.Point{-75.34269, 45.51969}}},
	"ottawa benches": {"ottawa/assets/OttawaBenches_2020-04-05.geojson", "geojson:OBJECTID:bench", 1273,
		orb.Bound{Min: orb.Point{-76.18703, 45.19181}, Max: orb.Point{-75.34138, 45.5074}}},
	"montreal traffic signals": {"montreal/assets/feux-circulation.csv", "id=INT_NO,lon=Longitude,lat=Latitude,layer=traffic_signal", 2346,
		orb.Bound{Min: orb.Point{-73.87559, 45.42049}, Max: orb.Point{-73.48724, 45.69738}}},
	"montreal pedestrian signals": {"montreal/assets/feux-pietons.csv", "id=INT_NO,lon=Longitude,lat=Latitude,layer=pedestrian_signal", 2108,
		orb.Bound{Min: orb.Point{-73.87324, 45.42154}, Max: orb.Point{-73.48724, 45.69538}}},
	"stm stops": {"montreal/assets/stm_gtfs_stops.txt", "id=stop_id,lon=stop_lon,lat=stop_lat,layer=stm_stop", 8897,
		orb.Bound{Min: orb.Point{-73.9562, 45.40267}, Max: orb.Point{-73.48058, 45.70112}}},
}

// loadReal loads one real layer, skipping when the data is absent.
func loadReal(tb testing.TB, name string) ([]assets.Asset, []assets.RowError) {
	tb.Helper()
	l := realLayers[name]
	f, err := os.Open(sharedData(tb, l.file))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if spec, ok := strings.CutPrefix(l.format, "geojson:"); ok {
		idProp, layer, _ := strings.Cut(spec, ":")
		as, rowErrs, err := assets.LoadGeoJSON(f, idProp, "", layer)
		if err != nil {
			tb.Fatalf("%s: %v", l.file, err)
		}
		return as, rowErrs
	}
	format, err := assets.ParseCSVFormat(l.format)
	if err != nil {
		tb.Fatal(err)
	}
	as, rowErrs, err := assets.LoadCSV(f, format)
	if err != nil {
		tb.Fatalf("%s: %v", l.file, err)
	}
	return as, rowErrs
}

func TestRealData(t *testing.T) {
	for _, name := range []string{"gatineau hydrants", "ottawa stops", "ottawa benches", "montreal traffic signals", "montreal pedestrian signals", "stm stops"} {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			l := realLayers[name]
			as, rowErrs := loadReal(t, name)
			t.Logf("%s (%s): %d assets, %d row errors", l.file, l.format, len(as), len(rowErrs))
			for i, e := range rowErrs {
				if i == 10 {
					t.Logf("  … and %d more", len(rowErrs)-10)
					break
				}
				t.Logf("  %v", e)
			}
			// PROVENANCE.md lists these files as clean: every row loads.
			if len(as) != l.count || len(rowErrs) != 0 {
				t.Errorf("loaded %d assets with %d row errors; PROVENANCE.md predicts %d and none", len(as), len(rowErrs), l.count)
			}
			// The bounding box proves the right columns were read, the
			// right way round.
			b := orb.MultiPoint{}
			for _, a := range as {
				b = append(b, a.Point)
			}
			got := b.Bound()
			if !near(got.Min, l.bbox.Min, 1e-5) || !near(got.Max, l.bbox.Max, 1e-5) {
				t.Errorf("bounding box %v, PROVENANCE.md says %v", got, l.bbox)
			}
			ix, err := assets.NewIndex(as)
			if err != nil {
				t.Fatal(err)
			}
			if ix.Len() != l.count {
				t.Errorf("index holds %d", ix.Len())
			}
			// Every asset is its own nearest at 0 m (or shares its spot
			// with a smaller ID).
			onOther := 0
			for _, a := range as {
				got, d, ok := ix.Nearest(a.Point, 1)
				if !ok || d != 0 || got.Layer+"/"+got.ID > a.Layer+"/"+a.ID {
					t.Fatalf("Nearest at %s/%s itself = %+v %v %v", a.Layer, a.ID, got, d, ok)
				}
				if got.ID != a.ID {
					onOther++
				}
			}
			t.Logf("%d assets sit exactly on another asset with a smaller ID", onOther)
		})
	}
}

// TestRealDataAttributes checks the attribute counts PROVENANCE.md gives,
// which proves the other columns are carried as they are.
func TestRealDataAttributes(t *testing.T) {
	t.Run("gatineau", func(t *testing.T) {
		as, _ := loadReal(t, "gatineau hydrants")
		types, owners, labels := counts(as, "TYPE"), counts(as, "PROPRIO"), counts(as, "ETIQUETTE")
		t.Logf("TYPE %v; PROPRIO %v; %d distinct ETIQUETTE", types, owners, len(labels))
		if types["Eau potable"] != 8070 || types["Eau brute"] != 7 || owners["Ville"] != 7451 || owners["Privé"] != 617 || len(labels) != 8064 {
			t.Error("attribute counts differ from PROVENANCE.md (TYPE 8,070/7, PROPRIO Ville 7,451 / Privé 617, 8,064 ETIQUETTE)")
		}
		a := find(as, "{863C7712-F50F-496B-8E31-92D0165FA301}")
		if a.Point != (orb.Point{-75.738712, 45.500612}) || a.Attrs["ETIQUETTE"] != "1840-1" || a.Attrs["SPECIFIQUE"] != "Émard" {
			t.Errorf("first hydrant = %+v", a)
		}
	})
	t.Run("ottawa", func(t *testing.T) {
		as, _ := loadReal(t, "ottawa stops")
		if n := len(counts(as, "F560")); n != 5585 {
			t.Errorf("%d distinct F560 stop codes, PROVENANCE.md says 5,585", n)
		}
		a := find(as, "1")
		if a.Point != (orb.Point{-75.695438, 45.440453}) || a.Attrs["F560"] != "8767" || a.Attrs["X"] != "-8426377.54131978" {
			t.Errorf("FID 1 = %+v", a)
		}
	})
	t.Run("stm", func(t *testing.T) {
		as, _ := loadReal(t, "stm stops")
		kinds := counts(as, "location_type")
		t.Logf("location_type %v", kinds)
		if kinds["0"] != 8692 || kinds["1"] != 68 || kinds["2"] != 137 {
			t.Error("location types differ from PROVENANCE.md (8,692 stops, 68 stations, 137 entrances)")
		}
	})
}

// TestRealDataProjectedColumns points the loader at the projected
// coordinate columns the real files also carry (Ottawa's Web Mercator X/Y,
// Montréal's MTM LOC_X/LOC_Y): every row must be refused, by line.
func TestRealDataProjectedColumns(t *testing.T) {
	for file, spec := range map[string]string{
		"ottawa/assets/OC_Transpo_Stops.csv":   "id=FID,lon=X,lat=Y,layer=bus_stop",
		"montreal/assets/feux-circulation.csv": "id=INT_NO,lon=LOC_X,lat=LOC_Y,layer=traffic_signal",
	} {
		f, err := os.Open(sharedData(t, file))
		if err != nil {
			t.Fatal(err)
		}
		format, _ := assets.ParseCSVFormat(spec)
		as, rowErrs, err := assets.LoadCSV(f, format)
		f.Close()
		if err != nil || len(as) != 0 || len(rowErrs) == 0 || rowErrs[0].Line != 2 ||
			!strings.Contains(rowErrs[0].Error(), "out of range") {
			t.Fatalf("%s with %s: %d assets, %d row errors, err %v; want every row refused as out of range, from line 2",
				file, spec, len(as), len(rowErrs), err)
		}
		t.Logf("%s with %s: %d rows refused, e.g. %v", file, spec, len(rowErrs), rowErrs[0])
	}
}

func counts(as []assets.Asset, attr string) map[string]int {
	m := map[string]int{}
	for _, a := range as {
		m[a.Attrs[attr]]++
	}
	return m
}

func find(as []assets.Asset, id string) assets.Asset {
	for _, a := range as {
		if a.ID == id {
			return a
		}
	}
	return assets.Asset{}
}

func near(a, b orb.Point, tol float64) bool {
	return math.Abs(a[0]-b[0]) <= tol && math.Abs(a[1]-b[1]) <= tol
}
