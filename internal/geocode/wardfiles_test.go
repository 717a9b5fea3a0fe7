package geocode

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/wards"
)

func TestWardFilesSet(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want WardFiles
		err  string
	}{
		{in: "wards.geojson", want: WardFiles{{Path: "wards.geojson"}}},
		{in: "2022-11-15=new.geojson", want: WardFiles{{From: "2022-11-15", Path: "new.geojson"}}},
		{in: "2022-11-15T00:00:00-05:00=new.geojson", want: WardFiles{{From: "2022-11-15T00:00:00-05:00", Path: "new.geojson"}}},
		{in: "a=b.geojson", want: WardFiles{{Path: "a=b.geojson"}}},
		{in: "a,b.geojson", want: WardFiles{{Path: "a,b.geojson"}}},
		{in: "2018-12-01=old.geojson,2022-11-15=new.geojson", want: WardFiles{{From: "2018-12-01", Path: "old.geojson"}, {From: "2022-11-15", Path: "new.geojson"}}},
		{in: "2022-13-40=new.geojson", err: "not a day"},
		{in: "2022-11-15=", err: "names no file"},
		{in: "", err: "names no file"},
	} {
		var w WardFiles
		err := w.Set(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Set(%q) = %v, want an error with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || fmt.Sprint(w) != fmt.Sprint(tc.want) {
			t.Errorf("Set(%q) = %v, %v; want %v", tc.in, w, err, tc.want)
		}
	}
}

// TestWardFilesLoad: each file is in force from its first day, midnight
// in the municipality's time zone, to the next one's; nothing before the
// oldest dated file; refused: two undated files, two on one day, a
// missing file.
func TestWardFilesLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, id string) string {
		p := filepath.Join(dir, name)
		gj := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"` + id + `","name_en":"W","name_fr":"Q"},` +
			`"geometry":{"type":"Polygon","coordinates":[[[-74,45],[-73,45],[-73,46],[-74,46],[-74,45]]]}}]}`
		if err := os.WriteFile(p, []byte(gj), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old, neu := write("old.geojson", "old"), write("new.geojson", "new")
	toronto, err := time.LoadLocation("America/Toronto")
	if err != nil {
		t.Fatal(err)
	}
	var w WardFiles
	for _, v := range []string{"2022-11-15=" + neu, "2018-12-01=" + old} { // any order
		if err := w.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	set, err := w.Load(wards.DefaultFields(), toronto)
	if err != nil {
		t.Fatal(err)
	}
	p := orb.Point{-73.5, 45.5}
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2018, 12, 1, 4, 59, 59, 0, time.UTC), ""}, // 23:59:59 the day before, in Toronto
		{time.Date(2018, 12, 1, 5, 0, 0, 0, time.UTC), "old"},
		{time.Date(2022, 11, 15, 4, 59, 59, 0, time.UTC), "old"},
		{time.Date(2022, 11, 15, 5, 0, 0, 0, time.UTC), "new"},
		{time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), "new"},
	} {
		got := ""
		if wd, ok := set.Locate(p, tc.at); ok {
			got = wd.ID
		}
		if got != tc.want {
			t.Errorf("Locate at %s = %q, want %q", tc.at, got, tc.want)
		}
	}
	// A plain file is in force since always, before the dated ones.
	w = nil
	for _, v := range []string{old, "2022-11-15=" + neu} {
		if err := w.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if set, err = w.Load(wards.DefaultFields(), nil); err != nil {
		t.Fatal(err)
	}
	if wd, ok := set.Locate(p, time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)); !ok || wd.ID != "old" {
		t.Errorf("an undated file is not in force in 1990: %v %v", wd, ok)
	}
	for _, tc := range []struct {
		files []string
		err   string
	}{
		{[]string{old, neu}, "only one boundary file may be undated"},
		{[]string{"2022-11-15=" + old, "2022-11-15=" + neu}, "both start on 2022-11-15"},
		{[]string{"2022-11-15=" + filepath.Join(dir, "missing.geojson")}, "missing.geojson"},
	} {
		w = nil
		for _, v := range tc.files {
			if err := w.Set(v); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Load(wards.DefaultFields(), nil); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Load(%v) = %v, want an error with %q", tc.files, err, tc.err)
		}
	}
}
