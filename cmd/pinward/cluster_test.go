package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pinward/pinward/data"
	"github.com/pinward/pinward/dedup"
	"github.com/pinward/pinward/internal/realdata"
)

// clusterMain runs pinward in-process with its own streams.
func clusterMain(t *testing.T, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Stdin: stdin, Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code = Main(context.Background(), args, env)
	return code, out.String(), errb.String()
}

// readAssignments parses pinward cluster's output.
func readAssignments(t *testing.T, out string) []dedup.Assignment {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, out)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "id,cluster_id" {
		t.Fatalf("output header %v, want id,cluster_id", rows)
	}
	as := make([]dedup.Assignment, len(rows)-1)
	for i, r := range rows[1:] {
		as[i] = dedup.Assignment{ID: r[0], ClusterID: r[1]}
	}
	return as
}

func TestClusterCommand(t *testing.T) {
	// Columns in another order, an extra one; 1–3 chain along 40 m steps
	// (single linkage), 4 is far, 5 sits on 1 but is another category, 6
	// sits on 2 but a month later.
	in := "lat,extra,id,lon,category,created_at\n" +
		"45.40000,x,10,-75.70000,pothole,2024-05-01T08:00:00Z\n" +
		"45.40036,x,2,-75.70000,pothole,2024-05-02 09:00:00\n" +
		"45.40072,x,3,-75.70000,pothole,2024-05-03\n" +
		"45.41000,x,4,-75.70000,pothole,2024-05-03\n" +
		"45.40000,x,5,-75.70000,graffiti,2024-05-03\n" +
		"45.40036,x,6,-75.70000,pothole,2024-06-15T00:00:00-04:00\n"
	for _, tc := range []struct {
		args []string
		want string // cluster_id of 10, 2, 3, 4, 5, 6
	}{
		{[]string{"--eps", "50"}, "2 2 2 4 5 2"},
		{[]string{"--eps", "30"}, "10 2 3 4 5 2"},
		{[]string{"--eps", "50", "--window", "30d"}, "2 2 2 4 5 6"},
		{[]string{"--eps", "50", "--window", "24h"}, "10 2 2 4 5 6"}, // 10 and 2 are 25 h apart
		{[]string{"--eps", "50", "--by", "none"}, "2 2 2 4 2 2"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := clusterMain(t, strings.NewReader(in), append([]string{"cluster"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, errOut)
			}
			var got []string
			for _, a := range readAssignments(t, out) {
				got = append(got, a.ClusterID)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("cluster ids %v, want %s", got, tc.want)
			}
			if !strings.Contains(errOut, "cluster: 6 requests,") || !strings.Contains(errOut, "0 bad rows skipped") {
				t.Errorf("summary missing or wrong:\n%s", errOut)
			}
		})
	}
}

func TestClusterCommandSameAsset(t *testing.T) {
	in := "id,category,created_at,lon,lat,asset_id\n" +
		"1,streetlight_out,2024-05-01,-75.700,45.400,L-7\n" +
		"2,streetlight_out,2024-05-02,-75.701,45.400,L-7\n" + // 78 m away, same lamp
		"3,streetlight_out,2024-05-02,-75.702,45.400,\n"
	code, out, errOut := clusterMain(t, strings.NewReader(in), "cluster", "--eps", "30", "--same-asset")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if got := fmt.Sprint(readAssignments(t, out)); got != "[{1 1} {2 1} {3 3}]" {
		t.Errorf("assignments %s", got)
	}
	code, _, errOut = clusterMain(t, strings.NewReader("id,category,lon,lat\n"), "cluster", "--same-asset")
	if code != 2 || !strings.Contains(errOut, `no "asset_id" column`) {
		t.Errorf("--same-asset without asset_id: exit %d, %q", code, errOut)
	}
}

