package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/sqlite"
)

// TestReport: pinward report writes the council report of the embedded
// store as CSV, names in French on request, the period bounding what it
// counts; bad flags exit 2.
func TestReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var")
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "pinward.db"))
	if err != nil {
		t.Fatal(err)
	}
	mk := func(at time.Time, code, dept string, closeAfter time.Duration) {
		r, err := st.CreateRequest(t.Context(), requests.NewRequest{
			Request: requests.Request{TenantID: "sample", ServiceCode: code, Status: requests.New,
				Point: orb.Point{-73.066, 46.03}, WardID: "1", Department: dept,
				RequestedAt: at, UpdatedAt: at, DueAt: at.Add(24 * time.Hour), Lang: i18n.Fr},
			Event: requests.Event{TenantID: "sample", At: at, Actor: "resident", Kind: requests.EventCreated, To: requests.New},
		})
		if err != nil {
			t.Fatal(err)
		}
		if closeAfter > 0 {
			if _, err := st.UpdateStatus(t.Context(), requests.StatusChange{Tenant: "sample", ServiceRequestID: r.ServiceRequestID,
				To: requests.Closed, Note: "done", Actor: "crew", At: at.Add(closeAfter)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	day := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	mk(day, "pothole", "public_works", 6*time.Hour)
	mk(day.Add(time.Hour), "pothole", "public_works", 30*time.Hour)
	mk(day.Add(2*time.Hour), "graffiti", "bylaw", 0)
	mk(day.AddDate(0, 1, 0), "pothole", "public_works", time.Hour) // outside the period
	st.Close()

	env, out, errb := testEnv(map[string]string{"PINWARD_DATA_DIR": dir})
	if code := Main(t.Context(), []string{"report", "--by", "category", "--from", "2026-03-01", "--to", "2026-03-31", "--lang", "fr"}, env); code != 0 {
		t.Fatalf("report: exit %d, %s", code, errb)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || lines[0] != strings.Join(requests.ReportColumns, ",") {
		t.Fatalf("report:\n%s", out)
	}
	if !strings.HasPrefix(lines[2], "pothole,") || !strings.HasSuffix(lines[2], ",2,0,2,1,1,0,0,0.5000,18.00,27.60") ||
		!strings.Contains(lines[1], "graffiti,Graffiti") || !strings.HasPrefix(lines[3], "*,Total,3,1,2,") {
		t.Errorf("report:\n%s", out)
	}
	if !strings.Contains(errb.String(), "3 requests in 2 groups by category") {
		t.Errorf("report summary: %s", errb)
	}
	for _, args := range [][]string{
		{"report", "--by", "street"},
		{"report", "--from", "March"},
		{"report", "--from", "2026-03-31", "--to", "2026-03-01"},
		{"report", "--lang", "de"},
	} {
		env, _, errb := testEnv(map[string]string{"PINWARD_DATA_DIR": dir})
		if code := Main(t.Context(), args, env); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errb)
		}
	}
}
