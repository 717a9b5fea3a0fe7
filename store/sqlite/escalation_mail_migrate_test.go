package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/sqlite"
)

// Migration 1800 moves the escalation messages queued before it into the
// mail outbox, pending, each against its level's escalated event, and
// drops escalation_messages; the mailer then claims them like any other.
func TestMigrateEscalationMessagesIntoOutbox(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	// The runner before goose (adopted on open) applied everything before 1800.
	if _, err := db.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		var v int
		if _, err := fmt.Sscanf(filepath.Base(f), "%d_", &v); err != nil {
			t.Fatal(err)
		}
		if v >= 1800 {
			break
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("apply %s: %v", f, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?, ?)`, v, filepath.Base(f), i); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC).UnixMicro()
	for _, q := range []string{
		`INSERT INTO requests (id, tenant_id, service_code, description, status, status_notes, lon, lat, address, ward_id,
			asset_layer, asset_id, asset_distance_m, cluster_id, department, media_url, token, lang, requested_at, updated_at, due_at)
		 VALUES (7, 'town', 'pothole', 'hole', 'new', '', -73.1, 46.05, '', '1', '', '', 0, 'c7', 'roads', '', 'tok', 'en', 1, 1, 2)`,
		`INSERT INTO events (tenant_id, request_id, at, actor, kind, from_status, to_status, level, note)
		 VALUES ('town', 7, 1, 'escalation', 'escalated', '', '', 1, 'department'),
		        ('town', 7, ` + fmt.Sprint(at) + `, 'escalation', 'escalated', '', '', 2, 'supervisor')`,
		`INSERT INTO escalation_messages (tenant_id, request_id, level, notify, recipient, lang, created)
		 VALUES ('town', 7, 2, 'supervisor', 'chief@staff.test', 'en', ` + fmt.Sprint(at) + `),
		        ('town', 7, 2, 'supervisor', 'deputy@staff.test', 'fr', ` + fmt.Sprint(at) + `)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err := sqlite.Open(ctx, path)
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
	check, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	var n int
	if err := check.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'escalation_messages'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("escalation_messages still there (%d, %v)", n, err)
	}
}
