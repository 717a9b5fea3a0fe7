package assets

import (
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
)

// Asset is one point asset of a layer.
//
// Assets handed to NewIndex or Upsert are kept as they are, Attrs map
// included, and the ones lookups return share that map: treat it as
// read-only once it is in an Index.
type Asset struct {
	Layer   string            // asset type / layer, e.g. "streetlight", "hydrant"
	ID      string            // external ID from the asset-management system, unique within its layer
	Point   orb.Point         // WGS84 lon/lat
	Attrs   map[string]string // other columns/properties
	Version int64             // for sync: a higher version replaces a lower one
}

// Index is the set of asset layers a server answers from. Lookups read an
// immutable Snapshot through an atomic pointer and never lock; Upsert and
// Delete are serialised among themselves and publish a new snapshot when
// they succeed. The zero value is an empty index ready to use.
type Index struct {
	snap atomic.Pointer[Snapshot]

	mu  sync.Mutex // serialises writers; readers never take it
	gen uint64     // last write generation handed out (see trie)
}

// Snapshot is a consistent, immutable view of an Index: a request that makes
// several lookups takes one so they all see the same assets. Its methods are
// safe for concurrent use.
type Snapshot struct {
	layers map[string]*layer
	names  []string // sorted
	n      int
	seed   maphash.Seed
	grid   *grid // every layer's assets by place, for Nearest; nil before the first
}

// layer is one asset type: a trie by ID. Its assets are found by place in
// the snapshot's grid, which holds every layer. The trie is shared with
// older and newer snapshots and never changed once published.
type layer struct {
	byID trie
	n    int
	ord  uint32 // tags the layer's entries in the grid; unique among live layers
}

// NewIndex returns an index of assets. It refuses invalid assets (no layer,
// no ID, coordinates that are not a place on Earth) and duplicate (layer, ID)
// pairs, naming them; it keeps the slice's Asset values, not the slice.
func NewIndex(assets []Asset) (*Index, error) {
	for i := range assets {
		if err := validate(&assets[i], i); err != nil {
			return nil, fmt.Errorf("assets: new index: %w", err)
		}
	}
	ix := &Index{}
	w := ix.begin()
	var dups []string
	ndup := 0
	// One copy the index owns, in one allocation rather than a million.
	owned := slices.Clone(assets)
	for i := range owned {
		a := &owned[i]
		if old := w.put(a); old != nil {
			ndup++
			if len(dups) < 10 {
				dups = append(dups, fmt.Sprintf("%s/%s", a.Layer, a.ID))
			}
		}
	}
	if ndup > 0 {
		more := ""
		if ndup > len(dups) {
			more = fmt.Sprintf(" and %d more", ndup-len(dups))
		}
		return nil, fmt.Errorf("assets: new index: %w", i18n.Errorf(i18n.Invalid, "id",
			i18n.T("%d duplicate asset (layer/ID): %s%s",
				"%d actif(s) en double (couche/ID) : %s%s"),
			ndup, strings.Join(dups, ", "), more))
	}
	ix.snap.Store(w.publish())
	return ix, nil
}

// validate checks what an Index needs of an asset; i is its position in the
// caller's slice, for messages about assets with no ID.
func validate(a *Asset, i int) error {
	switch {
	case a.Layer == "":
		return i18n.Errorf(i18n.Invalid, "layer",
			i18n.T("asset %d (ID %q) has no layer", "l'actif %d (ID %q) n'a pas de couche"), i, a.ID)
	case a.ID == "":
		return i18n.Errorf(i18n.Invalid, "id",
			i18n.T("asset %d of layer %q has no ID", "l'actif %d de la couche %q n'a pas d'ID"), i, a.Layer)
	}
	if err := geo.ValidatePoint(a.Point); err != nil {
		e := i18n.Errorf(i18n.Invalid, "point",
			i18n.T("asset %s/%s: the location is not a valid longitude/latitude",
				"actif %s/%s : l'emplacement n'est pas une longitude/latitude valide"), a.Layer, a.ID)
		e.Err = geo.Named(err, "asset "+a.Layer+"/"+a.ID)
		return e
	}
	return nil
}

func (ix *Index) load() *Snapshot {
	if s := ix.snap.Load(); s != nil {
		return s
	}
	return &Snapshot{}
}

// Snapshot returns the current view. Later changes to the index do not
// affect it.
func (ix *Index) Snapshot() *Snapshot { return ix.load() }

// Nearest returns the nearest asset of any of layers (of every layer when
// none are given) within radius metres of p, and its distance in metres.
// Equal distances go to the smaller (layer, ID). An invalid p or a negative
// radius finds nothing.
func (ix *Index) Nearest(p orb.Point, radius float64, layers ...string) (Asset, float64, bool) {
	return ix.load().Nearest(p, radius, layers...)
}

