package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/sqlite"
)

// TestFilesArePrivate: the database, its -wal and -shm and a folder the
// store creates are readable by their owner only, even under a lax umask
// (they were 0644 under the usual 022).
func TestFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o002)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "var")
	path := filepath.Join(dir, "pinward.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A write, so the WAL and shared-memory files exist.
	if _, err := s.CreateAPIKey(context.Background(), requests.Key{TenantID: "t", Role: requests.RoleStaff, Label: "x",
		Hash: "h", CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", filepath.Base(name), got, want)
		}
	}
}
