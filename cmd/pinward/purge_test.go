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

// TestPurge: pinward purge deletes the reporters of requests closed
// before --older-than and no others, and refuses a bad duration.
func TestPurge(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var")
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "pinward.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	mk := func(i int, closedAgo time.Duration) string {
		at := now.Add(-400 * 24 * time.Hour)
		r, err := st.CreateRequest(t.Context(), requests.NewRequest{
			Request: requests.Request{TenantID: "sample", ServiceCode: "pothole", Status: requests.New,
				Point: orb.Point{-73.066 + float64(i)*0.001, 46.03}, WardID: "1", Department: "public_works",
				RequestedAt: at, UpdatedAt: at, Lang: i18n.Fr, Token: "tok-" + string(rune('a'+i))},
			Event:    requests.Event{TenantID: "sample", At: at, Actor: "resident", Kind: requests.EventCreated, To: requests.New},
			Reporter: &requests.Reporter{FirstName: "Ana", Email: "ana@example.ca"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if closedAgo > 0 {
			if _, err := st.UpdateStatus(t.Context(), requests.StatusChange{Tenant: "sample", ServiceRequestID: r.ServiceRequestID,
				To: requests.Closed, Note: "done", Actor: "crew", At: now.Add(-closedAgo)}); err != nil {
				t.Fatal(err)
			}
		}
		return r.ServiceRequestID
	}
	old, recent, open := mk(0, 60*24*time.Hour), mk(1, 5*24*time.Hour), mk(2, 0)
	st.Close()

	env, _, errb := testEnv(map[string]string{"PINWARD_DATA_DIR": dir})
	if code := Main(t.Context(), []string{"purge", "--older-than", "nonsense"}, env); code != 2 {
		t.Errorf("purge --older-than nonsense: exit %d, %s", code, errb)
	}
	env, _, errb = testEnv(map[string]string{"PINWARD_DATA_DIR": dir})
	if code := Main(t.Context(), []string{"purge", "--older-than", "30d"}, env); code != 0 || !strings.Contains(errb.String(), "1 reporters") {
		t.Fatalf("purge: exit %d, %s", code, errb)
	}

	st, err = sqlite.Open(t.Context(), filepath.Join(dir, "pinward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for id, wantGone := range map[string]bool{old: true, recent: false, open: false} {
		rep, err := st.GetReporter(t.Context(), requests.ReporterAccess{Tenant: "sample", ServiceRequestID: id, Actor: "test", At: now})
		if err != nil {
			t.Fatal(err)
		}
		if rep.IsZero() != wantGone {
			t.Errorf("request %s: reporter %+v after purge, want purged %v", id, rep, wantGone)
		}
	}
}
