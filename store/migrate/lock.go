package migrate

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"time"

	"github.com/pressly/goose/v3/lock"
)

// PostgresLocker holds a PostgreSQL session advisory lock while goose
// migrates.
func PostgresLocker() (lock.SessionLocker, error) { return lock.NewPostgresSessionLocker() }

// SQLiteLocker returns a lock for SQLite, which goose does not provide: a
// lease row in pinward_migration_lock, taken by the first process to
// insert it and given up when done. A lease left by a process that died
// while migrating expires after lease.
func SQLiteLocker(lease time.Duration) lock.SessionLocker {
	return &sqliteLocker{holder: rand.Text(), lease: lease}
}

// LockTable is the SQLite migration lock's table.
const LockTable = "pinward_migration_lock"

type sqliteLocker struct {
	holder string
	lease  time.Duration
}

func (l *sqliteLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+LockTable+` (
		id         INTEGER PRIMARY KEY CHECK (id = 1),
		holder     TEXT    NOT NULL,
		expires_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create %s: %w", LockTable, err)
	}
	wait := 10 * time.Millisecond
	for {
		now := time.Now()
		res, err := conn.ExecContext(ctx, `INSERT INTO `+LockTable+` (id, holder, expires_at) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE `+LockTable+`.expires_at < ?`, l.holder, now.Add(l.lease).UnixMicro(), now.UnixMicro())
		if err != nil {
			return fmt.Errorf("take the migration lock: %w", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the migration lock (another process is migrating): %w", ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

func (l *sqliteLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `DELETE FROM `+LockTable+` WHERE holder = ?`, l.holder); err != nil {
		return fmt.Errorf("release the migration lock: %w", err)
	}
	return nil
}