func TestClusterCommandBadRows(t *testing.T) {
	in := "id,category,created_at,lon,lat\n" +
		"1,pothole,2024-05-01,-75.7,45.4\n" +
		"2,pothole,yesterday,-75.7,45.4\n" + // line 3
		"3,pothole,2024-05-01,NaN,45.4\n" +
		"4,pothole,2024-05-01,-75.7,95\n" +
		"5,pothole,2024-05-01,34.05,-118.3\n" + // LA, swapped
		"1,pothole,2024-05-01,-75.7,45.4\n" +
		",pothole,2024-05-01,-75.7,45.4\n" +
		"8,pothole,2024-05-01\n" +
		"9,pothole,2024-05-01,abc,45.4\n" +
		"\"10,pothole,2024-05-01,-75.7,45.4\n" // line 11: unterminated quote
	code, out, errOut := clusterMain(t, strings.NewReader(in), "cluster", "--window", "14d")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if got := fmt.Sprint(readAssignments(t, out)); got != "[{1 1}]" {
		t.Errorf("assignments %s, want only the good row", got)
	}
	for _, want := range []string{
		`line 3: id 2: created_at "yesterday" is not an RFC 3339 time`,
		"line 4: id 3: invalid geometry: longitude is not a finite number",
		"line 5: id 4: invalid geometry: latitude 95 is out of range",
		"line 6: id 5: invalid geometry: latitude -118.3 is out of range [-90, 90]; longitude and latitude look swapped",
		"line 7: id 1 already appears on line 2",
		"line 8: empty id",
		"line 9: row has 3 fields",
		`line 10: id 9: lon "abc" is not a number`,
		"line 11:",
		"1 requests, 1 clusters",
		"9 bad rows skipped",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestClusterCommandUsage(t *testing.T) {
	code, out, _ := clusterMain(t, strings.NewReader(""), "cluster", "--help")
	if code != 0 || !strings.Contains(out, "Usage: pinward cluster") || !strings.Contains(out, "-window") || !strings.Contains(out, "ST_ClusterDBSCAN") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"id,lon,lat\n", []string{"--by", "ward"}, "--by must be category or none"},
		{"id,lon,lat\n", []string{"--window", "-3d"}, "is negative"},
		{"id,lon,lat\n", []string{"--window", "soon"}, "is not 0, a number of days"},
		{"id,lon,lat\n", []string{"--eps", "-1"}, "--eps must be"},
		{"id,lon,lat\n", []string{"--eps", "NaN"}, "--eps must be"},
		{"id,lon,lat\n", nil, `no "category" column`},
		{"id,category,lon,lat\n", []string{"--window", "3d"}, `no "created_at" column`},
		{"name,category,lon,lat\n", []string{"--by", "none"}, `no "id" column`},
		{"", nil, "the input is empty"},
		{"id,lon,lat,LON\n", []string{"--by", "none"}, `names column "lon" twice`},
		{"id,lon,lat\n", []string{"extra"}, "unexpected argument"},
	} {
		code, _, errOut := clusterMain(t, strings.NewReader(tc.stdin), append([]string{"cluster"}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v on %q: exit %d, stderr %q; want 2 and %q", tc.args, tc.stdin, code, errOut, tc.want)
		}
	}
	// A header alone is a valid, empty input.
	code, out, errOut := clusterMain(t, strings.NewReader("id,lon,lat\n"), "cluster", "--by", "none")
	if code != 0 || out != "id,cluster_id\n" || !strings.Contains(errOut, "0 requests, 0 clusters") {
		t.Errorf("empty input: exit %d, out %q, err %q", code, out, errOut)
	}
}

// syntheticCity generates the synthetic city with n requests.
func syntheticCity(t testing.TB, n int) *data.City {
	t.Helper()
	cfg := data.DefaultCityConfig()
	cfg.Requests = n
	city, err := data.GenerateCity(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return city
}

func cityReports(city *data.City) []dedup.Report {
	rs := make([]dedup.Report, len(city.Requests))
	for i, r := range city.Requests {
		rs[i] = dedup.Report{ID: r.ID, Category: r.Category, CreatedAt: r.CreatedAt, Point: r.Point, AssetID: r.AssetID}
	}
	return rs
}

// writeRequestsCSV writes city's requests as pinward cluster reads them:
// id,category,created_at,lon,lat, created_at in RFC 3339 UTC and the
// coordinates as the shortest decimals that parse back exactly.
func writeRequestsCSV(b *bytes.Buffer, city *data.City) {
	b.WriteString("id,category,created_at,lon,lat\n")
	for _, r := range city.Requests {
		fmt.Fprintf(b, "%s,%s,%s,%s,%s\n", r.ID, r.Category, r.CreatedAt.UTC().Format(time.RFC3339),
			strconv.FormatFloat(r.Point[0], 'f', -1, 64), strconv.FormatFloat(r.Point[1], 'f', -1, 64))
	}
}

// TestClusterCommandMatchesPackage runs a synthetic city's requests file
// through the command and checks it against dedup.Cluster directly.
func TestClusterCommandMatchesPackage(t *testing.T) {
	city := syntheticCity(t, 20_000)
	var csvIn bytes.Buffer
	writeRequestsCSV(&csvIn, city)
	for _, window := range []time.Duration{0, 7 * 24 * time.Hour} {
		code, out, errOut := clusterMain(t, bytes.NewReader(csvIn.Bytes()), "cluster", "--eps", "40", "--window", window.String())
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		want, err := dedup.Cluster(cityReports(city), dedup.Rules{Default: dedup.Rule{Distance: 40, Window: window}})
		if err != nil {
			t.Fatal(err)
		}
		got := readAssignments(t, out)
		if len(got) != len(want) {
			t.Fatalf("window %v: %d assignments, want %d", window, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("window %v: request %s in cluster %s, want %s", window, got[i].ID, got[i].ClusterID, want[i].ClusterID)
			}
		}
		t.Logf("window %v: %s", window, strings.TrimSpace(errOut))
	}
}

// sharedData finds shared/data beside the repository, walking up from
// the working directory, or skips (fails with PINWARD_REQUIRE_DATA=1).
func sharedData(t *testing.T) string { return realdata.Dir(t) }

// convertCSV rewrites a real CSV into pinward cluster's input columns;
// row returns the id, category, created_at, lon and lat of one record.
func convertCSV(t *testing.T, path string, row func(rec []string, col map[string]int, n int) []string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		realdata.Absent(t, fmt.Errorf("real data %s is missing: %w", path, err))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1 // Ottawa's collisions have unquoted commas
	r.LazyQuotes = true
	header, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"id", "category", "created_at", "lon", "lat"})
	for n := 1; ; n++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		w.Write(row(rec, col, n))
	}
	w.Flush()
	return buf.Bytes()
}

