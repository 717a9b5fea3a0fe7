package histimport_test

import (
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pinward/pinward/internal/geocode"
	"github.com/pinward/pinward/internal/realdata"
	"github.com/pinward/pinward/requests"
)

// TestOttawa imports Ottawa's 318,086 requests of 2013-2014 (no
// coordinates, messy ward spellings, three date formats, shifted columns)
// into each store with the 2022-2026 wards, and checks the counts against
// a reading of the files made here: a row is keyed by its fields and its
// occurrence in its file, so rows repeated in a later file (August 2014
// holds January's) are duplicates.
func TestOttawa(t *testing.T) {
	dir := filepath.Dir(realdata.File(t, "ottawa/311/2013-311-Data.csv.gz"))
	files, _ := filepath.Glob(filepath.Join(dir, "*SR-2014.csv"))
	files = append(files, filepath.Join(dir, "2013-311-Data.csv.gz"))
	full := !raceEnabled
	if !full {
		// The race detector slows the pure-Go SQLite tenfold: two months
		// (January, and August which repeats part of it) keep every quirk.
		files = []string{filepath.Join(dir, "JanSR-2014.csv"), filepath.Join(dir, "AugSR-2014.csv")}
	}
	set, _, err := geocode.Files{Wards: geocode.WardFiles{{Path: realdata.File(t, "ottawa/boundaries/Wards_2022-2026.geojson")}}, WardFields: "WARD,NAME,NAME_FR"}.Load(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	mapped := mappedCategories(t, "ottawa")
	goodDate := regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|\d{4}-[A-Z][a-z]{2}-\d\d \d\d:\d\d:\d\d|\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d)$`)

	var rows, skipped, dups, unmapped, noWard int
	seen := map[string]bool{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = fh
		if strings.HasSuffix(f, ".gz") {
			if r, err = gzip.NewReader(fh); err != nil {
				t.Fatal(err)
			}
		}
		h, recs := readCSV(t, r)
		fh.Close()
		date, desc, ward := col(t, h, "creation_date"), col(t, h, "call_description"), col(t, h, "ward")
		occ := map[string]int{}
		for _, rec := range recs {
			rows++
			if !goodDate.MatchString(rec[date]) {
				skipped++
				continue
			}
			k := strings.Join(rec, "\x1f")
			occ[k]++
			k += "#" + strconv.Itoa(occ[k])
			if seen[k] {
				dups++
				continue
			}
			seen[k] = true
			if !mapped[strings.ToLower(rec[desc])] {
				unmapped++
			}
			if w := strings.ToLower(strings.TrimSpace(rec[ward])); w == "" || strings.HasPrefix(w, "und") {
				noWard++
			}
		}
	}
	if full && rows != 318086 {
		t.Fatalf("the Ottawa files hold %d rows; the data README says 318,086", rows)
	}
	forEachStore(t, func(t *testing.T, st requests.Store) {
		sum, _ := runImport(t, st, "ottawa", set, files...)
		check(t, "rows", sum.Rows, rows)
		check(t, "skipped", sum.Skipped, skipped)
		check(t, "duplicates", sum.Duplicates, dups)
		check(t, "imported", sum.Imported, rows-skipped-dups)
		check(t, "unmapped", sum.Unmapped, unmapped)
		// Every spelling of a ward ("Ward 7", "WARD 7", "`WARD 14",
		// "RIDEAU-VANIER", ...) is matched; only empty and "Undetermined"
		// wards are not.
		check(t, "ward unmatched", sum.WardUnmatched, noWard)

		again, _ := runImport(t, st, "ottawa", set, files[0])
		check(t, "second run of one file: imported", again.Imported, 0)

		svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: catalog(t), Wards: set, Store: st})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := svc.Report(context.Background(), requests.ReportQuery{By: requests.ByWard})
		if err != nil {
			t.Fatal(err)
		}
		check(t, "report total", rep.Total.Received, rows-skipped-dups)
		for _, r := range rep.Rows {
			if _, ok := set.Generations()[0].Ward(r.Key); !ok && r.Key != "" {
				t.Errorf("report row for ward %q, which the ward set lacks", r.Key)
			}
		}
	})
}
