package bench

import (
	"strings"
	"testing"
)

// TestBenchIntakeSmoke runs a very short, bounded bench on SQLite twice:
// every POST must be acknowledged, the request cap must hold, the store's
// durability settings and a median-of-runs summary must be printed.
func TestBenchIntakeSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("load test; skipped with -short")
	}
	env, out, errb := testEnv(map[string]string{"PINWARD_TEST_DATABASE_URL": ""})
	err := benchIntake(t.Context(), env, []string{"--stores", "sqlite", "--duration", "2s", "--requests", "40",
		"--concurrency", "4", "--rate", "50", "--runs", "2"})
	if err != nil {
		t.Fatalf("bench intake: %v\n%s", err, errb)
	}
	s := out.String()
	t.Log("\n" + s)
	// Every POST acknowledged, and 40 of them per phase and run: the cap
	// holds whatever the duration allows.
	if strings.Count(s, " 40 acknowledged, 0 failed") != 4 || strings.Contains(s, "first error") {
		t.Errorf("failures, or not 40 requests per phase:\n%s", s)
	}
	for _, want := range []string{"synchronous=FULL", "throughput  median of 2:", "rate 50     median of 2:"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}
