// Package realdata finds the real open municipal data the tests read
// (../shared/data beside the repository, see its README.md). Tests that
// need it skip with a clear message when it is absent, unless
// PINWARD_REQUIRE_DATA=1, which makes a missing folder or file a failure
// (for runs that must prove the real-data tests ran).
package realdata

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// RequireEnv is the variable that turns a missing file into a failure.
const RequireEnv = "PINWARD_REQUIRE_DATA"

// Required reports whether PINWARD_REQUIRE_DATA asks for the real data.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Dir returns the shared/data folder found in the working directory or
// one of its parents, or skips tb (fails it when Required).
func Dir(tb testing.TB) string {
	tb.Helper()
	dir, err := find()
	if err != nil {
		missing(tb, err)
	}
	return dir
}

// File returns the path of rel (slash-separated) under the shared data,
// or skips tb (fails it when Required) when it is absent.
func File(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join(Dir(tb), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		missing(tb, fmt.Errorf("real data file %s is absent: %w", p, err))
	}
	return p
}

// Absent skips tb because of err, a real data file that cannot be read
// (fails it when Required).
func Absent(tb testing.TB, err error) {
	tb.Helper()
	missing(tb, err)
}

// Find returns the path of rel under the shared data, or why it is absent,
// for tests that do without it (they should still honour Required).
func Find(rel string) (string, error) {
	dir, err := find()
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("real data file %s is absent: %w", p, err)
	}
	return p, nil
}

func missing(tb testing.TB, err error) {
	tb.Helper()
	if Required() {
		tb.Fatalf("%v (%s=1 requires the real data)", err, RequireEnv)
	}
	tb.Skipf("%v; skipping (set %s=1 to make this a failure)", err, RequireEnv)
}

func find() (string, error) {
	start, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := start; ; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "shared", "data")
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("real open data not found: no shared/data folder in %s or any parent (expected ../shared/data beside the repository root)", start)
		}
	}
}
