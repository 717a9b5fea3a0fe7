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
// store as CSV, headers and names in French on request, the period
// bounding what it counts, one grouping or two crossed; bad flags exit 2.
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
				RequestedAt: at, UpdatedAt: at, DueAt: at.Add(24 * time.Hour), Lang: i18n.Fr, Channel: requests.ChannelPhone},
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
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "Catégorie,Nom de la catégorie,Reçues,Ouvertes,Fermées,") ||
		!strings.HasSuffix(lines[0], ",Réouvertures,Réponses de satisfaction,Satisfaction moyenne (1 à 5),Part de satisfaits (4 ou 5)") {
		t.Fatalf("report:\n%s", out)
	}
	// Closed from new, so acknowledged when closed: 6 and 30 hours.
	// Business hours (Toronto, 08:30–16:30): Tuesday 10:00–16:00 is 6;
	// Tuesday 11:00 to Wednesday 17:00 is 5.5 + 8 = 13.5.
	if lines[2] != "pothole,Nid-de-poule,2,0,2,1,1,0,0,0.5000,18.00,27.60,9.75,12.75,2,18.00,27.60,0,0,," ||
		!strings.Contains(lines[1], "graffiti,Graffiti") || !strings.HasPrefix(lines[3], "*,Total,3,1,2,") {
		t.Errorf("report:\n%s", out)
	}
	if !strings.Contains(errb.String(), "3 requests in 2 groups by category") {
		t.Errorf("report summary: %s", errb)
	}
	// Crossed, in English: a row per ward and channel.
	env, out, errb = testEnv(map[string]string{"PINWARD_DATA_DIR": dir})
	if code := Main(t.Context(), []string{"report", "--by", "ward,channel", "--from", "2026-03-01", "--to", "2026-03-31"}, env); code != 0 {
		t.Fatalf("report --by ward,channel: exit %d, %s", code, errb)
	}
	lines = strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "Ward,Ward name,Channel,Channel name,Received,") ||
		!strings.HasPrefix(lines[1], "1,") || !strings.Contains(lines[1], ",phone,Phone,3,1,2,") || !strings.HasPrefix(lines[2], "*,All,*,All,3,") {
		t.Errorf("report --by ward,channel:\n%s", out)
	}
	if !strings.Contains(errb.String(), "3 requests in 1 groups by ward,channel") {
		t.Errorf("report summary: %s", errb)
	}
	for _, args := range [][]string{
		{"report", "--by", "street"},
		{"report", "--by", "ward,ward"},
		{"report", "--by", "ward,department,category"},
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
