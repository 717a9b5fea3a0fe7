package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinward/pinward/data"
)

// TestSLADueCommand: the bundled sample town keeps Québec's holidays and
// closes on Easter Monday, Boxing Day and the Mondays after Christmas.
func TestSLADueCommand(t *testing.T) {
	for _, tc := range []struct {
		code, at, want string
	}{
		// pothole, 40 business hours: Tue 1.5 h; 24 June off; Thu–Tue 32 h;
		// 1 July off; Thu 6.5 h.
		{"pothole", "2026-06-23T15:00:00-04:00", "2026-07-02T15:00:00-04:00"},
		// The same instant in UTC, and as a local time.
		{"pothole", "2026-06-23T19:00:00Z", "2026-07-02T15:00:00-04:00"},
		{"pothole", "2026-06-23 15:00", "2026-07-02T15:00:00-04:00"},
		// Tue 7.5 h, Wed, Thu 16 h; Christmas; Monday 28 closed; Tue, Wed
		// 16 h; Thu 31 0.5 h. In winter time.
		{"pothole", "2026-12-22T09:00:00-05:00", "2026-12-31T09:00:00-05:00"},
		// Across the start of daylight saving: the offset changes.
		{"pothole", "2026-03-06T12:00:00-05:00", "2026-03-13T12:00:00-04:00"},
		// snow_removal: 24 elapsed hours, holidays or not.
		{"snow_removal", "2026-12-24T20:00:00-05:00", "2026-12-25T20:00:00-05:00"},
	} {
		code, out, errOut := run(t, "", "sla", "due", "--service-code", tc.code, "--at", tc.at)
		if code != 0 || errOut != "" {
			t.Fatalf("sla due %s %s: exit %d, stderr %s", tc.code, tc.at, code, errOut)
		}
		if out != tc.want+"\n" {
			t.Errorf("sla due %s %s = %q, want %q", tc.code, tc.at, out, tc.want)
		}
	}
}

// TestSLADueCategoriesFile: an Ontario town skips Family Day, which Québec
// does not have.
func TestSLADueCategoriesFile(t *testing.T) {
	sample := string(data.SampleCategoriesJSON())
	if !strings.Contains(sample, `"holidays": "QC"`) {
		t.Fatal(`the sample catalog no longer says "holidays": "QC"`)
	}
	file := filepath.Join(t.TempDir(), "ontario.json")
	if err := os.WriteFile(file, []byte(strings.Replace(sample, `"holidays": "QC"`, `"holidays": "ON"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	at := "2026-02-13T16:00:00-05:00" // Friday before Family Day
	for cats, want := range map[string]string{
		"":   "2026-02-20T16:00:00-05:00", // Fri 0.5 h, Mon–Thu 32 h, Fri 7.5 h
		file: "2026-02-23T16:00:00-05:00", // Monday 16 off
	} {
		args := []string{"sla", "due", "--service-code", "pothole", "--at", at}
		if cats != "" {
			args = append(args, "--categories", cats)
		}
		if code, out, errOut := run(t, "", args...); code != 0 || out != want+"\n" {
			t.Errorf("%v = exit %d, %q (%s), want %s", args, code, out, errOut, want)
		}
	}
}

func TestSLADueUsage(t *testing.T) {
	for _, args := range [][]string{{"sla", "--help"}, {"sla", "due", "--help"}} {
		code, out, _ := run(t, "", args...)
		if code != 0 || !strings.Contains(out, "Usage: pinward sla due --service-code C") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(strings.Replace(string(data.SampleCategoriesJSON()), `"holidays": "QC"`, `"holidays": "BC"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"sla"},
		{"sla", "overdue"},
		{"sla", "due", "--at", "2026-06-23T15:00:00-04:00"},
		{"sla", "due", "--service-code", "unicorn", "--at", "2026-06-23T15:00:00-04:00"},
		{"sla", "due", "--service-code", "pothole", "--at", "tomorrow"},
		{"sla", "due", "--service-code", "pothole", "--categories", bad},
	} {
		if code, out, errOut := run(t, "", args...); code != 2 || out != "" || errOut == "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and a message", args, code, out, errOut)
		}
	}
	_, _, errOut := run(t, "", "sla", "due", "--service-code", "pothole", "--categories", bad)
	if !strings.Contains(errOut, "holidays") || !strings.Contains(errOut, "BC") {
		t.Errorf("bad holidays: stderr %q should name the field and value", errOut)
	}
}
