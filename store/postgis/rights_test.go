package postgis_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/store/postgis"
	"github.com/pinward/pinward/store/storetest"
)

// TestRights runs the satisfaction part of the rights contract, and
// checks that the links and the rights log, which hold addresses, live in
// the private schema with the reporters (TestReportersPrivateSchema shows
// an analyst cannot read it).
func TestRights(t *testing.T) {
	storetest.RunRights(t, func(t *testing.T) storetest.RightsStores {
		url := pgtest.URL(t)
		s, err := postgis.Open(ctxT(t), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		conn, err := pgx.Connect(ctxT(t), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		rows, err := conn.Query(ctxT(t), `SELECT table_schema || '.' || table_name FROM information_schema.tables
			WHERE table_name IN ('rights_links', 'rights_requests') ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(tables) != 2 || tables[0] != "pinward_private.rights_links" || tables[1] != "pinward_private.rights_requests" {
			t.Errorf("rights tables %v, %v; want both in pinward_private", tables, err)
		}
		return storetest.RightsStores{Stores: storetest.Stores{Store: s},
			InsertSatisfaction: func(ctx context.Context, tenant string, id int64, score int, comment string, at time.Time) error {
				_, err := conn.Exec(ctx, `INSERT INTO satisfaction (request_id, tenant_id, score, comment, at) VALUES ($1, $2, $3, $4, $5)`,
					id, tenant, score, comment, at)
				return err
			}}
	})
}
