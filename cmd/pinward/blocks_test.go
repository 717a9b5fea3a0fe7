package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestBlocksCommand: pinward blocks add, list and remove on one data
// folder; bad input is a usage error (exit 2) and nothing is stored.
func TestBlocksCommand(t *testing.T) {
	vars := map[string]string{"PINWARD_DATA_DIR": filepath.Join(t.TempDir(), "var")}
	run := func(args ...string) (int, string, string) {
		env, out, errb := testEnv(vars)
		code := Main(t.Context(), args, env)
		return code, out.String(), errb.String()
	}
	if code, out, errs := run("blocks", "add", "--kind", "email", "--value", "Troll@Example.org", "--reason", "floods"); code != 0 || out != "1\n" {
		t.Fatalf("blocks add: %d %q %s", code, out, errs)
	}
	if code, out, errs := run("blocks", "add", "--kind", "device", "--value", "phone-9"); code != 0 || out != "2\n" {
		t.Fatalf("blocks add device: %d %q %s", code, out, errs)
	}
	for _, args := range [][]string{
		{"blocks", "add", "--kind", "phone", "--value", "1"},
		{"blocks", "add", "--kind", "email", "--value", "nope"},
		{"blocks", "remove"},
		{"blocks", "remove", "x"},
		{"blocks", "frobnicate"},
	} {
		if code, _, errs := run(args...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d %q, want a usage error", args, code, errs)
		}
	}
	if code, _, _ := run("blocks", "add", "--kind", "email", "--value", "troll@example.org"); code != 1 {
		t.Errorf("blocks add twice: exit %d, want 1", code)
	}
	if code, _, errs := run("blocks", "remove", "2"); code != 0 {
		t.Fatalf("blocks remove 2: %d %s", code, errs)
	}
	if code, _, _ := run("blocks", "remove", "2"); code != 1 {
		t.Errorf("blocks remove 2 again: exit %d, want 1", code)
	}
	code, list, errs := run("blocks", "list")
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(lines[1], "troll@example.org") || !strings.Contains(lines[1], "floods") {
		t.Errorf("blocks list: %d %s %s", code, list, errs)
	}
}
