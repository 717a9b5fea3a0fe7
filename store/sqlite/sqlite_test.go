package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/sqlite"
	"github.com/pinward/pinward/store/storetest"

	_ "modernc.org/sqlite"
)

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Stores {
		s := open(t, filepath.Join(t.TempDir(), "pinward.db"))
		return storetest.Stores{Store: s}
	})
}

func TestOutbox(t *testing.T) {
	storetest.RunOutbox(t, func(t *testing.T) storetest.Stores {
		s := open(t, filepath.Join(t.TempDir(), "pinward.db"))
		return storetest.Stores{Store: s}
	})
}

func sample(at time.Time) requests.NewRequest {
	return requests.NewRequest{
		Request: requests.Request{TenantID: "t", ServiceCode: "pothole", Status: requests.New, Point: orb.Point{-73.1, 46.05},
			RequestedAt: at, UpdatedAt: at, Token: "tok", Lang: i18n.En, Attributes: map[string]string{"size": "large"}},
		Reporter:       &requests.Reporter{Email: "a@example.ca"},
		Event:          requests.Event{At: at, Actor: "resident", Kind: requests.EventCreated, To: requests.New},
		IdempotencyKey: "k", Fingerprint: "f",
	}
}

// TestReopen: what was acknowledged is there after Close and Open, and the
// folder is created when missing.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new", "folder", "pinward.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.CreateRequest(ctx, sample(time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	_, hash := requests.NewAPIKey()
	if _, err := s.CreateAPIKey(ctx, requests.Key{TenantID: "t", Role: requests.RoleAdmin, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := open(t, path)
	if got, err := s2.GetRequest(ctx, "t", r.ServiceRequestID); err != nil || got.Token != "tok" || got.Attributes["size"] != "large" {
		t.Errorf("after reopening: %+v, %v", got, err)
	}
	if again, err := s2.CreateRequest(ctx, sample(time.Now())); err != nil || again.ID != r.ID {
		t.Errorf("idempotency key forgotten after reopening: %+v, %v", again, err)
	}
	if _, err := s2.LookupAPIKey(ctx, hash); err != nil {
		t.Errorf("API key lost: %v", err)
	}
	// IDs keep growing from where they were.
	nr := sample(time.Now())
	nr.IdempotencyKey, nr.Request.Token = "", "tok2"
	if r2, err := s2.CreateRequest(ctx, nr); err != nil || r2.ID <= r.ID {
		t.Errorf("new request after reopening: %+v, %v", r2, err)
	}
}

// TestMigrations: every file is applied once, recorded, and running
// Migrate again (or opening again) changes nothing.
func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pinward.db")
	s := open(t, path)
	for range 2 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
	}
	s2 := open(t, path) // a second Store on the same file, as a second process would
	if err := s2.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT version_id FROM goose_db_version WHERE version_id > 0 ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0] != 1 || len(got) != len(files) {
		t.Errorf("goose_db_version = %v, want version 1 first and each of the %d files once", got, len(files))
	}
	// The pragmas that make acknowledged writes durable.
	var mode string
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	// Every table carries tenant_id.
	for _, table := range []string{"requests", "reporters", "events", "idempotency", "api_keys"} {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE name = 'tenant_id'`, table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s: tenant_id column count %d, %v", table, n, err)
		}
	}
}

// TestTwoStoresOneFile: two Stores on one file (two servers, or `pinward
// keys create` beside `serve`) still serialise cluster assignment.
func TestTwoStoresOneFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Stores {
		// Each subtest needs an empty store: a new pair of Stores on a new file.
		p := filepath.Join(t.TempDir(), "pinward.db")
		x, y := open(t, p), open(t, p)
		return storetest.Stores{Store: &split{Store: x, w: x, r: y}}
	})
}

// split spreads calls over two Stores on one file: creations alternate
// between them (so concurrent ones contend for the file's write lock, not
// one connection) and reads go to the other Store than most writes, so a
// write made through one must be visible through the other.
type split struct {
	*sqlite.Store // what split does not spread
	w, r          *sqlite.Store
	n             atomic.Int64
}

func (s *split) CreateRequest(ctx context.Context, nr requests.NewRequest) (requests.Request, error) {
	if s.n.Add(1)%2 == 0 {
		return s.r.CreateRequest(ctx, nr)
	}
	return s.w.CreateRequest(ctx, nr)
}
func (s *split) GetRequest(ctx context.Context, tenant, id string) (requests.Request, error) {
	return s.r.GetRequest(ctx, tenant, id)
}
func (s *split) GetRequestByToken(ctx context.Context, tenant, token string) (requests.Request, error) {
	return s.r.GetRequestByToken(ctx, tenant, token)
}
func (s *split) ListRequests(ctx context.Context, f requests.Filter) ([]requests.Request, error) {
	return s.r.ListRequests(ctx, f)
}
func (s *split) OpenRequestsNear(ctx context.Context, q requests.ClusterQuery) ([]requests.Request, error) {
	return s.r.OpenRequestsNear(ctx, q)
}
func (s *split) UpdateStatus(ctx context.Context, c requests.StatusChange) (requests.Request, error) {
	return s.r.UpdateStatus(ctx, c) // the other Store writes too
}
func (s *split) ListEvents(ctx context.Context, tenant, id string) ([]requests.Event, error) {
	return s.w.ListEvents(ctx, tenant, id)
}
func (s *split) GetReporter(ctx context.Context, a requests.ReporterAccess) (requests.Reporter, error) {
	return s.r.GetReporter(ctx, a)
}
func (s *split) ReportRows(ctx context.Context, tenant string, q requests.ReportQuery) ([]requests.ReportRow, requests.ReportRow, error) {
	return s.r.ReportRows(ctx, tenant, q)
}
func (s *split) PurgeReporters(ctx context.Context, p requests.ReporterPurge) (int, error) {
	return s.r.PurgeReporters(ctx, p)
}

// Cluster changes go through the other Store than most creations, reads
// through the first.
func (s *split) ListClusters(ctx context.Context, f requests.ClusterFilter) ([]requests.Cluster, error) {
	return s.w.ListClusters(ctx, f)
}
func (s *split) GetCluster(ctx context.Context, tenant, id string) (requests.Cluster, []requests.Request, error) {
	return s.w.GetCluster(ctx, tenant, id)
}
func (s *split) MergeClusters(ctx context.Context, m requests.ClusterMerge) (requests.ClusterResult, error) {
	return s.r.MergeClusters(ctx, m)
}
func (s *split) SplitCluster(ctx context.Context, c requests.ClusterSplit) (requests.ClusterResult, error) {
	return s.r.SplitCluster(ctx, c)
}
func (s *split) TransitionCluster(ctx context.Context, c requests.ClusterTransition) (requests.ClusterResult, error) {
	return s.r.TransitionCluster(ctx, c)
}

// Staff workflow writes go through the other Store, reads through the
// first.
func (s *split) TransitionRequest(ctx context.Context, t requests.Transition) (requests.Request, error) {
	return s.r.TransitionRequest(ctx, t)
}
func (s *split) AssignRequest(ctx context.Context, a requests.Assignment) (requests.Request, error) {
	return s.r.AssignRequest(ctx, a)
}
func (s *split) AddStaffNote(ctx context.Context, n requests.StaffNote) (requests.Event, error) {
	return s.r.AddStaffNote(ctx, n)
}
func (s *split) WaitingSince(ctx context.Context, tenant string, before, afterAt time.Time, afterID int64, limit int) ([]requests.Request, error) {
	return s.w.WaitingSince(ctx, tenant, before, afterAt, afterID, limit)
}
