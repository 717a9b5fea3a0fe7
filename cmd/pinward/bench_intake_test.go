package main

import (
	"strings"
	"testing"
)

// TestBenchIntakeSmoke runs a very short bench on SQLite (and PostGIS when
// the test database is there): every POST must be acknowledged.
func TestBenchIntakeSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("load test; skipped with -short")
	}
	env, out, errb := testEnv(map[string]string{"PINWARD_TEST_DATABASE_URL": ""})
	err := benchIntake(t.Context(), env, []string{"--stores", "sqlite", "--duration", "300ms", "--concurrency", "4", "--rate", "50"})
	if err != nil {
		t.Fatalf("bench intake: %v\n%s", err, errb)
	}
	t.Log("\n" + out.String())
	if strings.Count(out.String(), " 0 failed") != 2 || strings.Contains(out.String(), "first error") {
		t.Errorf("failures in the bench:\n%s", out)
	}
}
