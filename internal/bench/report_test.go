package bench

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pinward/pinward/internal/pgtest"
)

// TestBenchReportAgreesWithSQL: the council report pinward computes equals
// one SQL GROUP BY over the same PostGIS rows (counts exactly, percentiles
// within rounding), on 3,000 random requests; the bench's rows are gone
// afterwards.
func TestBenchReportAgreesWithSQL(t *testing.T) {
	db := pgtest.URL(t) // skips without PINWARD_TEST_DATABASE_URL
	env, out, errb := testEnv(nil)
	if err := benchReport(t.Context(), env, []string{"--db", db, "--requests", "3000", "--runs", "1"}); err != nil {
		t.Fatalf("bench report: %v\n%s\n%s", err, out, errb)
	}
	if s := out.String(); !strings.Contains(s, "3000 requests in") || !strings.Contains(s, "reports agree: true") {
		t.Errorf("bench report:\n%s", s)
	}
	pool, err := pgxpool.New(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var left int
	if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM requests WHERE tenant_id LIKE 'bench-report-%'").Scan(&left); err != nil || left != 0 {
		t.Errorf("bench report left %d requests behind (%v)", left, err)
	}
}
