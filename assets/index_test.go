package assets_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
)

// Parliament Hill, and points a known number of metres from it.
var hill = orb.Point{-75.6972, 45.4236}

func offset(p orb.Point, east, north float64) orb.Point {
	return geo.NewProjection(p).ToLonLat(orb.Point{east, north})
}

func mustIndex(t testing.TB, as []assets.Asset) *assets.Index {
	t.Helper()
	ix, err := assets.NewIndex(as)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestNearestLayers(t *testing.T) {
	ix := mustIndex(t, []assets.Asset{
		{Layer: "streetlight", ID: "L1", Point: offset(hill, 10, 0)},
		{Layer: "streetlight", ID: "L2", Point: offset(hill, 0, 25)},
		{Layer: "hydrant", ID: "H1", Point: offset(hill, -20, 0)},
		{Layer: "bench", ID: "B1", Point: offset(hill, 0, -5)},
	})
	for _, tc := range []struct {
		radius float64
		layers []string
		want   string // layer/id, or "" for none
	}{
		{30, nil, "bench/B1"},
		{30, []string{"streetlight"}, "streetlight/L1"},
		{30, []string{"hydrant"}, "hydrant/H1"},
		{30, []string{"hydrant", "streetlight"}, "streetlight/L1"},
		{30, []string{"streetlight", "hydrant"}, "streetlight/L1"},
		{15, []string{"hydrant"}, ""},
		{30, []string{"nosuchlayer"}, ""},
		{30, []string{"nosuchlayer", "hydrant"}, "hydrant/H1"},
		{4, nil, ""},
		{0, nil, ""},
		{-1, nil, ""},
		{math.NaN(), nil, ""},
	} {
		a, d, ok := ix.Nearest(hill, tc.radius, tc.layers...)
		got := ""
		if ok {
			got = a.Layer + "/" + a.ID
		}
		if got != tc.want {
			t.Errorf("Nearest(r=%g, %q) = %q %.2f m, want %q", tc.radius, tc.layers, got, d, tc.want)
		}
	}
	a, d, ok := ix.Nearest(hill, 30, "streetlight")
	if !ok || math.Abs(d-10) > 1e-6 || a.Point != offset(hill, 10, 0) {
		t.Errorf("Nearest = %+v %v m, want L1 at 10 m", a, d)
	}
	for _, p := range []orb.Point{{math.NaN(), 45}, {-75, 95}, {200, 45}} {
		if _, _, ok := ix.Nearest(p, 1e7); ok {
			t.Errorf("Nearest(%v) found something; want nothing for an invalid point", p)
		}
	}
}

func TestNearestRadiusEdge(t *testing.T) {
	// Diagonal, so the asset is not on the search window's edge as well.
	at := offset(hill, 21.2132, 21.2132)
	ix := mustIndex(t, []assets.Asset{{Layer: "x", ID: "a", Point: at}})
	d := geo.NewRuler(hill[1]).Distance(hill, at)
	if _, got, ok := ix.Nearest(hill, d); !ok || got != d {
		t.Errorf("radius = distance (%v m): got %v %v, want it found: the radius is inclusive", d, got, ok)
	}
	if _, _, ok := ix.Nearest(hill, math.Nextafter(d, 0)); ok {
		t.Errorf("radius just under the distance found the asset")
	}
	if _, got, ok := ix.Nearest(at, 0); !ok || got != 0 {
		t.Errorf("radius 0 at the asset itself: got %v %v, want it at 0 m", got, ok)
	}
}

func TestNearestTies(t *testing.T) {
	p := offset(hill, 7, 7)
	// Inserted in an order that is not the tie order.
	as := []assets.Asset{
		{Layer: "streetlight", ID: "b", Point: p},
		{Layer: "streetlight", ID: "B", Point: p},
		{Layer: "streetlight", ID: "a", Point: p},
		{Layer: "hydrant", ID: "z", Point: p},
		{Layer: "hydrant", ID: "y", Point: p},
	}
	for range 5 {
		ix := mustIndex(t, as)
		for layers, want := range map[string]string{
			"":                    "hydrant/y",
			"streetlight":         "streetlight/B",
			"streetlight,hydrant": "hydrant/y",
			"hydrant,streetlight": "hydrant/y",
		} {
			var ls []string
			if layers != "" {
				ls = strings.Split(layers, ",")
			}
			a, _, ok := ix.Nearest(hill, 50, ls...)
			if got := a.Layer + "/" + a.ID; !ok || got != want {
				t.Errorf("Nearest(%q) = %s, want %s (ties go to the smaller layer, then ID)", layers, got, want)
			}
		}
		rand.Shuffle(len(as), func(i, j int) { as[i], as[j] = as[j], as[i] })
	}
}

func TestNewIndex(t *testing.T) {
	ix := mustIndex(t, nil)
	if ix.Len() != 0 || len(ix.Layers()) != 0 {
		t.Errorf("empty index: Len %d Layers %v", ix.Len(), ix.Layers())
	}
	var zero assets.Index
	if _, _, ok := zero.Nearest(hill, 10); ok || zero.Len() != 0 {
		t.Error("the zero Index should be empty")
	}
	if err := zero.Upsert([]assets.Asset{{Layer: "x", ID: "1", Point: hill}}); err != nil || zero.Len() != 1 {
		t.Errorf("Upsert into the zero Index: %v, Len %d", err, zero.Len())
	}

	ix = mustIndex(t, []assets.Asset{
		{Layer: "streetlight", ID: "1", Point: hill, Attrs: map[string]string{"watts": "100"}, Version: 4},
		{Layer: "hydrant", ID: "1", Point: hill},
		{Layer: "bench", ID: "9", Point: hill},
	})
	if ix.Len() != 3 || !slices.Equal(ix.Layers(), []string{"bench", "hydrant", "streetlight"}) {
		t.Errorf("Len %d Layers %v", ix.Len(), ix.Layers())
	}
	a, ok := ix.Get("streetlight", "1")
	if !ok || a.Version != 4 || a.Attrs["watts"] != "100" || a.Point != hill {
		t.Errorf("Get = %+v %v", a, ok)
	}
	for _, k := range [][2]string{{"streetlight", "2"}, {"pole", "1"}, {"", ""}} {
		if _, ok := ix.Get(k[0], k[1]); ok {
			t.Errorf("Get(%q, %q) found something", k[0], k[1])
		}
	}

	_, err := assets.NewIndex([]assets.Asset{
		{Layer: "x", ID: "1", Point: hill},
		{Layer: "x", ID: "2", Point: hill},
		{Layer: "x", ID: "1", Point: hill},
		{Layer: "y", ID: "1", Point: hill},
		{Layer: "y", ID: "1", Point: hill},
	})
	if err == nil || !strings.Contains(err.Error(), "2 duplicate asset (layer/ID): x/1, y/1") || i18n.KindOf(err) != i18n.Invalid {
		t.Errorf("duplicates: err = %v", err)
	}
	for _, tc := range []struct {
		a    assets.Asset
		want string
	}{
		{assets.Asset{ID: "1", Point: hill}, `asset 1 (ID "1") has no layer`},
		{assets.Asset{Layer: "x", Point: hill}, `asset 1 of layer "x" has no ID`},
		{assets.Asset{Layer: "x", ID: "1", Point: orb.Point{45.4, -175.7}}, "asset x/1: the location is not a valid longitude/latitude: invalid geometry in asset x/1: latitude -175.7 is out of range [-90, 90]; longitude and latitude look swapped"},
	} {
		_, err := assets.NewIndex([]assets.Asset{{Layer: "ok", ID: "ok", Point: hill}, tc.a})
		if err == nil || !strings.Contains(err.Error(), tc.want) || i18n.KindOf(err) != i18n.Invalid {
			t.Errorf("NewIndex(%+v) error = %v, want it to mention %q", tc.a, err, tc.want)
		}
	}
}

func TestUpsert(t *testing.T) {
	ix := mustIndex(t, []assets.Asset{
		{Layer: "streetlight", ID: "L1", Point: offset(hill, 10, 0), Version: 1},
		{Layer: "streetlight", ID: "L2", Point: offset(hill, 40, 0), Version: 1},
	})
	nearest := func(p orb.Point) string {
		a, _, ok := ix.Nearest(p, 15, "streetlight")
		if !ok {
			return ""
		}
		return fmt.Sprintf("%s@%d", a.ID, a.Version)
	}

	// Insert.
	if err := ix.Upsert([]assets.Asset{{Layer: "hydrant", ID: "H1", Point: offset(hill, 0, 5), Version: 1}}); err != nil {
		t.Fatal(err)
	}
	if a, _, ok := ix.Nearest(hill, 15); !ok || a.ID != "H1" || ix.Len() != 3 || len(ix.Layers()) != 2 {
		t.Errorf("after insert: nearest %v %v, Len %d, Layers %v", a.ID, ok, ix.Len(), ix.Layers())
	}

	// Move L1 far away: it is no longer near where it was, and is near
	// where it went; attributes are replaced too.
	far := offset(hill, 1000, 1000)
	if err := ix.Upsert([]assets.Asset{{Layer: "streetlight", ID: "L1", Point: far, Version: 2, Attrs: map[string]string{"k": "v"}}}); err != nil {
		t.Fatal(err)
	}
	if got := nearest(hill); got != "" {
		t.Errorf("after move, nearest at the old place = %s, want none", got)
	}
	if got := nearest(far); got != "L1@2" {
		t.Errorf("after move, nearest at the new place = %s, want L1@2", got)
	}
	if a, _ := ix.Get("streetlight", "L1"); a.Point != far || a.Attrs["k"] != "v" || ix.Len() != 3 {
		t.Errorf("after move: Get = %+v, Len %d", a, ix.Len())
	}

	// A stale version is a conflict naming the asset and both versions,
	// and changes nothing.
	before := ix.Snapshot()
	err := ix.Upsert([]assets.Asset{{Layer: "streetlight", ID: "L1", Point: hill, Version: 1}})
	var ie *i18n.Error
	if !errors.As(err, &ie) || ie.Kind != i18n.Conflict ||
		ie.Error() != "version: asset streetlight/L1: version 1 is older than the stored version 2" ||
		ie.Message.Fr != "actif streetlight/L1 : la version 1 est antérieure à la version enregistrée 2" {
		t.Errorf("stale upsert: err = %#v", err)
	}
	if ix.Snapshot() != before {
		t.Error("a refused upsert published a new snapshot")
	}

	// Replaying the same version is a no-op, even if the payload differs.
	if err := ix.Upsert([]assets.Asset{{Layer: "streetlight", ID: "L1", Point: hill, Version: 2}}); err != nil {
		t.Errorf("replay: %v", err)
	}
	if got := nearest(far); got != "L1@2" {
		t.Errorf("after replay, nearest = %s, want L1@2 unchanged", got)
	}

	// Several versions of one asset in one batch apply in order.
	if err := ix.Upsert([]assets.Asset{
		{Layer: "streetlight", ID: "L1", Point: offset(far, 1, 0), Version: 3},
		{Layer: "streetlight", ID: "L1", Point: offset(far, 2, 0), Version: 4},
	}); err != nil {
		t.Fatal(err)
	}
	if a, _ := ix.Get("streetlight", "L1"); a.Version != 4 || a.Point != offset(far, 2, 0) {
		t.Errorf("after two versions in one batch: %+v", a)
	}
	// ... and a batch going backwards is refused.
	err = ix.Upsert([]assets.Asset{
		{Layer: "streetlight", ID: "L1", Point: far, Version: 6},
		{Layer: "streetlight", ID: "L1", Point: far, Version: 5},
	})
	if i18n.KindOf(err) != i18n.Conflict || !strings.Contains(err.Error(), "version 5 is older than the stored version 6") {
		t.Errorf("backwards batch: %v", err)
	}
	if a, _ := ix.Get("streetlight", "L1"); a.Version != 4 {
		t.Errorf("backwards batch changed L1 to version %d", a.Version)
	}
}

func TestUpsertAllOrNothing(t *testing.T) {
	ix := mustIndex(t, []assets.Asset{{Layer: "streetlight", ID: "L1", Point: hill, Version: 5}})
	before := ix.Snapshot()
	for name, batch := range map[string][]assets.Asset{
		"invalid point": {
			{Layer: "streetlight", ID: "L2", Point: offset(hill, 5, 0), Version: 1},
			{Layer: "hydrant", ID: "H1", Point: offset(hill, 5, 0), Version: 1},
			{Layer: "streetlight", ID: "L3", Point: orb.Point{math.NaN(), 45}, Version: 1},
		},
		"no id": {
			{Layer: "hydrant", ID: "H1", Point: offset(hill, 5, 0), Version: 1},
			{Layer: "hydrant", Point: offset(hill, 5, 0), Version: 1},
		},
		"conflict last": {
			{Layer: "streetlight", ID: "L2", Point: offset(hill, 5, 0), Version: 1},
			{Layer: "hydrant", ID: "H1", Point: offset(hill, 5, 0), Version: 1},
			{Layer: "streetlight", ID: "L1", Point: offset(hill, 5, 0), Version: 4},
		},
	} {
		err := ix.Upsert(batch)
		if err == nil {
			t.Errorf("%s: Upsert succeeded", name)
		}
		t.Logf("%s: %v", name, err)
		if ix.Snapshot() != before || ix.Len() != 1 || !slices.Equal(ix.Layers(), []string{"streetlight"}) {
			t.Errorf("%s: a refused batch changed the index: Len %d Layers %v", name, ix.Len(), ix.Layers())
		}
		if a, _, _ := ix.Nearest(hill, 50); a.ID != "L1" || a.Point != hill {
			t.Errorf("%s: a refused batch changed the answers: %+v", name, a)
		}
	}
	err := ix.Upsert([]assets.Asset{{Layer: "x", ID: "1", Point: orb.Point{45.4, -175.7}}})
	if i18n.KindOf(err) != i18n.Invalid || !strings.Contains(err.Error(), "longitude and latitude look swapped") {
		t.Errorf("invalid point: %v", err)
	}
	var ge *geo.InvalidError
	if !errors.As(err, &ge) || ge.Feature != "asset x/1" {
		t.Errorf("invalid point: the cause %v is not a named *geo.InvalidError", err)
	}
}

func TestDelete(t *testing.T) {
	ix := mustIndex(t, []assets.Asset{
		{Layer: "streetlight", ID: "L1", Point: hill},
		{Layer: "streetlight", ID: "L2", Point: offset(hill, 10, 0)},
		{Layer: "hydrant", ID: "H1", Point: offset(hill, 20, 0)},
	})
	if !ix.Delete("streetlight", "L1") {
		t.Error("Delete(L1) = false")
	}
	if ix.Delete("streetlight", "L1") || ix.Delete("hydrant", "L1") || ix.Delete("pole", "x") {
		t.Error("Delete of an absent asset = true")
	}
	if a, _, _ := ix.Nearest(hill, 50); a.ID != "L2" || ix.Len() != 2 {
		t.Errorf("after delete: nearest %s, Len %d", a.ID, ix.Len())
	}
	if _, ok := ix.Get("streetlight", "L1"); ok {
		t.Error("Get finds a deleted asset")
	}
	ix.Delete("hydrant", "H1")
	if !slices.Equal(ix.Layers(), []string{"streetlight"}) {
		t.Errorf("Layers after emptying hydrant = %v", ix.Layers())
	}
	if a, _, ok := ix.Nearest(hill, 50, "hydrant"); ok {
		t.Errorf("Nearest in an emptied layer = %+v", a)
	}
	// A retired ID can come back, at any version.
	if err := ix.Upsert([]assets.Asset{{Layer: "hydrant", ID: "H1", Point: hill}}); err != nil || ix.Len() != 2 {
		t.Errorf("re-adding H1: %v, Len %d", err, ix.Len())
	}
}

func TestSnapshotIsolation(t *testing.T) {
	ix := mustIndex(t, []assets.Asset{
		{Layer: "streetlight", ID: "L1", Point: offset(hill, 10, 0), Version: 1},
		{Layer: "hydrant", ID: "H1", Point: offset(hill, 20, 0), Version: 1},
	})
	old := ix.Snapshot()
	if err := ix.Upsert([]assets.Asset{
		{Layer: "streetlight", ID: "L1", Point: offset(hill, 500, 0), Version: 2},
		{Layer: "streetlight", ID: "L9", Point: offset(hill, 3, 0), Version: 1},
		{Layer: "bench", ID: "B1", Point: hill, Version: 1},
	}); err != nil {
		t.Fatal(err)
	}
	ix.Delete("hydrant", "H1")

	if a, d, _ := old.Nearest(hill, 50); a.ID != "L1" || math.Abs(d-10) > 1e-6 {
		t.Errorf("old snapshot: nearest %s at %v m, want L1 at 10 m", a.ID, d)
	}
	if a, _ := old.Get("streetlight", "L1"); a.Version != 1 {
		t.Errorf("old snapshot: L1 version %d, want 1", a.Version)
	}
	if _, ok := old.Get("hydrant", "H1"); !ok {
		t.Error("old snapshot lost H1")
	}
	if old.Len() != 2 || !slices.Equal(old.Layers(), []string{"hydrant", "streetlight"}) {
		t.Errorf("old snapshot: Len %d Layers %v", old.Len(), old.Layers())
	}
	if got := scanIDs(old); !slices.Equal(got, []string{"hydrant/H1@1", "streetlight/L1@1"}) {
		t.Errorf("old snapshot scans %v", got)
	}

	if a, _, _ := ix.Nearest(hill, 50); a.ID != "B1" {
		t.Errorf("new: nearest %s, want B1", a.ID)
	}
	if got := scanIDs(ix.Snapshot()); !slices.Equal(got, []string{"bench/B1@1", "streetlight/L1@2", "streetlight/L9@1"}) {
		t.Errorf("new snapshot scans %v", got)
	}
}

func scanIDs(s *assets.Snapshot) []string {
	var out []string
	s.Scan(func(a assets.Asset) bool {
		out = append(out, fmt.Sprintf("%s/%s@%d", a.Layer, a.ID, a.Version))
		return true
	})
	slices.Sort(out)
	return out
}

// TestConcurrentReaders runs lookups while a writer moves assets (run it
// with -race). Every asset's place is a function of its ID and version, so a
// reader can tell a torn or mixed-up answer; and a snapshot must stay
// internally consistent while the index moves on.
func TestConcurrentReaders(t *testing.T) {
	const n = 2000
	place := func(id int, version int64) orb.Point {
		return offset(hill, float64(id%50)*30+float64(version%7), float64(id/50)*30+float64(version%5))
	}
	as := make([]assets.Asset, n)
	for i := range as {
		as[i] = assets.Asset{Layer: []string{"a", "b"}[i%2], ID: fmt.Sprint(i), Point: place(i, 0)}
	}
	ix := mustIndex(t, as)

	var stop atomic.Bool
	var wg sync.WaitGroup
	var lookups atomic.Int64
	for r := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 9))
			for !stop.Load() {
				s := ix.Snapshot()
				p := offset(hill, rng.Float64()*1500, rng.Float64()*1200)
				a, d, ok := s.Nearest(p, 40)
				if ok {
					var id int
					fmt.Sscan(a.ID, &id)
					if a.Point != place(id, a.Version) {
						t.Errorf("torn asset %+v", a)
						return
					}
					if g, _ := s.Get(a.Layer, a.ID); g.Version != a.Version {
						t.Errorf("snapshot Get gives version %d, Nearest gave %d", g.Version, a.Version)
						return
					}
					if geo.NewRuler(p[1]).Distance(p, a.Point) != d {
						t.Errorf("distance %v does not match the asset", d)
						return
					}
				}
				// Between a delete and its re-add one asset is missing.
				if l := s.Len(); (l != n && l != n-1) || l != s.LayerLen("a")+s.LayerLen("b") {
					t.Errorf("snapshot Len %d (layers %d + %d), want %d or %d", l, s.LayerLen("a"), s.LayerLen("b"), n-1, n)
					return
				}
				if lookups.Add(1)%5000 == 0 {
					scanned := 0
					s.Scan(func(assets.Asset) bool { scanned++; return true })
					if scanned != s.Len() {
						t.Errorf("snapshot scans %d assets, Len %d", scanned, s.Len())
						return
					}
				}
			}
		})
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for v := int64(1); v <= 200; v++ {
		batch := make([]assets.Asset, 50)
		for i := range batch {
			id := rng.IntN(n)
			batch[i] = assets.Asset{Layer: []string{"a", "b"}[id%2], ID: fmt.Sprint(id), Point: place(id, v), Version: v}
		}
		if err := ix.Upsert(batch); err != nil {
			t.Fatal(err)
		}
		if v%20 == 0 {
			ix.Delete("a", "0")
			if err := ix.Upsert([]assets.Asset{{Layer: "a", ID: "0", Point: place(0, v), Version: v}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d lookups during 200 batches", lookups.Load())
}

func TestScanStops(t *testing.T) {
	ix := mustIndex(t, []assets.Asset{
		{Layer: "a", ID: "1", Point: hill}, {Layer: "a", ID: "2", Point: hill}, {Layer: "b", ID: "1", Point: hill},
	})
	n := 0
	ix.Scan(func(assets.Asset) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("Scan went on after false: %d calls", n)
	}
	var all []assets.Asset
	ix.Scan(func(a assets.Asset) bool { all = append(all, a); return true })
	if len(all) != 3 || all[2].Layer != "b" {
		t.Errorf("Scan = %+v; want 3 assets, layers in order", all)
	}
	if !reflect.DeepEqual(ix.Snapshot().Layers(), []string{"a", "b"}) {
		t.Error("Layers")
	}
}
