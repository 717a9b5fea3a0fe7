package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/requests"
)

// locateBulk is how many open requests of one category testOpenRequestsNear
// stores: five times MaxListLimit, past which a list-then-filter search
// once missed the same-asset match.
const locateBulk = 5000

// testOpenRequestsNear: the open requests in a bound or on an asset are
// found among 5,000 open requests of the category, and nothing else is:
// not a closed one, another category's, another tenant's, or one before
// Since.
func testOpenRequestsNear(t *testing.T, s Stores) {
	ctx := context.Background()
	far := func(i int) requests.Request { // 2 to 12 km east, 1 m apart, newest last
		r := newReq(tenantA, east(2000+float64(i)*2), t0.Add(time.Duration(i)*time.Second))
		return r
	}
	// The one naming the asset is among the oldest, 3 km from the search:
	// a search that reads the newest MaxListLimit misses it.
	onAsset := far(0)
	onAsset.AssetLayer, onAsset.AssetID = "streetlight", "SL-7"
	wantAsset := create(t, s, newRequest(onAsset))

	var wg sync.WaitGroup
	errs := make(chan error, locateBulk)
	next := make(chan int)
	for range 16 { // concurrent, so the stores' group commit takes them in batches
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if _, err := s.CreateRequest(ctx, newRequest(far(i))); err != nil {
					errs <- fmt.Errorf("request %d: %w", i, err)
				}
			}
		}()
	}
	for i := 1; i < locateBulk; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// Near the search point: one in the bound, one before Since.
	inBound := create(t, s, newRequest(newReq(tenantA, east(10), t0.Add(time.Hour))))
	old := newReq(tenantA, east(12), t0.Add(-48*time.Hour))
	create(t, s, newRequest(old))
	// On the asset but not a match: closed, another category, another tenant.
	closed := onAsset
	closed.Token, closed.RequestedAt = "tok-closed-on-asset", t0.Add(2*time.Hour)
	c := create(t, s, newRequest(closed))
	if _, err := s.UpdateStatus(ctx, requests.StatusChange{Tenant: tenantA, ServiceRequestID: c.ServiceRequestID,
		To: requests.Closed, Note: "fixed", Actor: "test", At: t0.Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	other := onAsset
	other.Token, other.ServiceCode = "tok-other-code-on-asset", "streetlight"
	create(t, s, newRequest(other))
	theirs := onAsset
	theirs.Token, theirs.TenantID = "tok-other-tenant-on-asset", tenantB
	create(t, s, newRequest(theirs))

	q := requests.ClusterQuery{
		Tenant: tenantA, ServiceCodes: []string{"pothole"}, Point: origin, DistanceM: 75,
		Bound: geo.NewRuler(origin[1]).Buffer(origin, 75), Since: t0.Add(-time.Hour),
		AssetLayer: "streetlight", AssetID: "SL-7",
	}
	ids := func(q requests.ClusterQuery) []string {
		t.Helper()
		got, err := s.OpenRequestsNear(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range got {
			out = append(out, r.ServiceRequestID)
		}
		slices.Sort(out)
		return out
	}
	want := []string{wantAsset.ServiceRequestID, inBound.ServiceRequestID}
	slices.Sort(want)
	if got := ids(q); !slices.Equal(got, want) {
		t.Errorf("in the bound or on the asset among %d open requests: got %v, want %v", locateBulk, got, want)
	}
	q.AssetLayer, q.AssetID = "", ""
	if got := ids(q); !slices.Equal(got, []string{inBound.ServiceRequestID}) {
		t.Errorf("in the bound only: got %v, want [%s]", got, inBound.ServiceRequestID)
	}
	// A request both in the bound and on the asset comes once.
	q.AssetLayer, q.AssetID = "streetlight", "SL-8"
	both := newReq(tenantA, east(20), t0.Add(time.Hour))
	both.AssetLayer, both.AssetID = "streetlight", "SL-8"
	b := create(t, s, newRequest(both))
	want = []string{inBound.ServiceRequestID, b.ServiceRequestID}
	slices.Sort(want)
	if got := ids(q); !slices.Equal(got, want) {
		t.Errorf("in the bound and on the asset: got %v, want %v", got, want)
	}
}
