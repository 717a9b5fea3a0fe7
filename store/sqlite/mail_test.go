package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/storetest"
)

func TestMail(t *testing.T) {
	storetest.RunMail(t, func(t *testing.T) storetest.MailStores {
		path := filepath.Join(t.TempDir(), "pinward.db")
		s := open(t, path)
		// A second connection writes events as a staff transition would.
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return storetest.MailStores{Stores: storetest.Stores{Store: s},
			InsertStatusEvent: func(ctx context.Context, tenant string, id int64, at time.Time, from, to requests.Status, en, fr string) error {
				_, err := db.ExecContext(ctx, `INSERT INTO events (tenant_id, request_id, at, actor, kind, from_status, to_status, note, public_note_en, public_note_fr)
					VALUES (?, ?, ?, 'staff', 'status', ?, ?, '', ?, ?)`, tenant, id, at.UnixMicro(), string(from), string(to), en, fr)
				return err
			}}
	})
}