// Get returns the asset with this layer and ID.
func (ix *Index) Get(layer, id string) (Asset, bool) { return ix.load().Get(layer, id) }

// Len returns the number of assets.
func (ix *Index) Len() int { return ix.load().Len() }

// Layers returns the names of the layers that hold assets, sorted.
func (ix *Index) Layers() []string { return ix.load().Layers() }

// Scan calls fn for every asset until fn returns false: layers in sorted
// order, assets within a layer in no particular order.
func (ix *Index) Scan(fn func(Asset) bool) { ix.load().Scan(fn) }

// Upsert adds or replaces assets, all or nothing. Every asset is validated
// first. An asset whose Version is lower than the stored one is refused with
// an *i18n.Error of kind Conflict; an equal Version is a no-op, so replaying
// a sync batch is harmless; a higher one replaces the stored asset (its place
// and attributes). Assets are applied in order, so a batch may carry several
// versions of one asset in increasing order. Nothing is published unless the
// whole batch applies; then the new snapshot is published atomically.
//
// The cost is proportional to the batch (times log n), not to the index: the
// layers it touches are copied on write.
func (ix *Index) Upsert(batch []Asset) error {
	for i := range batch {
		if err := validate(&batch[i], i); err != nil {
			return err
		}
	}
	if len(batch) == 0 {
		return nil
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	w := ix.begin()
	owned := slices.Clone(batch)
	changed := false
	for i := range owned {
		a := &owned[i]
		old := w.get(a.Layer, a.ID)
		if old != nil {
			if a.Version < old.Version {
				return i18n.Errorf(i18n.Conflict, "version",
					i18n.T("asset %s/%s: version %d is older than the stored version %d",
						"actif %s/%s : la version %d est antérieure à la version enregistrée %d"),
					a.Layer, a.ID, a.Version, old.Version)
			}
			if a.Version == old.Version {
				continue // a replay
			}
		}
		w.put(a)
		changed = true
	}
	if changed { // a batch of replays leaves the snapshot as it is
		ix.snap.Store(w.publish())
	}
	return nil
}

// Delete retires the asset with this layer and ID and reports whether it
// was there.
func (ix *Index) Delete(layer, id string) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.load().getPtr(layer, id) == nil {
		return false
	}
	w := ix.begin()
	w.remove(layer, id)
	ix.snap.Store(w.publish())
	return true
}

// writer builds the next snapshot from the current one. Layers it touches
// are copied on first touch; everything else is shared.
type writer struct {
	gen     uint64
	base    *Snapshot
	layers  map[string]*layer
	touched map[string]bool
	n       int
	grid    gridEdit
}

// begin starts a write; callers other than NewIndex hold ix.mu.
func (ix *Index) begin() *writer {
	ix.gen++
	base := ix.load()
	if base.layers == nil { // nothing published yet: every later snapshot shares this seed
		base = &Snapshot{layers: map[string]*layer{}, seed: maphash.MakeSeed()}
	}
	return &writer{
		gen:     ix.gen,
		base:    base,
		layers:  maps.Clone(base.layers),
		touched: map[string]bool{},
		n:       base.n,
		grid:    gridEdit{base: base.grid},
	}
}

func (w *writer) get(layerName, id string) *Asset {
	if l := w.layers[layerName]; l != nil {
		return l.byID.get(id)
	}
	return nil
}

// layer returns a layer this write may change, creating or copying it.
func (w *writer) layer(name string) *layer {
	l := w.layers[name]
	if w.touched[name] {
		return l
	}
	w.touched[name] = true
	if l == nil {
		l = &layer{byID: trie{seed: w.base.seed}, ord: w.freeOrd()}
	} else {
		l = &layer{byID: l.byID, n: l.n, ord: l.ord}
	}
	w.layers[name] = l
	return l
}

// put stores a, replacing and returning any asset with its layer and ID.
func (w *writer) put(a *Asset) *Asset {
	l := w.layer(a.Layer)
	old := l.byID.set(w.gen, a)
	if old != nil {
		w.grid.remove(old, l.ord)
	} else {
		l.n++
		w.n++
	}
	w.grid.add(a, l.ord)
	return old
}

// freeOrd returns the smallest ordinal no live layer has.
func (w *writer) freeOrd() uint32 {
	used := make(map[uint32]bool, len(w.layers))
	for _, l := range w.layers {
		used[l.ord] = true
	}
	ord := uint32(0)
	for used[ord] {
		ord++
	}
	return ord
}

