package sqlite

import (
	"path/filepath"
	"testing"
)

// TestDurability: what the bench prints is what the writer runs with.
func TestDurability(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "pinward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	journal, sync, err := s.Durability(t.Context())
	if err != nil || journal != "wal" || sync != "FULL" {
		t.Errorf("Durability() = %q, %q, %v; want wal, FULL", journal, sync, err)
	}
	if _, err := s.write.ExecContext(t.Context(), "PRAGMA synchronous = NORMAL"); err != nil {
		t.Fatal(err)
	}
	if _, sync, _ := s.Durability(t.Context()); sync != "NORMAL" {
		t.Errorf("after PRAGMA synchronous = NORMAL, Durability() reads %q", sync)
	}
}
