package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/pinward/pinward/store/storetest"
)

func TestRights(t *testing.T) {
	storetest.RunRights(t, func(t *testing.T) storetest.RightsStores {
		path := filepath.Join(t.TempDir(), "pinward.db")
		s := open(t, path)
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return storetest.RightsStores{Stores: storetest.Stores{Store: s},
			InsertSatisfaction: func(ctx context.Context, tenant string, id int64, score int, comment string, at time.Time) error {
				_, err := db.ExecContext(ctx, `INSERT INTO satisfaction (request_id, tenant_id, score, comment, at) VALUES (?, ?, ?, ?, ?)`,
					id, tenant, score, comment, at.UnixMicro())
				return err
			}}
	})
}
