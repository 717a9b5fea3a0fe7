package bench

import (
	"strings"
	"testing"

	"github.com/pinward/pinward/internal/pgtest"
)

// TestBenchReportAgreesWithSQL: the council report pinward computes equals
// one SQL GROUP BY over the same PostGIS rows (counts exactly, percentiles
// within rounding), on 3,000 random requests.
func TestBenchReportAgreesWithSQL(t *testing.T) {
	db := pgtest.URL(t) // skips without PINWARD_TEST_DATABASE_URL
	env, out, errb := testEnv(nil)
	if err := benchReport(t.Context(), env, []string{"--db", db, "--requests", "3000", "--runs", "1"}); err != nil {
		t.Fatalf("bench report: %v\n%s\n%s", err, out, errb)
	}
	if s := out.String(); !strings.Contains(s, "3000 requests in") || !strings.Contains(s, "reports agree: true") {
		t.Errorf("bench report:\n%s", s)
	}
}
