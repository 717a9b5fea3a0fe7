package tiles

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/text"
)

// The layer names, as they appear in URLs and as the MVT layer name.
const (
	LayerWards    = "wards"
	LayerAssets   = "assets"
	LayerRequests = "requests"
	LayerClusters = "clusters"
)

// Layers lists the layers in the order a map draws them.
func Layers() []string { return []string{LayerWards, LayerAssets, LayerClusters, LayerRequests} }

// DefaultCacheTiles is the tile cache size when Options.CacheTiles is zero:
// a few thousand tiles of some KB each.
const DefaultCacheTiles = 4096

// Options configure a Tiler.
type Options struct {
	// CacheTiles bounds the tile cache (DefaultCacheTiles when zero; a
	// negative value turns the cache off).
	CacheTiles int
}

// Tiler renders and caches the tiles of one municipality. Its methods are
// safe for concurrent use. The zero value is not usable; call New.
type Tiler struct {
	mu       sync.RWMutex // guards the data below; renders hold it for reading
	reqs     *requestIndex
	wards    *wardSet
	assets   *assetSet
	reqBound orb.Bound
	hasReqs  bool
	// versions of each layer's data, bumped under mu by every change.
	versions map[string]uint64

	cache   *cache
	writers sync.Pool // of *pointWriter
}

// New returns an empty Tiler.
func New(opts Options) *Tiler {
	n := opts.CacheTiles
	if n == 0 {
		n = DefaultCacheTiles
	}
	return &Tiler{
		reqs:     newRequestIndex(),
		versions: map[string]uint64{LayerWards: 1, LayerAssets: 1, LayerRequests: 1, LayerClusters: 1},
		cache:    newCache(n),
	}
}

func (t *Tiler) bump(layers ...string) {
	for _, l := range layers {
		t.versions[l]++
	}
}

// SetWards replaces the ward boundaries.
func (t *Tiler) SetWards(ws []Ward) error {
	s, err := newWardSet(ws)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.wards = s
	t.bump(LayerWards)
	return nil
}

// SetAssets replaces the assets.
func (t *Tiler) SetAssets(as []Asset) {
	s := newAssetSet(as)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.assets = s
	t.bump(LayerAssets)
}

// UpdateAssets adds or moves the assets of put and takes away those of
// remove (by Layer and ID; their Point is ignored), as one change: the
// next assets tile fetched shows all of it. It costs what it changes, not
// the size of the layer.
func (t *Tiler) UpdateAssets(put, remove []Asset) {
	if len(put) == 0 && len(remove) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.assets == nil {
		t.assets = newAssetSet(nil)
	}
	for _, a := range remove {
		t.assets.remove(assetKey{a.Layer, a.ID})
	}
	for _, a := range put {
		t.assets.put(a)
	}
	t.bump(LayerAssets)
}

// AssetCount returns the number of assets the tiles show.
func (t *Tiler) AssetCount() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.assets == nil {
		return 0
	}
	return len(t.assets.at)
}

// SetRequests replaces every request (at start, from the store).
func (t *Tiler) SetRequests(rs []Request) {
	ix := newRequestIndex()
	ix.load(rs)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reqs = ix
	t.hasReqs = false
	for _, r := range rs {
		t.growBound(r.Point)
	}
	t.bump(LayerRequests, LayerClusters)
}

func (t *Tiler) growBound(p orb.Point) {
	if !t.hasReqs {
		t.reqBound, t.hasReqs = p.Bound(), true
		return
	}
	t.reqBound = t.reqBound.Extend(p)
}

// PutRequest adds a request or replaces the one with its ID (after a
// status change, a merge...). The next tile fetched shows it.
func (t *Tiler) PutRequest(r Request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reqs.put(r)
	t.growBound(r.Point)
	t.bump(LayerRequests, LayerClusters)
}

// RemoveRequest takes a request off the map (closed requests leave it);
// it reports whether there was one.
func (t *Tiler) RemoveRequest(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	ok := t.reqs.remove(id)
	if ok {
		t.bump(LayerRequests, LayerClusters)
	}
	return ok
}

// RequestCount returns the number of requests the tiles show.
func (t *Tiler) RequestCount() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.reqs.byID)
}

func known(layer string) bool {
	switch layer {
	case LayerWards, LayerAssets, LayerRequests, LayerClusters:
		return true
	}
	return false
}

