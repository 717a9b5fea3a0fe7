package postgis_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
	"github.com/pinward/pinward/store/storetest"
)

func TestMail(t *testing.T) {
	storetest.RunMail(t, func(t *testing.T) storetest.MailStores {
		url := pgtest.URL(t)
		s, err := postgis.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		pool, err := pgxpool.New(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pool.Close(); s.Close() })
		return storetest.MailStores{Stores: storetest.Stores{Store: s},
			InsertStatusEvent: func(ctx context.Context, tenant string, id int64, at time.Time, from, to requests.Status, en, fr string) error {
				_, err := pool.Exec(ctx, `INSERT INTO events (tenant_id, request_id, at, actor, kind, from_status, to_status, note, public_note_en, public_note_fr)
					VALUES ($1, $2, $3, 'staff', 'status', $4, $5, '', $6, $7)`, tenant, id, at, string(from), string(to), en, fr)
				return err
			}}
	})
}
