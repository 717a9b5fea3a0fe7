package postgis_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/internal/pgtest"
	"github.com/pinward/pinward/requests"
	"github.com/pinward/pinward/store/postgis"
)

// gridReq is a pothole at p with the grid locking Service uses.
func gridReq(p orb.Point, i int) requests.NewRequest {
	nr := newReq("g", "pothole", p, t0.Add(time.Duration(i)*time.Millisecond), fmt.Sprint("g", p, i))
	nr.Cluster = &requests.ClusterQuery{Tenant: "g", ServiceCodes: []string{"pothole", "sinkhole"}, Point: p,
		DistanceM: 30, Bound: geo.NewRuler(p[1]).Buffer(p, 30), Since: t0.Add(-time.Hour),
		LockCellDeg: requests.LockCellDeg(30)}
	return nr
}

// TestClusterGridLocks: with grid locks, concurrent near-identical
// submissions through two servers still make one cluster, also across a
// cell edge; a creation far away does not wait for a held lock, and one
// nearby does.
func TestClusterGridLocks(t *testing.T) {
	url := pgtest.URL(t)
	ctx := ctxT(t)
	var servers [2]*postgis.Store
	for i := range servers {
		s, err := postgis.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		servers[i] = s
	}
	cell := requests.LockCellDeg(30)
	// Straddling a grid line: half the points in one cell, half in the next.
	edge := orb.Point{cell * float64(int(centre[0]/cell)), centre[1]}
	const n = 16
	got := make([]requests.Request, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			p := orb.Point{edge[0] + float64(i-n/2)*2e-6, edge[1]}
			got[i], errs[i] = servers[i%2].CreateRequest(ctx, gridReq(p, i))
		})
	}
	wg.Wait()
	clusters := map[string]int{}
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		clusters[got[i].ClusterID]++
	}
	if len(clusters) != 1 {
		t.Errorf("%d concurrent duplicates across a cell edge formed clusters %v, want one", n, clusters)
	}

	// Hold the locks of a creation at A in another transaction.
	a := orb.Point{centre[0] + 0.05, centre[1]}
	group, cells := gridReq(a, 0).ClusterLocks()
	if cells == nil {
		t.Fatal("no grid cells to lock")
	}
	tx, err := servers[0].Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var b pgx.Batch
	b.Queue("SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))", group)
	b.Queue("SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k", cells)
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		t.Fatal(err)
	}
	// 2 km away: not blocked.
	far := orb.Point{a[0] + 0.03, a[1]}
	done := make(chan error, 1)
	go func() { _, err := servers[1].CreateRequest(ctx, gridReq(far, 1)); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a creation 2 km away waited for another's cluster lock")
	}
	// 10 m away: waits until the holder commits.
	near := orb.Point{a[0] + 0.00013, a[1]}
	go func() { _, err := servers[1].CreateRequest(ctx, gridReq(near, 2)); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("a creation 10 m away did not wait for the cluster lock (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
