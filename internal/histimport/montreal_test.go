package histimport_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pinward/pinward/internal/geocode"
	"github.com/pinward/pinward/internal/realdata"
	"github.com/pinward/pinward/requests"
)

// TestMontreal imports the five overlapping JSON files of resident reports
// (rats, vermin, insects) with the boroughs as wards: each ID_UNIQUE is
// stored once, the located rows are geocoded, the rest keep their borough.
func TestMontreal(t *testing.T) {
	dir := filepath.Dir(realdata.File(t, "montreal/311/hackqc_rats_rats.json"))
	files, _ := filepath.Glob(filepath.Join(dir, "hackqc_*.json"))
	set, _, err := geocode.Files{Wards: geocode.WardFiles{{Path: realdata.File(t, "montreal/boundaries/limites-administratives-agglomeration.geojson")}}, WardFields: "NOM,NOM"}.Load(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var rows, located, skipped int
	ids := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var recs []map[string]any
		if err := json.Unmarshal(b, &recs); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			rows++
			id, _ := r["ID_UNIQUE"].(string)
			if id == "" {
				skipped++ // "Information" rows: no ID, no place
				continue
			}
			if ids[id] {
				continue
			}
			ids[id] = true
			lon := fmt.Sprint(r["LOC_LONG"])
			if v, err := strconv.ParseFloat(lon, 64); err == nil && v != 0 {
				located++
			}
		}
	}
	forEachStore(t, func(t *testing.T, st requests.Store) {
		sum, log := runImport(t, st, "montreal", set, files...)
		check(t, "rows", sum.Rows, rows)
		check(t, "skipped", sum.Skipped, skipped)
		check(t, "imported", sum.Imported, len(ids))
		check(t, "duplicates", sum.Duplicates, rows-skipped-len(ids))
		check(t, "located", sum.Located, located)
		if sum.Outside > sum.Located/100 {
			t.Errorf("%d of %d located rows outside every borough", sum.Outside, sum.Located)
		}
		if !strings.Contains(log, "line 1: hackqc_rats_data.json: no ID (skipped)") {
			t.Errorf("the first row without an ID (the 1st record of hackqc_rats_data.json) is not reported:\n%.500s", log)
		}
	})
}
