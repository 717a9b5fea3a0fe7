package sqlite

import (
	"context"
	"fmt"
)

// Durability reads back, from the writer connection, the journal mode
// and the synchronous level (OFF, NORMAL, FULL or EXTRA) commits run
// with, so a report of figures can state them as they are.
func (s *Store) Durability(ctx context.Context) (journalMode, synchronous string, err error) {
	var level int
	if err := s.write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&journalMode); err != nil {
		return "", "", fmt.Errorf("sqlite: PRAGMA journal_mode: %w", err)
	}
	if err := s.write.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&level); err != nil {
		return "", "", fmt.Errorf("sqlite: PRAGMA synchronous: %w", err)
	}
	names := []string{"OFF", "NORMAL", "FULL", "EXTRA"}
	if level < 0 || level >= len(names) {
		return journalMode, fmt.Sprint(level), nil
	}
	return journalMode, names[level], nil
}
