package postgis_test

import (
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
)

// Migration 1800 moves the escalation messages queued before it into the
// mail outbox, pending, each against its level's escalated event, and
// drops escalation_messages; the mailer then claims them like any other.
func TestMigrateEscalationMessagesIntoOutbox(t *testing.T) {
	ctx := ctxT(t)
	url := pgtest.URL(t)
	files, err := fs.Glob(os.DirFS("migrations"), "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	// The runner before goose (adopted on open) applied everything before 1800.
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f >= "1800" {
			break
		}
		sql, err := os.ReadFile("migrations/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, string(sql)); err != nil {
			t.Fatalf("apply %s: %v", f, err)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", strings.TrimSuffix(f, ".sql")); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC)
	for _, q := range []string{
		`INSERT INTO requests (id, tenant_id, service_code, description, status, status_notes, geom, address, ward_id,
			asset_layer, asset_id, asset_distance_m, cluster_id, department, requested_at, updated_at, due_at, media_url, token, lang)
		 VALUES (7, 'town', 'pothole', 'hole', 'new', '', ST_SetSRID(ST_MakePoint(-73.1, 46.05), 4326), '', '1', '', '', 0,
			'c7', 'roads', $1, $1, $1, '', 'tok', 'en')`,
		`INSERT INTO events (tenant_id, request_id, at, actor, kind, level, note)
		 VALUES ('town', 7, $1::timestamptz - interval '1 day', 'escalation', 'escalated', 1, 'department'),
		        ('town', 7, $1::timestamptz, 'escalation', 'escalated', 2, 'supervisor')`,
		`INSERT INTO escalation_messages (tenant_id, request_id, level, notify, recipient, lang, created)
		 VALUES ('town', 7, 2, 'supervisor', 'chief@staff.test', 'en', $1),
		        ('town', 7, 2, 'supervisor', 'deputy@staff.test', 'fr', $1)`,
	} {
		if _, err := conn.Exec(ctx, q, at); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close(ctx)

	s, err := postgis.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	msgs, err := s.EscalationMessages(ctx, "town", time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Recipient != "chief@staff.test" || msgs[1].Lang != i18n.Fr || msgs[0].Level != 2 ||
		msgs[0].Notify != "supervisor" || msgs[0].ServiceRequestID != requests.FormatServiceRequestID(7) {
		t.Fatalf("escalation messages after 1800: %+v", msgs)
	}
	claimed, err := s.ClaimMail(ctx, "town", time.Now(), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(claimed) != 2 || claimed[0].Kind != requests.MailEscalated || claimed[0].To != "chief@staff.test" ||
		claimed[1].Lang != i18n.Fr || claimed[1].Level != 2 || claimed[0].Department != "roads" || claimed[0].DueAt.IsZero() {
		t.Fatalf("claimed after 1800: %+v", claimed)
	}
	var gone bool
	if err := s.Pool().QueryRow(ctx, `SELECT to_regclass('escalation_messages') IS NULL`).Scan(&gone); err != nil || !gone {
		t.Errorf("escalation_messages still there (%v)", err)
	}
}
