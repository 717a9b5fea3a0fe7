package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/pinward/pinward/requests"
)

// TestPragmas checks the settings durability and correctness rest on, on
// the writer and on a reader connection.
func TestPragmas(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "pinward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check := func(pool, pragma, want string, q querier) {
		t.Helper()
		var got string
		if err := q.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil || got != want {
			t.Errorf("%s: PRAGMA %s = %q, %v; want %q", pool, pragma, got, err, want)
		}
	}
	for pool, q := range map[string]querier{"writer": s.write, "reader": s.read} {
		check(pool, "journal_mode", "wal", q)
		check(pool, "synchronous", "2", q) // FULL
		check(pool, "foreign_keys", "1", q)
		check(pool, "busy_timeout", "10000", q)
	}
	check("reader", "query_only", "1", s.read)
	if s.write.Stats().MaxOpenConnections != 1 {
		t.Errorf("writer pool allows %d connections, want 1", s.write.Stats().MaxOpenConnections)
	}
	// Foreign keys are enforced: no event for a request that does not exist.
	if _, err := s.write.ExecContext(ctx, `INSERT INTO events (tenant_id, request_id, at, actor, kind, from_status, to_status, note)
		VALUES ('t', 42, 0, 'a', 'created', '', 'open', '')`); err == nil {
		t.Error("an event for a missing request was stored")
	}
	// The reader cannot write.
	if _, err := s.read.ExecContext(ctx, `DELETE FROM api_keys`); err == nil {
		t.Error("the read pool wrote")
	}
	var _ requests.Store = s
}
