package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// testRateLimits turns off the per-client limits for the tests that load a
// server from one address with one key (durability, concurrency, pages);
// TestRateLimits checks the limits themselves.
const testRateLimits = "submissions.ip=off,submissions.key=off,submissions.device=off,locate.ip=off,locate.key=off,locate.device=off,tiles.ip=off"

// TestKeysListRevokeRotate: keys create --expires, keys list, keys revoke
// and keys rotate --role reporter, on one data folder.
func TestKeysListRevokeRotate(t *testing.T) {
	vars := map[string]string{"PINWARD_DATA_DIR": filepath.Join(t.TempDir(), "var")}
	run := func(args ...string) (int, string, string) {
		env, out, errb := testEnv(vars)
		code := Main(t.Context(), args, env)
		return code, out.String(), errb.String()
	}
	if code, _, errs := run("keys", "create", "--role", "staff", "--label", "desk", "--expires", "2027-01-01"); code != 0 {
		t.Fatalf("keys create: %d %s", code, errs)
	}
	if code, _, errs := run("keys", "create", "--role", "staff", "--expires", "tomorrow"); code != 2 || !strings.Contains(errs, "--expires") {
		t.Errorf("keys create --expires tomorrow: %d %s", code, errs)
	}
	code, first, errs := run("keys", "rotate", "--role", "reporter")
	if code != 0 || !strings.HasPrefix(first, "pw_") {
		t.Fatalf("keys rotate: %d %q %s", code, first, errs)
	}
	code, second, errs := run("keys", "rotate", "--role", "reporter")
	if code != 0 || second == first || !strings.Contains(errs, "pinward keys revoke 2") {
		t.Fatalf("second keys rotate: %d %q %s", code, second, errs)
	}
	if code, _, errs := run("keys", "rotate", "--role", "staff"); code != 2 {
		t.Errorf("keys rotate --role staff: %d %s", code, errs)
	}
	if code, _, errs := run("keys", "revoke", "2"); code != 0 || !strings.Contains(errs, "revoked") {
		t.Fatalf("keys revoke 2: %d %s", code, errs)
	}
	if code, _, _ := run("keys", "revoke", "99"); code == 0 {
		t.Error("keys revoke 99 (no such key) succeeded")
	}
	code, list, errs := run("keys", "list")
	if code != 0 {
		t.Fatalf("keys list: %d %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "2027-01-01T00:00:00Z") || !strings.Contains(lines[1], "desk") ||
		!strings.Contains(lines[2], "revoked") || !strings.Contains(lines[3], "active (web page)") {
		t.Errorf("keys list:\n%s", list)
	}
	if strings.Contains(list, first) || strings.Contains(list, second) {
		t.Error("keys list prints a key")
	}
}
