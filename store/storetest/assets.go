package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/requests"
)

// RunAssets runs the requests.AssetStore contract; the Store that open
// returns must also implement requests.AssetStore. Points easy to miss:
//   - An upsert batch is all or nothing: one stale version (Conflict) or
//     one (layer, ID) given twice (Invalid) and nothing of it is written;
//     the error is an *requests.AssetBatchError naming each asset.
//   - An equal version is a replay: no write, no change, a retired asset
//     stays retired; a higher one revives a retired asset.
//   - Changes come in seq order, resume after any cursor, and LoadAssets'
//     cursor is the last change its assets include.
//   - Retiring flags (one EventAssetRetired event each) the requests that
//     are not closed and name the asset, and only those.
func RunAssets(t *testing.T, open func(t *testing.T) Stores) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Stores, requests.AssetStore)
	}{
		{"UpsertLoad", testAssetUpsertLoad},
		{"Versions", testAssetVersions},
		{"Duplicates", testAssetDuplicates},
		{"Retire", testAssetRetire},
		{"Feed", testAssetFeed},
		{"Canceled", testAssetCanceled},
	} {
		t.Run("Assets/"+tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			tc.fn(t, s, s.Store)
		})
	}
}

func asset(layer, id string, m float64, version int64) assets.Asset {
	return assets.Asset{Layer: layer, ID: id, Point: east(m), Version: version,
		Attrs: map[string]string{"label": fmt.Sprintf("%s %s v%d", layer, id, version)}}
}

func upsert(t *testing.T, s requests.AssetStore, tenant string, batch ...assets.Asset) requests.AssetUpsertResult {
	t.Helper()
	res, err := s.UpsertAssets(context.Background(), requests.AssetUpsert{Tenant: tenant, Assets: batch, At: t0})
	if err != nil {
		t.Fatalf("UpsertAssets: %v", err)
	}
	return res
}

