package histimport_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pinward/pinward/internal/geocode"
	"github.com/pinward/pinward/internal/realdata"
	"github.com/pinward/pinward/requests"
)

// TestLosAngeles imports Los Angeles' two geocoded files with the council
// districts as wards into each store: the district of each stored point
// equals the city's own `cd` column for at least 99.5 % of rows, the
// report has times to close, and the rows are clustered.
func TestLosAngeles(t *testing.T) {
	files := []string{realdata.File(t, "los_angeles/311/2018_mini_v1.csv"), realdata.File(t, "los_angeles/311/myla311_2020_seed_requests.csv")}
	districts := realdata.File(t, "los_angeles/boundaries/la-city-council-districts-2012.json")
	set, _, err := geocode.Files{Wards: geocode.WardFiles{{Path: districts}}, WardFields: "name,name"}.Load(os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	mapped := mappedCategories(t, "la")

	// The city's district by point (rounded to the file's text), from the
	// files alone.
	type key struct{ lon, lat float64 }
	cd := map[key]string{}
	var rows, located, unmapped, closedDated int
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		h, recs := readCSV(t, fh)
		fh.Close()
		lon, lat, c, typ, closed := col(t, h, "longitude"), col(t, h, "latitude"), col(t, h, "cd"), col(t, h, "requesttype"), col(t, h, "closeddate")
		for _, r := range recs {
			rows++
			if !mapped[strings.ToLower(r[typ])] {
				unmapped++
			}
			if r[closed] != "" {
				closedDated++
			}
			x, err1 := strconv.ParseFloat(r[lon], 64)
			y, err2 := strconv.ParseFloat(r[lat], 64)
			if err1 != nil || err2 != nil || (x == 0 && y == 0) {
				continue
			}
			located++
			cd[key{x, y}] = r[c]
		}
	}

	forEachStore(t, func(t *testing.T, st requests.Store) {
		sum, _ := runImport(t, st, "la", set, files...)
		check(t, "rows", sum.Rows, rows)
		check(t, "skipped", sum.Skipped, 0)
		check(t, "imported", sum.Imported, rows)
		check(t, "unmapped", sum.Unmapped, unmapped)
		check(t, "located", sum.Located, located)
		if sum.Clusters == 0 || sum.Clusters >= located {
			t.Errorf("%d clusters of %d located rows: want some duplicates joined", sum.Clusters, located)
		}

		var same, total int
		f := requests.Filter{Tenant: tenant, ByID: true, Limit: requests.MaxListLimit}
		for {
			page, err := st.ListRequests(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page {
				want, ok := cd[key{r.Point[0], r.Point[1]}]
				if !ok {
					t.Fatalf("stored point %v is in no row of the files", r.Point)
				}
				total++
				if r.WardID == want {
					same++
				}
			}
			if len(page) < f.Limit {
				break
			}
			f.AfterID = page[len(page)-1].ID
		}
		check(t, "listed rows (those with a point)", total, located)
		if share := float64(same) / float64(total); share < 0.995 {
			t.Errorf("district = cd for %d of %d rows (%.2f%%), want at least 99.5%%", same, total, 100*share)
		} else {
			t.Logf("district = cd for %d of %d rows (%.3f%%)", same, total, 100*share)
		}

		svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: catalog(t), Wards: set, Store: st})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := svc.Report(context.Background(), requests.ReportQuery{By: requests.ByWard})
		if err != nil {
			t.Fatal(err)
		}
		check(t, "report total", rep.Total.Received, rows)
		if !(rep.Total.MedianHoursToClose > 0 && rep.Total.P90HoursToClose > rep.Total.MedianHoursToClose) {
			t.Errorf("median %v, p90 %v hours to close: want both, from %d closing dates", rep.Total.MedianHoursToClose, rep.Total.P90HoursToClose, closedDated)
		}
	})
}
