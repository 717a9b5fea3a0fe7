package bench

import (
	"strings"
	"testing"
)

// TestBenchWorkOrdersSmoke runs a tiny delivery bench on SQLite: every work
// order must arrive once, signed.
func TestBenchWorkOrdersSmoke(t *testing.T) {
	env, out, errb := testEnv(map[string]string{"PINWARD_TEST_DATABASE_URL": ""})
	if err := benchWorkOrders(t.Context(), env, []string{"--stores", "sqlite", "--n", "60"}); err != nil {
		t.Fatalf("bench workorders: %v\n%s", err, errb)
	}
	if !strings.Contains(out.String(), "saw 60 distinct keys, 0 bad signatures; 0 pending, 0 dead") {
		t.Errorf("bench output:\n%s", out)
	}
}
