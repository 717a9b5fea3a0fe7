package storeflags

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinward/pinward/internal/cli"
)

// TestOpenTenant opens a real SQLite store in a temporary --data-dir, with
// the tenant from the flag or the environment.
func TestOpenTenant(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args   []string
		env    map[string]string
		tenant string
	}{
		{[]string{"--data-dir", dir}, nil, "sample"},
		{[]string{"--data-dir", dir, "--tenant", "laval"}, nil, "laval"},
		{nil, map[string]string{"PINWARD_DATA_DIR": dir, "PINWARD_TENANT": "gatineau"}, "gatineau"},
	} {
		env := cli.Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return tc.env[k] }}
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		st, tenant, closeStore, err := OpenTenant(context.Background(), fs, env, tc.args)
		if err != nil {
			t.Fatalf("%v %v: %v", tc.args, tc.env, err)
		}
		keys, err := st.ListAPIKeys(context.Background(), tenant)
		closeStore()
		if err != nil || tenant != tc.tenant || len(keys) != 0 {
			t.Errorf("%v %v: tenant %q, keys %v, %v", tc.args, tc.env, tenant, keys, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "pinward.db")); err != nil {
		t.Fatalf("the store is not in --data-dir: %v", err)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	env := cli.Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	if _, _, _, err := OpenTenant(context.Background(), fs, env, []string{"--nope"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown flag: %v", err)
	}
}
