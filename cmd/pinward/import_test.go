package main

import (
	"encoding/csv"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pinward/pinward/internal/realdata"
)

// TestImportThenReport runs the two command lines of issue 17 as written:
// `pinward import --source windsor FILE --data-dir D`, then `pinward
// report --by ward --from 2025-01-01 --to 2025-12-31 --data-dir D`; the
// report's rows equal a count of the 2025 file made here.
func TestImportThenReport(t *testing.T) {
	file := realdata.File(t, "windsor/311/AllServiceRequests_2025.csv")
	dir := t.TempDir()
	code, stdout, stderr := clusterMain(t, nil, "import", "--source", "windsor", file, "--data-dir", dir)
	if code != 0 || !strings.Contains(stdout, "rows 32594, imported 32576, skipped 18 (bad rows)") {
		t.Fatalf("import: exit %d\n%s\n%.2000s", code, stdout, stderr)
	}
	if !regexp.MustCompile(`(?m)^line \d+: AllServiceRequests_2025\.csv: no date requested \(skipped\)$`).MatchString(stderr) {
		t.Errorf("bad rows are not reported by line:\n%.1000s", stderr)
	}

	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, r := range recs[1:] { // Ward is column 5, Created Date column 7
		if strings.TrimSpace(r[6]) == "" {
			continue
		}
		want[strings.TrimPrefix(r[4], "WARD ")]++
	}

	code, stdout, stderr = clusterMain(t, nil, "report", "--by", "ward", "--from", "2025-01-01", "--to", "2025-12-31", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("report: exit %d\n%s", code, stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range rows[1:] {
		if r[0] != "*" {
			got[r[0]], _ = strconv.Atoi(r[2])
		}
	}
	if len(got) != len(want) {
		t.Errorf("report has %d wards, the file %d: %v vs %v", len(got), len(want), got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("ward %q: report %d, file %d", k, got[k], n)
		}
	}
}