// Render encodes one tile without the cache: the MVT bytes (empty for a
// tile with no features). It checks the layer and the tile.
func (t *Tiler) Render(layer string, tile maptile.Tile) ([]byte, error) {
	if err := check(layer, tile); err != nil {
		return nil, err
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.render(layer, tile)
}

// render encodes a tile; the caller holds mu for reading.
func (t *Tiler) render(layer string, tile maptile.Tile) ([]byte, error) {
	var fs []*geojson.Feature
	switch layer {
	case LayerWards:
		fs = t.wards.features(tile)
	case LayerAssets:
		fs = t.assets.features(tile)
	case LayerRequests, LayerClusters:
		w, _ := t.writers.Get().(*pointWriter)
		if w == nil {
			w = newPointWriter()
		}
		defer func() { w.reset(); t.writers.Put(w) }()
		clusters := layer == LayerClusters
		switch agg := t.reqs.aggregated(tile, clusters); {
		case !agg && clusters:
			return t.reqs.detailClusters(w, tile), nil
		case !agg:
			return t.reqs.detailRequests(w, tile), nil
		case clusters:
			return t.reqs.cells(w, t.reqs.clPyr, tile, layer), nil
		}
		return t.reqs.cells(w, t.reqs.reqPyr, tile, layer), nil
	}
	if len(fs) == 0 {
		return []byte{}, nil
	}
	b, err := mvt.Marshal(mvt.Layers{{Name: layer, Version: 2, Extent: Extent, Features: fs}})
	if err != nil {
		return nil, fmt.Errorf("tiles: encoding %s %d/%d/%d: %w", layer, tile.Z, tile.X, tile.Y, err)
	}
	return b, nil
}

// Aggregated reports whether a requests or clusters tile is made of
// grid cells (see the package doc) rather than one feature per request or
// cluster; false for the other layers.
func (t *Tiler) Aggregated(layer string, tile maptile.Tile) bool {
	if check(layer, tile) != nil || layer != LayerRequests && layer != LayerClusters {
		return false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.reqs.aggregated(tile, layer == LayerClusters)
}

// Rendered is a tile from the cache. Its fields must not be modified.
type Rendered struct {
	Data []byte // MVT; empty for an empty tile
	ETag string // strong, quoted: a hash of Data

	gzOnce sync.Once
	gz     []byte
}

// Gzip returns Data gzipped, compressed once per cached tile.
func (r *Rendered) Gzip() []byte {
	r.gzOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // the level is valid
		zw.Write(r.Data)
		zw.Close()
		r.gz = buf.Bytes()
	})
	return r.gz
}

func newRendered(b []byte) *Rendered {
	h := fnv.New64a()
	h.Write(b)
	return &Rendered{Data: b, ETag: `"` + strconv.FormatUint(h.Sum64(), 36) + `"`}
}

// Tile returns a tile from the cache, rendering it when the cache has no
// copy of the layer's current version.
func (t *Tiler) Tile(layer string, tile maptile.Tile) (*Rendered, error) {
	if err := check(layer, tile); err != nil {
		return nil, err
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	v := t.versions[layer]
	k := cacheKey{layer: layer, tile: tile}
	if r := t.cache.get(k, v); r != nil {
		return r, nil
	}
	b, err := t.render(layer, tile)
	if err != nil {
		return nil, err
	}
	r := newRendered(b)
	t.cache.put(k, v, r)
	return r, nil
}

// CacheControl is the Cache-Control header for a layer's tiles: requests
// and clusters change with every report, so caches revalidate after a
// second (cheap with the ETag); wards and assets change rarely.
func CacheControl(layer string) string {
	switch layer {
	case LayerRequests, LayerClusters:
		return "public, max-age=1"
	}
	return "public, max-age=300"
}

// ParseTile checks a tile address from a URL (layer, z, x, y and the file
// extension after the dot) and returns the tile. Errors are *i18n.Error:
// NotFound for an unknown layer, Invalid for anything else.
func ParseTile(layer, z, x, y, ext string) (maptile.Tile, error) {
	if !known(layer) {
		return maptile.Tile{}, errLayer(layer)
	}
	if ext != "mvt" {
		return maptile.Tile{}, i18n.Errorf(i18n.Invalid, "format", i18n.T(
			"%q is not a tile format pinward serves; ask for .mvt", "%q n'est pas un format de tuile servi par pinward; demandez .mvt"), text.Clip(ext, text.Short))
	}
	zz, err := strconv.ParseUint(z, 10, 8)
	if err != nil || zz > MaxZoom {
		return maptile.Tile{}, i18n.Errorf(i18n.Invalid, "z", i18n.T(
			"the zoom must be a whole number from 0 to %d, not %q", "le zoom doit être un entier de 0 à %d, pas %q"), MaxZoom, text.Clip(z, text.Short))
	}
	n := uint64(1) << zz
	parse := func(field, s string) (uint32, error) {
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil || v >= n {
			return 0, i18n.Errorf(i18n.Invalid, field, i18n.T(
				"at zoom %d, %s must be a whole number from 0 to %d, not %q",
				"au zoom %d, %s doit être un entier de 0 à %d, pas %q"), zz, field, n-1, text.Clip(s, text.Short))
		}
		return uint32(v), nil
	}
	xx, err := parse("x", x)
	if err != nil {
		return maptile.Tile{}, err
	}
	yy, err := parse("y", y)
	if err != nil {
		return maptile.Tile{}, err
	}
	return maptile.New(xx, yy, maptile.Zoom(zz)), nil
}

func check(layer string, t maptile.Tile) error {
	if !known(layer) {
		return errLayer(layer)
	}
	if t.Z > MaxZoom || !t.Valid() {
		return i18n.Errorf(i18n.Invalid, "z", i18n.T("there is no tile %d/%d/%d", "il n'y a pas de tuile %d/%d/%d"), t.Z, t.X, t.Y)
	}
	return nil
}

func errLayer(layer string) error {
	return i18n.Errorf(i18n.NotFound, "layer", i18n.T(
		"there is no tile layer %q; the layers are wards, assets, requests and clusters",
		"il n'y a pas de couche de tuiles %q; les couches sont wards, assets, requests et clusters"), text.Clip(layer, text.Short))
}

// TileJSON is a TileJSON 3.0.0 document for one layer.
type TileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center"`
	VectorLayers []VectorLayer `json:"vector_layers"`
}

