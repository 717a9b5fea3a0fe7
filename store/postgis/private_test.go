package postgis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
)

// analystGrants is what the README's Privacy section tells an operator to
// run for a GIS analyst, with ANALYST for the role's name: read access to
// everything in public, the broadest grant an operator is likely to give.
const analystGrants = `CREATE ROLE ANALYST NOLOGIN;
GRANT USAGE ON SCHEMA public TO ANALYST;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO ANALYST;`

// TestReportersPrivateSchema: reporters live in pinward_private, which a
// GIS analyst granted SELECT on every table of public cannot read (the
// permission is denied, not an empty answer), while pinward reads and
// writes them as before.
func TestReportersPrivateSchema(t *testing.T) {
	ctx := ctxT(t)
	url := pgtest.URL(t)
	s, err := postgis.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	nr := newReq("a", "pothole", centre, t0, "tok-private")
	nr.Reporter = &requests.Reporter{FirstName: "Ada", Email: "ada@example.org"}
	req, err := s.CreateRequest(ctx, nr)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.GetReporter(ctx, requests.ReporterAccess{Tenant: "a", ServiceRequestID: req.ServiceRequestID, Actor: "key:1", At: t0})
	if err != nil || rep.Email != "ada@example.org" {
		t.Fatalf("pinward reads its reporter back: %+v, %v", rep, err)
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	b := make([]byte, 6)
	rand.Read(b)
	analyst := "gis_analyst_" + hex.EncodeToString(b) // roles are cluster-wide: a name of this test's own
	if _, err := conn.Exec(ctx, strings.ReplaceAll(analystGrants, "ANALYST", analyst)); err != nil {
		t.Fatalf("the README's grants: %v", err)
	}
	t.Cleanup(func() {
		bg := context.Background()
		conn.Exec(bg, "RESET ROLE")             //nolint:errcheck // best effort
		conn.Exec(bg, "DROP OWNED BY "+analyst) //nolint:errcheck
		if _, err := conn.Exec(bg, "DROP ROLE "+analyst); err != nil {
			t.Errorf("drop role %s: %v", analyst, err)
		}
	})
	if _, err := conn.Exec(ctx, "SET ROLE "+analyst); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM public.requests WHERE tenant_id = 'a'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the analyst reads requests: %d, %v", n, err)
	}
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pinward_private.reporters`).Scan(&n)
	if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Code != "42501" {
		t.Errorf("the analyst reading reporters: %v, want permission denied (42501)", err)
	}
	// Nor is there a copy left in public.
	err = conn.QueryRow(ctx, `SELECT count(*) FROM public.reporters`).Scan(&n)
	if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Code != "42P01" {
		t.Errorf("public.reporters: %v, want no such table (42P01)", err)
	}
}
