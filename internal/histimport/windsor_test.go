package histimport_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/internal/realdata"
	"github.com/pinward/pinward/requests"
)

// TestWindsor imports Windsor's two files (no coordinates, no IDs) into
// each store, checks the counts against a reading of the CSV made here,
// checks that a second run changes nothing, and that the 2025 report by
// ward and by department equals a count made here from the 2025 file.
func TestWindsor(t *testing.T) {
	f2025 := realdata.File(t, "windsor/311/AllServiceRequests_2025.csv")
	files := []string{f2025, realdata.File(t, "windsor/311/AllServiceRequests_YTD_2026.csv")}
	if raceEnabled {
		files = files[:1] // the race detector slows the pure-Go SQLite tenfold
	}
	mapped := mappedCategories(t, "windsor")
	toronto, _ := time.LoadLocation("America/Toronto")
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, toronto)
	to := time.Date(2026, 1, 1, 0, 0, 0, 0, toronto).Add(-time.Microsecond)

	// The expected figures, from the files alone.
	var rows, skipped, unmapped int
	byWard, byDept := map[string]int{}, map[string]int{}
	total2025 := 0
	wardNum := regexp.MustCompile(`^WARD (\d+)$`)
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		h, recs := readCSV(t, fh)
		fh.Close()
		date, ward, dept, desc := col(t, h, "Created Date"), col(t, h, "Ward"), col(t, h, "Department"), col(t, h, "Service Request Description")
		for _, r := range recs {
			rows++
			if strings.TrimSpace(r[date]) == "" {
				skipped++
				continue
			}
			if !mapped[strings.ToLower(strings.TrimSpace(r[desc]))] {
				unmapped++
			}
			at, err := time.ParseInLocation("Jan 02, 2006 03:04:05 PM", r[date], toronto)
			if err != nil {
				t.Fatalf("test's own date parse: %v", err)
			}
			if at.Before(from) || at.After(to) {
				continue
			}
			total2025++
			w := ""
			if g := wardNum.FindStringSubmatch(r[ward]); g != nil {
				w = g[1]
			}
			byWard[w]++
			byDept[strings.TrimSpace(r[dept])]++
		}
	}
	if !raceEnabled && rows != 55663 {
		t.Fatalf("the Windsor files hold %d rows; the data README says 55,663", rows)
	}

	forEachStore(t, func(t *testing.T, st requests.Store) {
		sum, log := runImport(t, st, "windsor", nil, files...)
		check(t, "rows", sum.Rows, rows)
		check(t, "skipped", sum.Skipped, skipped)
		check(t, "imported", sum.Imported, rows-skipped)
		check(t, "unmapped", sum.Unmapped, unmapped)
		check(t, "located", sum.Located, 0)
		if !regexp.MustCompile(`(?m)^line \d+: AllServiceRequests_2025\.csv: no date requested \(skipped\)$`).MatchString(log) {
			t.Errorf("bad rows are not reported with their line:\n%.600s", log)
		}

		again, _ := runImport(t, st, "windsor", nil, files...)
		check(t, "second run: imported", again.Imported, 0)
		check(t, "second run: already stored", again.AlreadyStored, rows-skipped)

		// No row has a point: none is listed (Open311, tiles, the map).
		if rs, err := st.ListRequests(context.Background(), requests.Filter{Tenant: tenant}); err != nil || len(rs) != 0 {
			t.Errorf("ListRequests = %d requests, %v; want none (rows without a point stay off the map)", len(rs), err)
		}

		set, err := sample()
		if err != nil {
			t.Fatal(err)
		}
		svc, err := requests.NewService(requests.ServiceConfig{Tenant: tenant, Catalog: catalog(t), Wards: set, Store: st})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			by   requests.ReportBy
			want map[string]int
		}{{requests.ByWard, byWard}, {requests.ByDepartment, byDept}} {
			rep, err := svc.Report(context.Background(), requests.ReportQuery{By: tc.by, Start: from, End: to})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, r := range rep.Rows {
				got[r.Key] = r.Received
				if r.Open != 0 || r.Closed != r.Received {
					t.Errorf("%s %q: open %d, closed %d of %d (Windsor's rows are closed history)", tc.by, r.Key, r.Open, r.Closed, r.Received)
				}
				if r.MedianHoursToClose == r.MedianHoursToClose { // not NaN
					t.Errorf("%s %q: median hours to close %v, want none (Windsor publishes no closing dates)", tc.by, r.Key, r.MedianHoursToClose)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("report by %s: %d groups, want %d: %v vs %v", tc.by, len(got), len(tc.want), got, tc.want)
			}
			for k, n := range tc.want {
				check(t, "report by "+string(tc.by)+" "+k, got[k], n)
			}
			check(t, "report total", rep.Total.Received, total2025)
		}
	})
}
