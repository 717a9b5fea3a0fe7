package histimport_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pinward/pinward/internal/cli"
	"github.com/pinward/pinward/internal/histimport"
	"github.com/pinward/pinward/internal/storeflags"
)

const otherCity = `{
  "source": "otherville",
  "format": "csv",
  "time_zone": "America/Toronto",
  "date_formats": ["2006-01-02 15:04"],
  "columns": {"id": ["id"], "requested": ["when"], "closed": ["done"], "category": ["what"],
    "ward": ["ward"], "lon": ["lon"], "lat": ["lat"], "channel": ["how"]},
  "channels": {"tel": "phone"},
  "categories": {"Nid de poule": "pothole"},
  "wards": {"Centre-Ville": "2"}
}`

// A file with the faults real exports have: a byte-order mark, a quoted
// field over two lines, a bad date, a row with a stray comma, a row
// without its ID, coordinates that are not numbers.
const otherCSV = "\ufeffid,when,done,what,ward,lon,lat,how\n" + // line 1
	"1,2024-03-01 10:00,2024-03-03 10:00,Nid de poule,Ward 1,,,tel\n" + // 2
	"2,not a date,,Nid de poule,,,,tel\n" + // 3: bad date
	"3,2024-03-02 10:00,,\"Arbre\ntombé\",centre ville,,,\n" + // 4-5
	"4,2024-03-03 10:00,,Nid de poule,1,2,3,4,5\n" + // 6: stray comma
	"5,2024-03-04 10:00,,Nid de poule,,-75.70,45.42,web\n" + // 7
	",2024-03-05 10:00,,Graffiti,,,,\n" + // 8: no ID
	"7,2024-03-06 10:00,,Graffiti,,east,north,\n" // 9: coordinates not numbers

func runCommand(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	env := cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	err = histimport.Command(context.Background(), env, args, &storeflags.Flags{})
	return out.String(), errb.String(), err
}

// TestCommandMappingFile runs `pinward import --mapping F FILE --data-dir
// D` as the command line gives it: bad rows are reported with their line
// and skipped, the summary counts them, the unmapped category is listed,
// and a second run changes nothing.
func TestCommandMappingFile(t *testing.T) {
	dir := t.TempDir()
	mapping, file := filepath.Join(dir, "otherville.json"), filepath.Join(dir, "requests.csv")
	if err := os.WriteFile(mapping, []byte(otherCity), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(otherCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runCommand(t, "--mapping", mapping, file, "--data-dir", dir)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	for _, want := range []string{
		`line 3: requests.csv: date "not a date" matches none of the mapping's date_formats (skipped)`,
		`line 6: requests.csv: 9 fields where the header has 8 (skipped)`,
		`line 8: requests.csv: no ID (skipped)`,
		`line 9: requests.csv: coordinates "east", "north" are not numbers (skipped)`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "rows 7, imported 3, skipped 4 (bad rows), unmapped 1") {
		t.Errorf("summary:\n%s", stdout)
	}
	if !regexp.MustCompile(`(?m)^  Arbre\ntombé\t1$`).MatchString(stdout) {
		t.Errorf("the unmapped category is not listed:\n%s", stdout)
	}
	stdout, _, err = runCommand(t, "--mapping", mapping, "--data-dir", dir, file)
	if err != nil || !strings.Contains(stdout, "imported 0,") || !strings.Contains(stdout, "already stored 3") {
		t.Errorf("second run: %v\n%s", err, stdout)
	}
}

func TestCommandUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"source": "x", "format": "xml"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--data-dir", dir, "f.csv"}, "--source"},
		{[]string{"--source", "paris", "--data-dir", dir, "f.csv"}, `unknown source "paris"`},
		{[]string{"--source", "ottawa", "--data-dir", dir}, "at least one FILE"},
		{[]string{"--mapping", bad, "--data-dir", dir, "f.csv"}, `format "xml"`},
	} {
		_, _, err := runCommand(t, tc.args...)
		var ue cli.UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want a usage error about %s", tc.args, err, tc.want)
		}
	}
}