func load(t *testing.T, s requests.AssetStore, tenant string) ([]assets.Asset, int64) {
	t.Helper()
	list, cursor, err := s.LoadAssets(context.Background(), tenant)
	if err != nil {
		t.Fatalf("LoadAssets: %v", err)
	}
	slices.SortFunc(list, func(a, b assets.Asset) int {
		if a.Layer != b.Layer {
			return compare(a.Layer, b.Layer)
		}
		return compare(a.ID, b.ID)
	})
	return list, cursor
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func changes(t *testing.T, s requests.AssetStore, tenant string, after int64, limit int) []requests.AssetChange {
	t.Helper()
	cs, err := s.AssetChanges(context.Background(), tenant, after, limit)
	if err != nil {
		t.Fatalf("AssetChanges: %v", err)
	}
	return cs
}

// batchError checks err is an *AssetBatchError of kind k naming exactly
// the assets at indexes.
func batchError(t *testing.T, err error, k i18n.Kind, indexes ...int) {
	t.Helper()
	var be *requests.AssetBatchError
	if !errors.As(err, &be) || i18n.KindOf(err) != k {
		t.Fatalf("error %v (%T), want an *AssetBatchError of kind %s", err, err, k)
	}
	var got []int
	for _, f := range be.Features {
		if f.Err == nil || f.Err.Message.En == "" || f.Err.Message.Fr == "" {
			t.Errorf("feature %d: error %v has no bilingual message", f.Index, f.Err)
		}
		got = append(got, f.Index)
	}
	if !slices.Equal(got, indexes) || be.Total != len(indexes) {
		t.Fatalf("refused features %v (total %d), want %v", got, be.Total, indexes)
	}
}

func testAssetUpsertLoad(t *testing.T, _ Stores, s requests.AssetStore) {
	batch := []assets.Asset{asset("hydrant", "H1", 0, 5), asset("hydrant", "H2", 10, 5), asset("streetlight", "S1", 20, 7)}
	batch[2].Attrs = nil // none round-trips as nil
	res := upsert(t, s, tenantA, batch...)
	if res.Applied != 3 || res.Unchanged != 0 || res.Cursor <= 0 {
		t.Fatalf("result %+v, want 3 applied and a cursor", res)
	}
	got, cursor := load(t, s, tenantA)
	if !reflect.DeepEqual(got, batch) {
		t.Fatalf("LoadAssets:\n got %+v\nwant %+v", got, batch)
	}
	if cursor != res.Cursor {
		t.Fatalf("LoadAssets cursor %d, want the batch's %d", cursor, res.Cursor)
	}
	layers, err := s.AssetLayers(context.Background(), tenantA)
	if err != nil || !slices.Equal(layers, []string{"hydrant", "streetlight"}) {
		t.Fatalf("AssetLayers = %v, %v", layers, err)
	}
	// Another tenant sees none of it.
	if got, cursor := load(t, s, tenantB); len(got) != 0 || cursor != 0 {
		t.Fatalf("tenant B loads %v at %d", got, cursor)
	}
	if cs := changes(t, s, tenantB, 0, 0); len(cs) != 0 {
		t.Fatalf("tenant B changes %v", cs)
	}
	cs := changes(t, s, tenantA, 0, 0)
	if len(cs) != 3 {
		t.Fatalf("%d changes, want 3", len(cs))
	}
	for i, c := range cs {
		if c.Op != requests.AssetUpserted || !reflect.DeepEqual(c.Asset, batch[i]) || !c.At.Equal(utc(t0)) || c.At.Location() != time.UTC {
			t.Errorf("change %d = %+v, want upsert of %+v at %v", i, c, batch[i], t0)
		}
		if i > 0 && c.Seq <= cs[i-1].Seq {
			t.Errorf("seq %d after %d", c.Seq, cs[i-1].Seq)
		}
	}
}

func testAssetVersions(t *testing.T, _ Stores, s requests.AssetStore) {
	upsert(t, s, tenantA, asset("hydrant", "H1", 0, 10), asset("hydrant", "H2", 10, 10))
	_, before := load(t, s, tenantA)

	// A replay changes nothing and makes no change.
	res := upsert(t, s, tenantA, asset("hydrant", "H1", 0, 10))
	if res.Applied != 0 || res.Unchanged != 1 || res.Cursor != 0 {
		t.Fatalf("replay: %+v", res)
	}
	// One stale asset refuses the whole batch, the new asset included.
	_, err := s.UpsertAssets(context.Background(), requests.AssetUpsert{Tenant: tenantA, At: t0, Assets: []assets.Asset{
		asset("hydrant", "H3", 20, 1), asset("hydrant", "H1", 5, 9), asset("hydrant", "H2", 5, 11),
	}})
	batchError(t, err, i18n.Conflict, 1)
	got, cursor := load(t, s, tenantA)
	if len(got) != 2 || cursor != before || got[0].Version != 10 || got[1].Version != 10 {
		t.Fatalf("after a refused batch: %+v at %d (was %d)", got, cursor, before)
	}
	// A newer version replaces.
	newer := asset("hydrant", "H1", 30, 11)
	res = upsert(t, s, tenantA, newer)
	if res.Applied != 1 || res.Cursor <= before {
		t.Fatalf("newer: %+v", res)
	}
	got, _ = load(t, s, tenantA)
	if !reflect.DeepEqual(got[0], newer) {
		t.Fatalf("after newer: %+v, want %+v", got[0], newer)
	}
}

func testAssetDuplicates(t *testing.T, _ Stores, s requests.AssetStore) {
	_, err := s.UpsertAssets(context.Background(), requests.AssetUpsert{Tenant: tenantA, At: t0, Assets: []assets.Asset{
		asset("hydrant", "H1", 0, 1), asset("streetlight", "H1", 0, 1), asset("hydrant", "H1", 0, 2),
	}})
	batchError(t, err, i18n.Invalid, 2)
	if got, cursor := load(t, s, tenantA); len(got) != 0 || cursor != 0 {
		t.Fatalf("after a refused batch: %v at %d", got, cursor)
	}
}

func testAssetRetire(t *testing.T, st Stores, s requests.AssetStore) {
	ctx := context.Background()
	upsert(t, s, tenantA, asset("streetlight", "S1", 0, 3), asset("streetlight", "S2", 50, 3))
	onAsset := func(id string, tenant string) requests.NewRequest {
		r := newReq(tenant, east(1), t0)
		r.AssetLayer, r.AssetID, r.AssetDistanceM = "streetlight", id, 1
		return newRequest(r)
	}
	open1 := create(t, st, onAsset("S1", tenantA))
	open2 := create(t, st, onAsset("S1", tenantA))
	closed := create(t, st, onAsset("S1", tenantA))
	if _, err := st.UpdateStatus(ctx, requests.StatusChange{Tenant: tenantA, ServiceRequestID: closed.ServiceRequestID,
		To: requests.Closed, Actor: "staff", At: t0}); err != nil {
		t.Fatal(err)
	}
	other := create(t, st, onAsset("S2", tenantA))
	create(t, st, onAsset("S1", tenantB)) // same asset ID, other tenant

	if _, err := s.RetireAsset(ctx, requests.AssetRetire{Tenant: tenantA, Layer: "streetlight", ID: "nope", At: t0}); i18n.KindOf(err) != i18n.NotFound {
		t.Fatalf("retire unknown: %v, want NotFound", err)
	}
	if _, err := s.RetireAsset(ctx, requests.AssetRetire{Tenant: tenantB, Layer: "streetlight", ID: "S1", At: t0}); i18n.KindOf(err) != i18n.NotFound {
		t.Fatalf("retire another tenant's asset: %v, want NotFound", err)
	}
	at := t0.Add(time.Hour)
	res, err := s.RetireAsset(ctx, requests.AssetRetire{Tenant: tenantA, Layer: "streetlight", ID: "S1", Actor: "key:1", At: at})
	if err != nil {
		t.Fatal(err)
	}
	if res.AlreadyRetired || res.Cursor == 0 || !slices.Equal(res.Flagged, []string{open1.ServiceRequestID, open2.ServiceRequestID}) {
		t.Fatalf("retire: %+v, want open %s and %s flagged", res, open1.ServiceRequestID, open2.ServiceRequestID)
	}
	evs, err := st.ListEvents(ctx, tenantA, open1.ServiceRequestID)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if last.Kind != requests.EventAssetRetired || last.Actor != "key:1" || !last.At.Equal(utc(at)) {
		t.Fatalf("last event of a flagged request: %+v", last)
	}
	for _, id := range []string{closed.ServiceRequestID, other.ServiceRequestID} {
		evs, _ := st.ListEvents(ctx, tenantA, id)
		for _, e := range evs {
			if e.Kind == requests.EventAssetRetired {
				t.Fatalf("request %s flagged", id)
			}
		}
	}
	flagged, err := s.RetiredAssetRequests(ctx, tenantA)
	if err != nil || !slices.Equal(flagged, res.Flagged) {
		t.Fatalf("RetiredAssetRequests = %v, %v; want %v", flagged, err, res.Flagged)
	}
	if got, _ := load(t, s, tenantA); len(got) != 1 || got[0].ID != "S2" {
		t.Fatalf("LoadAssets after retire: %+v", got)
	}
	cs := changes(t, s, tenantA, res.Cursor-1, 0)
	if len(cs) != 1 || cs[0].Op != requests.AssetRetired || cs[0].Asset.ID != "S1" || cs[0].Asset.Version != 3 || cs[0].Seq != res.Cursor {
		t.Fatalf("retire change: %+v", cs)
	}
	again, err := s.RetireAsset(ctx, requests.AssetRetire{Tenant: tenantA, Layer: "streetlight", ID: "S1", At: at})
	if err != nil || !again.AlreadyRetired || len(again.Flagged) != 0 {
		t.Fatalf("retire again: %+v, %v", again, err)
	}
	// A replay of the retired version does not revive it; a newer one does.
	if r := upsert(t, s, tenantA, asset("streetlight", "S1", 0, 3)); r.Applied != 0 {
		t.Fatalf("replay revived: %+v", r)
	}
	if got, _ := load(t, s, tenantA); len(got) != 1 {
		t.Fatalf("replay revived: %+v", got)
	}
	upsert(t, s, tenantA, asset("streetlight", "S1", 0, 4))
	if got, _ := load(t, s, tenantA); len(got) != 2 {
		t.Fatalf("newer version did not revive: %+v", got)
	}
	if flagged, _ := s.RetiredAssetRequests(ctx, tenantA); len(flagged) != 0 {
		t.Fatalf("revived asset still has flagged requests: %v", flagged)
	}
}

func testAssetFeed(t *testing.T, _ Stores, s requests.AssetStore) {
	ctx := context.Background()
	var want []string
	for i := range 5 {
		var batch []assets.Asset
		for j := range 3 {
			a := asset("tree", fmt.Sprintf("T%d", j), float64(j), int64(i+1))
			a.Point = orb.Point{a.Point[0], a.Point[1] + float64(i)*1e-5}
			batch = append(batch, a)
			want = append(want, fmt.Sprintf("upsert %s v%d", a.ID, a.Version))
		}
		upsert(t, s, tenantA, batch...)
	}
	if _, err := s.RetireAsset(ctx, requests.AssetRetire{Tenant: tenantA, Layer: "tree", ID: "T1", At: t0}); err != nil {
		t.Fatal(err)
	}
	want = append(want, "retire T1 v5")
	// Read it back in pages of 4, resuming from each page's last seq.
	var got []string
	var cursor int64
	for {
		page := changes(t, s, tenantA, cursor, 4)
		if len(page) > 4 {
			t.Fatalf("page of %d, limit 4", len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, c := range page {
			got = append(got, fmt.Sprintf("%s %s v%d", c.Op, c.Asset.ID, c.Asset.Version))
		}
		cursor = page[len(page)-1].Seq
	}
	if !slices.Equal(got, want) {
		t.Fatalf("feed:\n got %v\nwant %v", got, want)
	}
	if _, last := load(t, s, tenantA); last != cursor {
		t.Fatalf("LoadAssets cursor %d, feed ends at %d", last, cursor)
	}
	// A follower replaying the feed ends with what LoadAssets returns.
	ix := &assets.Index{}
	f := requests.NewAssetFollower(s, ix, tenantA, 0, nil)
	if n, err := f.CatchUp(ctx); err != nil || n != len(want) {
		t.Fatalf("CatchUp = %d, %v", n, err)
	}
	loaded, _ := load(t, s, tenantA)
	var followed []assets.Asset
	ix.Scan(func(a assets.Asset) bool { followed = append(followed, a); return true })
	slices.SortFunc(followed, func(a, b assets.Asset) int { return compare(a.ID, b.ID) })
	if !reflect.DeepEqual(followed, loaded) {
		t.Fatalf("followed index:\n got %+v\nwant %+v", followed, loaded)
	}
}

func testAssetCanceled(t *testing.T, _ Stores, s requests.AssetStore) {
	upsert(t, s, tenantA, asset("hydrant", "H1", 0, 1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: %v, want context.Canceled", what, err)
		}
	}
	_, err := s.UpsertAssets(ctx, requests.AssetUpsert{Tenant: tenantA, At: t0, Assets: []assets.Asset{asset("hydrant", "H2", 0, 1)}})
	check("UpsertAssets", err)
	_, err = s.RetireAsset(ctx, requests.AssetRetire{Tenant: tenantA, Layer: "hydrant", ID: "H1", At: t0})
	check("RetireAsset", err)
	_, err = s.AssetChanges(ctx, tenantA, 0, 0)
	check("AssetChanges", err)
	_, _, err = s.LoadAssets(ctx, tenantA)
	check("LoadAssets", err)
	if got, _ := load(t, s, tenantA); len(got) != 1 {
		t.Fatalf("a canceled call wrote: %+v", got)
	}
}