// TestClusterRealData clusters real municipal records and logs the
// duplicate share found: LA 311 requests (January 2020) and Ottawa's
// traffic collisions (where a "duplicate" is a repeat at the same spot).
func TestClusterRealData(t *testing.T) {
	dir := sharedData(t)
	get := func(rec []string, col map[string]int, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	la := convertCSV(t, filepath.Join(dir, "los_angeles", "311", "myla311_2020_seed_requests.csv"),
		func(rec []string, col map[string]int, _ int) []string {
			return []string{get(rec, col, "srnumber"), get(rec, col, "requesttype"), get(rec, col, "createddate"),
				get(rec, col, "longitude"), get(rec, col, "latitude")}
		})
	ottawa := convertCSV(t, filepath.Join(dir, "ottawa", "events", "collisions_raw.csv"),
		func(rec []string, col map[string]int, n int) []string {
			// DATE is M/D/YYYY.
			var m, d, y int
			date := get(rec, col, "date")
			if _, err := fmt.Sscanf(date, "%d/%d/%d", &m, &d, &y); err == nil {
				date = fmt.Sprintf("%04d-%02d-%02d", y, m, d)
			}
			return []string{fmt.Sprint(n), get(rec, col, "impact_type"), date, get(rec, col, "longitude"), get(rec, col, "latitude")}
		})
	for _, tc := range []struct {
		name string
		in   []byte
		args []string
	}{
		{"LA 311 2020, 30 m, no window", la, []string{"--eps", "30"}},
		{"LA 311 2020, 30 m, 14 days", la, []string{"--eps", "30", "--window", "14d"}},
		{"LA 311 2020, 10 m, 1 day", la, []string{"--eps", "10", "--window", "1d"}},
		{"Ottawa collisions, 30 m, any impact type, no window", ottawa, []string{"--eps", "30", "--by", "none"}},
		{"Ottawa collisions, 30 m, same impact type, 30 days", ottawa, []string{"--eps", "30", "--window", "30d"}},
	} {
		code, out, errOut := clusterMain(t, bytes.NewReader(tc.in), append([]string{"cluster"}, tc.args...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", tc.name, code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		summary := lines[len(lines)-1]
		if !strings.HasPrefix(summary, "cluster: ") || len(readAssignments(t, out)) < 9000 {
			t.Fatalf("%s: unexpected result:\n%s", tc.name, errOut)
		}
		t.Logf("%s: %s", tc.name, strings.TrimPrefix(summary, "cluster: "))
	}
}