func (w *writer) remove(layerName, id string) {
	l := w.layer(layerName)
	if old := l.byID.del(w.gen, id); old != nil {
		w.grid.remove(old, l.ord)
		l.n--
		w.n--
	}
	if l.n == 0 {
		delete(w.layers, layerName)
		delete(w.touched, layerName)
	}
}

func (w *writer) publish() *Snapshot {
	names := w.base.names
	if len(names) != len(w.layers) || !sameKeys(names, w.layers) {
		names = slices.Sorted(maps.Keys(w.layers))
	}
	return &Snapshot{layers: w.layers, names: names, n: w.n, seed: w.base.seed, grid: w.grid.apply()}
}

func sameKeys(names []string, m map[string]*layer) bool {
	for _, n := range names {
		if m[n] == nil {
			return false
		}
	}
	return true
}

// Nearest is Index.Nearest on this snapshot.
func (s *Snapshot) Nearest(p orb.Point, radius float64, layers ...string) (Asset, float64, bool) {
	if !(radius >= 0) || geo.ValidatePoint(p) != nil || s.grid == nil {
		return Asset{}, 0, false
	}
	var want *layerSet
	var names []string // nil for every layer
	if len(layers) > 0 {
		want, names = new(layerSet), layers
		for _, name := range layers {
			if l := s.layers[name]; l != nil {
				want.add(l.ord)
			}
		}
	}
	a, d := s.grid.nearest(p, radius, want, names)
	if a == nil {
		return Asset{}, 0, false
	}
	return *a, d, true
}

// NearestAll answers Nearest(pts[i], radius, layers...) for every point:
// found[i] is the asset (nil for none; it must not be modified) and
// dist[i] its distance. It is the loop a bulk geocode (an import) runs: the
// points are visited grouped by the grid's tile they fall in, so the cells
// one point reads are still in cache for the next. found and dist must be
// at least as long as pts.
func (s *Snapshot) NearestAll(pts []orb.Point, radius float64, found []*Asset, dist []float64, layers ...string) {
	found, dist = found[:len(pts)], dist[:len(pts)]
	clear(found)
	clear(dist)
	if !(radius >= 0) || s.grid == nil || len(pts) == 0 {
		return
	}
	var want *layerSet
	var names []string // nil for every layer
	if len(layers) > 0 {
		want, names = new(layerSet), layers
		for _, name := range layers {
			if l := s.layers[name]; l != nil {
				want.add(l.ord)
			}
		}
	}
	// Gather the points in tile order, answer them in a tight loop, then
	// scatter the answers: the gather and scatter loops' loads and stores
	// are independent, so the memory overlaps them, which the search loop,
	// waiting on each point, could not.
	sc := batchScratchPool.Get().(*batchScratch)
	defer batchScratchPool.Put(sc)
	order := s.grid.tileOrder(pts, sc)
	sorted := grown(&sc.pts, len(order))
	for j, i := range order {
		sorted[j] = pts[i]
	}
	bestA, bestD := grown(&sc.found, len(sorted)), grown(&sc.dist, len(sorted))
	for j, p := range sorted {
		if geo.ValidatePoint(p) != nil {
			bestA[j], bestD[j] = nil, 0
			continue
		}
		a, d := s.grid.nearest(p, radius, want, names)
		if a == nil {
			d = 0 // none found: the distance is 0, as for an invalid point
		}
		bestA[j], bestD[j] = a, d
	}
	for j, i := range order {
		found[i], dist[i] = bestA[j], bestD[j]
	}
	// The pool must not keep the snapshot's assets alive.
	clear(bestA)
}

// Get is Index.Get on this snapshot.
func (s *Snapshot) Get(layer, id string) (Asset, bool) {
	if a := s.getPtr(layer, id); a != nil {
		return *a, true
	}
	return Asset{}, false
}

func (s *Snapshot) getPtr(layerName, id string) *Asset {
	if l := s.layers[layerName]; l != nil {
		return l.byID.get(id)
	}
	return nil
}

// Len is Index.Len on this snapshot.
func (s *Snapshot) Len() int { return s.n }

// Layers is Index.Layers on this snapshot.
func (s *Snapshot) Layers() []string { return slices.Clone(s.names) }

// LayerLen returns the number of assets in one layer.
func (s *Snapshot) LayerLen(layer string) int {
	if l := s.layers[layer]; l != nil {
		return l.n
	}
	return 0
}

// Scan is Index.Scan on this snapshot.
func (s *Snapshot) Scan(fn func(Asset) bool) {
	for _, name := range s.names {
		if !s.layers[name].byID.each(func(a *Asset) bool { return fn(*a) }) {
			return
		}
	}
}
