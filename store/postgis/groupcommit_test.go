package postgis_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// TestGroupCommitIsolatesFailures: creations submitted together share a
// transaction, but one that PostgreSQL refuses (a NUL byte in text) fails
// alone, as in its own transaction: the others are stored, each with its
// event, and the refused one left nothing behind. Creations of one group
// that are near each other still end in one cluster.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := open(t)
	ctx := ctxT(t)
	const n = 24
	got := make([]requests.Request, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for round := range 3 {
		for i := range n {
			wg.Go(func() {
				p := orb.Point{centre[0] + float64(i)*1e-6, centre[1]}
				nr := gridReq(p, round*n+i)
				nr.Request.TenantID, nr.Cluster.Tenant = "t", "t"
				nr.Request.Token = fmt.Sprint("tok-", round, "-", i)
				if i == 7 {
					// A value only the database refuses (a NUL byte, once
					// used here, is now refused before any SQL).
					nr.Request.DueAt = time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC)
				}
				if i%3 == 0 {
					nr.Reporter = &requests.Reporter{FirstName: "Ana", Email: fmt.Sprint("ana", i, "@example.org")}
				}
				got[i], errs[i] = s.CreateRequest(ctx, nr)
			})
		}
		wg.Wait()
		clusters := map[string]bool{}
		for i := range n {
			if i == 7 {
				if errs[i] == nil {
					t.Fatalf("round %d: a due time before 4713 BC was stored", round)
				}
				kindOf(t, errs[i], i18n.Internal)
				continue
			}
			if errs[i] != nil {
				t.Fatalf("round %d: creation %d failed with its group: %v", round, i, errs[i])
			}
			clusters[got[i].ClusterID] = true
			back, err := s.GetRequest(ctx, "t", got[i].ServiceRequestID)
			if err != nil {
				t.Fatal(err)
			}
			if !equalRequests(back, got[i]) {
				t.Errorf("CreateRequest returned %+v, GetRequest reads %+v", got[i], back)
			}
			evs, err := s.ListEvents(ctx, "t", got[i].ServiceRequestID)
			if err != nil || len(evs) != 1 {
				t.Errorf("request %s: events %v, %v; want its created event", got[i].ServiceRequestID, evs, err)
			}
		}
		if len(clusters) != 1 {
			t.Errorf("round %d: near-identical creations formed clusters %v, want one", round, clusters)
		}
	}
	all, err := s.ListRequests(ctx, requests.Filter{Tenant: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3*(n-1) {
		t.Errorf("%d requests stored, want %d", len(all), 3*(n-1))
	}
}

// equalRequests compares what a test can compare with ==.
func equalRequests(a, b requests.Request) bool {
	return a.ID == b.ID && a.ClusterID == b.ClusterID && a.Point == b.Point && a.Description == b.Description &&
		a.RequestedAt.Equal(b.RequestedAt) && a.RequestedAt.Location() == b.RequestedAt.Location() &&
		a.DueAt.Equal(b.DueAt) && a.Token == b.Token && a.Status == b.Status && len(a.Attributes) == len(b.Attributes)
}