// VectorLayer describes the one MVT layer of a tile set.
type VectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

// TileJSON describes a layer; tilesURL is the tile URL template
// (…/tiles/{layer}/{z}/{x}/{y}.mvt with the literal {z}, {x}, {y}).
// bounds cover the wards, else the requests, else the world. A cell's
// per-category and per-status counts are listed by their real field
// names (service_pothole, status_in_progress), one per serviceCodes and
// statuses, so a client can match them.
func (t *Tiler) TileJSON(layer, tilesURL string, serviceCodes, statuses []string) (TileJSON, error) {
	if !known(layer) {
		return TileJSON{}, errLayer(layer)
	}
	t.mu.RLock()
	b, ok := orb.Bound{}, false
	switch {
	case t.wards != nil && len(t.wards.wards) > 0:
		b, ok = t.wards.bound, true
	case t.hasReqs:
		b, ok = t.reqBound, true
	}
	t.mu.RUnlock()
	if !ok {
		b = orb.Bound{Min: orb.Point{-180, -maxLat}, Max: orb.Point{180, maxLat}}
	}
	minZoom := 0
	if layer == LayerAssets {
		minZoom = AssetsMinZoom
	}
	c := b.Center()
	centerZoom := 12.0
	if !ok {
		centerZoom = 1
	}
	tj := TileJSON{
		TileJSON: "3.0.0",
		Name:     "pinward " + layer,
		Scheme:   "xyz",
		Tiles:    []string{tilesURL},
		MinZoom:  minZoom,
		MaxZoom:  MaxZoom,
		Bounds:   [4]float64{round6(b.Min[0]), round6(b.Min[1]), round6(b.Max[0]), round6(b.Max[1])},
		Center:   [3]float64{round6(c[0]), round6(c[1]), math.Max(float64(minZoom), centerZoom)},
	}
	desc, fields := layerInfo(layer, serviceCodes, statuses)
	tj.VectorLayers = []VectorLayer{{ID: layer, Description: desc, MinZoom: minZoom, MaxZoom: MaxZoom, Fields: fields}}
	return tj, nil
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

// layerInfo describes a layer's features for TileJSON's vector_layers.
func layerInfo(layer string, serviceCodes, statuses []string) (string, map[string]string) {
	point := map[string]string{
		"aggregate":        "Boolean: true on a grid cell (tiles below zoom 15, and dense tiles up to zoom 18)",
		"service_code":     "String: category (cell: the most common one)",
		"status":           "String: open, acknowledged, in_progress or closed (cell: the most common one)",
		"ward_id":          "String: ward (cell: the most common one)",
		"requested_at":     "Number: Unix seconds of the request (cluster: its earliest)",
		"cluster_id":       "String: the cluster (its first request's service_request_id)",
		"overdue":          "Boolean: past its SLA due time (cluster: any of its requests); individual features only",
		"escalation_level": "Number: escalation levels fired (cluster: the highest of its requests); individual features only",
	}
	for _, code := range serviceCodes {
		point["service_"+code] = "Number: cell only: count of category " + code + " (absent when zero)"
	}
	for _, st := range statuses {
		point["status_"+st] = "Number: cell only: count of status " + st + " (absent when zero)"
	}
	switch layer {
	case LayerWards:
		return "Ward boundaries, simplified and clipped per zoom.",
			map[string]string{"id": "String: ward id", "name_en": "String: English name", "name_fr": "String: French name"}
	case LayerAssets:
		return "Street assets, from zoom 15.", map[string]string{"layer": "String: asset type", "id": "String: external asset id"}
	case LayerRequests:
		point["id"] = "String: service_request_id"
		point["count"] = "Number: cell only: requests in the cell"
		return "Open 311 requests: one point each from zoom 15 (up to zoom 18 only in tiles of at most 1,000); otherwise 16x16 cells per tile with counts (aggregate=true).", point
	}
	point["count"] = "Number: requests in the cluster (cell: clusters in the cell)"
	point["requests"] = "Number: cell only: requests in the cell's clusters"
	return "Duplicate clusters: one point each from zoom 15 (up to zoom 18 only in tiles of at most 1,000); otherwise 16x16 cells per tile with counts (aggregate=true).", point
}
