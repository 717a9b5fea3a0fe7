package assets

import (
	"math"
	"slices"
	"sync"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
	"github.com/tidwall/rtree"
)

// grid is a snapshot's one index by place, for Nearest: every asset, of
// every layer, in a bucket of about gridCellM × gridCellM metres, so a
// search within the usual radii reads the few buckets around the point.
//
// Cells lie on a fixed lattice of longitude and latitude (sized at the
// latitude of the first assets), so a cell never moves. Cells are grouped in
// tiles of tileSide × tileSide behind a directory covering the assets'
// extent; a tile stores its cells' entries back to back, cell after cell
// (compressed rows), each entry the asset's place and its pointer side by
// side, so the cells of one row of a search window are one run of memory.
// Tiles are immutable: a write collects its changes per tile and builds each
// tile it touched once, when it publishes, sharing every other tile with
// older snapshots.
//
// The directory grows with the assets but not past maxTiles: an asset
// outside it goes to over, a small R-tree, and the directory stops growing
// for good (so that asset stays outside). over also holds the assets of
// layers past maxLayerOrd. Every asset is in exactly one of the tiles and
// over, and a search reads both wherever its window reaches, which is what
// makes the answer exact.
type grid struct {
	invW, invH   float64 // cells per degree of longitude and latitude
	cellW, cellH float64 // degrees per cell: 1/invW, 1/invH
	tx0, ty0     int     // directory origin, in tiles
	tw, th       int     // directory size, in tiles
	tiles        []*tile // row-major; nil is an empty tile
	frozen       bool    // the directory refused an asset and may not grow
	// over holds the assets the tiles do not (rare); nil when none ever
	// did. Shared between snapshots and copied (lazily, by the R-tree) on
	// write.
	over *rtree.RTreeG[*Asset]
}

// tile holds its cells' entries in cell order: cell s (row-major within the
// tile) is [off[s], off[s+1]) of ents and ords.
type tile struct {
	off  [tileCells + 1]uint32
	ents []gridEntry
	ords []uint8 // the asset's layer ordinal (see layer.ord), read only when a search filters layers
}

// gridEntry is one asset in a tile: its place beside its pointer, so a
// search reads one run of memory and dereferences only the winner.
type gridEntry struct {
	p orb.Point
	a *Asset
}

const (
	// gridCellM is the cell's side in metres: about the search radius
	// intake uses, so a search reads 2 or 3 runs of 2 or 3 cells.
	gridCellM = 75.0
	tileBits  = 4
	tileSide  = 1 << tileBits
	tileCells = tileSide * tileSide
	// maxTiles bounds the directory (512 KiB of pointers): about 300 km ×
	// 300 km, more than any municipality.
	maxTiles = 1 << 16
	// maxSearchCells is the widest window searched cell by cell, nearest
	// cells pruned; wider ones walk the directory's tiles.
	maxSearchCells = 64
	// maxLayerOrd is the number of layer ordinals the tiles hold.
	maxLayerOrd = 256
)

func newGrid(lat float64) *grid {
	kx, ky := geo.NewRuler(lat).MetresPerDegree()
	g := &grid{invW: kx / gridCellM, invH: ky / gridCellM}
	g.cellW, g.cellH = 1/g.invW, 1/g.invH
	return g
}

func (g *grid) cellOf(x, y float64) (cx, cy int) {
	return int(math.Floor(x * g.invW)), int(math.Floor(y * g.invH))
}

// tileIndex returns the directory slot of the tile holding cell (cx, cy),
// or false when the cell is outside the directory.
func (g *grid) tileIndex(cx, cy int) (int, bool) {
	tx, ty := cx>>tileBits-g.tx0, cy>>tileBits-g.ty0
	if tx < 0 || ty < 0 || tx >= g.tw || ty >= g.th {
		return 0, false
	}
	return ty*g.tw + tx, true
}

func cellSlot(cx, cy int) int { return (cy&(tileSide-1))<<tileBits | cx&(tileSide-1) }

// inTiles reports whether an asset of layer ordinal ord at p is (or would
// be, before any growth) held by the tiles rather than over.
func (g *grid) inTiles(p orb.Point, ord uint32) bool {
	if ord >= maxLayerOrd {
		return false
	}
	if !g.frozen {
		return true
	}
	_, in := g.tileIndex(g.cellOf(p[0], p[1]))
	return in
}

// gridEdit collects one write's changes to the grid, per tile.
type gridEdit struct {
	base    *grid // nil before the first asset
	adds    []gridAdd
	removed map[*Asset]uint32 // the retired asset and its layer's ordinal
}

type gridAdd struct {
	a   *Asset
	ord uint32
}

func (e *gridEdit) add(a *Asset, ord uint32) { e.adds = append(e.adds, gridAdd{a, ord}) }

func (e *gridEdit) remove(a *Asset, ord uint32) {
	if e.removed == nil {
		e.removed = map[*Asset]uint32{}
	}
	e.removed[a] = ord
}

// apply returns the grid with the edit's changes: base itself when there
// are none, else a new grid sharing the tiles no change touched.
func (e *gridEdit) apply() *grid {
	if len(e.adds) == 0 && (len(e.removed) == 0 || e.base == nil) {
		return e.base
	}
	var g grid
	if e.base != nil {
		g = *e.base
		g.tiles = slices.Clone(g.tiles)
	} else { // cells sized at the first assets' mean latitude
		lat := 0.0
		for _, ad := range e.adds {
			lat += ad.a.Point[1]
		}
		g = *newGrid(lat / float64(len(e.adds)))
	}
	overCopied := false
	over := func() *rtree.RTreeG[*Asset] {
		if !overCopied {
			if g.over == nil {
				g.over = &rtree.RTreeG[*Asset]{}
			} else {
				g.over = g.over.Copy()
			}
			overCopied = true
		}
		return g.over
	}
	// Retirements from over, judged on the directory before this write
	// grows it: where the asset went when it was added.
	touched := map[int][]gridAdd{}
	for a, ord := range e.removed {
		if !g.inTiles(a.Point, ord) {
			over().Delete(a.Point, a.Point, a)
			continue
		}
		if k, in := g.tileIndex(g.cellOf(a.Point[0], a.Point[1])); in && g.tiles[k] != nil {
			touched[k] = nil
		}
	}
	// Grow the directory for the new assets first, so tile slots are final.
	adds := e.adds[:0:0]
	for _, ad := range e.adds {
		if _, gone := e.removed[ad.a]; gone { // replaced later in the same write
			continue
		}
		if ad.ord >= maxLayerOrd {
			over().Insert(ad.a.Point, ad.a.Point, ad.a)
			continue
		}
		cx, cy := g.cellOf(ad.a.Point[0], ad.a.Point[1])
		if _, in := g.tileIndex(cx, cy); !in && !g.grow(cx>>tileBits, cy>>tileBits) {
			g.frozen = true
			over().Insert(ad.a.Point, ad.a.Point, ad.a)
			continue
		}
		adds = append(adds, ad)
	}
	for _, ad := range adds {
		k, _ := g.tileIndex(g.cellOf(ad.a.Point[0], ad.a.Point[1]))
		touched[k] = append(touched[k], ad)
	}
	for k, tileAdds := range touched {
		g.tiles[k] = rebuildTile(g.tiles[k], tileAdds, e.removed, &g)
	}
	return &g
}

// rebuildTile returns a new tile holding old's entries but removed, and
// adds; nil when it would be empty.
func rebuildTile(old *tile, adds []gridAdd, removed map[*Asset]uint32, g *grid) *tile {
	n := len(adds)
	if old != nil {
		n += len(old.ents)
	}
	slot := make([]uint8, 0, n)
	kept := make([]gridAdd, 0, n)
	if old != nil {
		for s := range tileCells {
			for i := old.off[s]; i < old.off[s+1]; i++ {
				if _, gone := removed[old.ents[i].a]; !gone {
					kept = append(kept, gridAdd{old.ents[i].a, uint32(old.ords[i])})
					slot = append(slot, uint8(s))
				}
			}
		}
	}
	for _, ad := range adds {
		kept = append(kept, ad)
		slot = append(slot, uint8(cellSlot(g.cellOf(ad.a.Point[0], ad.a.Point[1]))))
	}
	if len(kept) == 0 {
		return nil
	}
	t := &tile{ents: make([]gridEntry, len(kept)), ords: make([]uint8, len(kept))}
	for _, s := range slot { // counting sort by cell
		t.off[int(s)+1]++
	}
	for s := 1; s <= tileCells; s++ {
		t.off[s] += t.off[s-1]
	}
	next := t.off
	for i, ad := range kept {
		j := next[slot[i]]
		next[slot[i]]++
		t.ents[j], t.ords[j] = gridEntry{ad.a.Point, ad.a}, uint8(ad.ord)
	}
	return t
}

// grow widens the directory to take tile (tx, ty), with room to spare so a
// bulk load grows it a few times, not once per tile; false when that would
// pass maxTiles or the directory is frozen.
func (g *grid) grow(tx, ty int) bool {
	if g.frozen {
		return false
	}
	x0, y0, x1, y1 := tx, ty, tx+1, ty+1
	if g.tw > 0 {
		x0, y0 = min(x0, g.tx0), min(y0, g.ty0)
		x1, y1 = max(x1, g.tx0+g.tw), max(y1, g.ty0+g.th)
	}
	fits := func(x0, y0, x1, y1 int) bool { return (x1-x0)*(y1-y0) <= maxTiles }
	if !fits(x0, y0, x1, y1) {
		return false
	}
	// Spare room on the sides that grew, if it fits.
	padX, padY := max((x1-x0)/4, 2), max((y1-y0)/4, 2)
	px0, py0, px1, py1 := x0, y0, x1, y1
	if g.tw == 0 || x0 < g.tx0 {
		px0 -= padX
	}
	if g.tw == 0 || x1 > g.tx0+g.tw {
		px1 += padX
	}
	if g.tw == 0 || y0 < g.ty0 {
		py0 -= padY
	}
	if g.tw == 0 || y1 > g.ty0+g.th {
		py1 += padY
	}
	if fits(px0, py0, px1, py1) {
		x0, y0, x1, y1 = px0, py0, px1, py1
	}
	tiles := make([]*tile, (x1-x0)*(y1-y0))
	for j := 0; j < g.th; j++ {
		for i := 0; i < g.tw; i++ {
			tiles[(j+g.ty0-y0)*(x1-x0)+i+g.tx0-x0] = g.tiles[j*g.tw+i]
		}
	}
	g.tx0, g.ty0, g.tw, g.th, g.tiles = x0, y0, x1-x0, y1-y0, tiles
	return true
}

// layerSet is the layers a search accepts, by ordinal.
type layerSet [maxLayerOrd / 64]uint64

// add accepts the layer with this ordinal; ordinals past the tiles' are
// left to the search of over, which compares names.
func (s *layerSet) add(ord uint32) {
	if ord < maxLayerOrd {
		s[ord/64] |= 1 << (ord % 64)
	}
}

func (s *layerSet) has(ord uint32) bool { return s[ord/64]&(1<<(ord%64)) != 0 }

func closer(a *Asset, d float64, b *Asset, bd float64) bool {
	return d < bd || (d == bd && (a.Layer < b.Layer || (a.Layer == b.Layer && a.ID < b.ID)))
}

// search is one Nearest search: the query and the best asset so far.
type search struct {
	p      orb.Point
	r      geo.Ruler
	kx, ky float64 // r's metres per degree
	radius float64
	want   *layerSet // layers of the tiles' entries to accept; nil for all
	names  []string  // layers of over's assets to accept; nil for all
	best   *Asset
	bestD  float64
	// lim is the squared distance in metres past which an entry can
	// neither win nor tie: min(radius, bestD)² widened by limSlack, far
	// more than the rounding of the cheap squared distance, so the exact
	// distance (Ruler.Distance, as brute force computes it) is needed only
	// for the few entries that might win.
	lim float64
}

const limSlack = 1e-9

func (g *grid) newSearch(p orb.Point, radius float64, want *layerSet, names []string) search {
	var s search
	s.init(p, radius, want, names)
	return s
}

func (s *search) init(p orb.Point, radius float64, want *layerSet, names []string) {
	s.p, s.r, s.radius, s.want, s.names, s.bestD = p, geo.NewRuler(p[1]), radius, want, names, math.Inf(1)
	s.kx, s.ky = s.r.MetresPerDegree()
	s.lim = radius * radius * (1 + limSlack)
}

// offer considers asset a at q with the exact distance and tie rule.
func (s *search) offer(q orb.Point, a *Asset) {
	d := s.r.Distance(s.p, q)
	if d > s.radius || d > s.bestD {
		return
	}
	if s.best == nil || closer(a, d, s.best, s.bestD) {
		s.best, s.bestD = a, d
		s.lim = d * d * (1 + limSlack)
	}
}

// scanRun offers entries [lo, hi) of t. filter skips entries beyond lim
// by a squared distance without the longitude wrap, which is only right
// when the window does not cross the antimeridian and is narrow.
func (s *search) scanRun(t *tile, lo, hi uint32, filter bool) {
	px, py, kx, ky, lim := s.p[0], s.p[1], s.kx, s.ky, s.lim
	ents := t.ents[lo:hi]
	for i := range ents {
		e := &ents[i]
		if filter {
			dx, dy := (px-e.p[0])*kx, (py-e.p[1])*ky
			if dx*dx+dy*dy > lim {
				continue
			}
		}
		if s.want != nil && !s.want.has(uint32(t.ords[int(lo)+i])) {
			continue
		}
		s.offer(e.p, e.a)
		lim = s.lim
	}
}

func (s *search) acceptsName(layer string) bool {
	return s.names == nil || slices.Contains(s.names, layer)
}

// nearest is Snapshot.Nearest: the nearest asset of the accepted layers
// within radius of p, by the distance and tie rule of brute force; nil
// when there is none.
func (g *grid) nearest(p orb.Point, radius float64, want *layerSet, names []string) (*Asset, float64) {
	// Built in place: returning the struct from newSearch costs a copy a
	// point.
	var s search
	s.init(p, radius, want, names)
	// The window of Ruler.Buffer, a hair wider so that an asset the
	// distance formula puts at exactly radius, give or take its rounding,
	// is inside it.
	m := radius*(1+1e-9) + 1e-9
	hx, hy := m/s.kx, m/s.ky
	pruned := g.nearestPruned(&s, hx, hy)
	if pruned && g.over == nil {
		return s.best, s.bestD
	}
	w := orb.Bound{Min: orb.Point{p[0] - hx, p[1] - hy}, Max: orb.Point{p[0] + hx, p[1] + hy}}
	parts, n := lonParts(w)
	if !pruned {
		filter := n == 1 && parts[0] == w && g.narrow(w)
		for _, part := range parts[:n] {
			g.scanWindow(&s, part, filter)
		}
	}
	if g.over != nil && g.over.Len() > 0 {
		for _, part := range parts[:n] {
			g.searchOver(&s, part)
		}
	}
	return s.best, s.bestD
}

// narrow reports whether every entry of the cells w touches is within
// 180° of longitude of every point of w, so no distance to it wraps.
func (g *grid) narrow(w orb.Bound) bool { return w.Max[0]-w.Min[0]+2/g.invW < 180 }

func (g *grid) searchOver(s *search, b orb.Bound) {
	g.over.Search(b.Min, b.Max, func(at, _ [2]float64, a *Asset) bool {
		if s.acceptsName(a.Layer) {
			s.offer(at, a)
		}
		return true
	})
}

// lonParts splits a window at the antimeridian into at most two boxes
// within [-180, 180] × [-90, 90], as distances wrap there.
func lonParts(w orb.Bound) (parts [2]orb.Bound, n int) {
	lat0, lat1 := max(w.Min[1], -90), min(w.Max[1], 90)
	box := func(x0, x1 float64) orb.Bound {
		return orb.Bound{Min: orb.Point{x0, lat0}, Max: orb.Point{x1, lat1}}
	}
	switch {
	case w.Min[0] >= -180 && w.Max[0] <= 180:
		parts[0] = w
		if w.Min[1] < -90 || w.Max[1] > 90 {
			parts[0] = box(w.Min[0], w.Max[0])
		}
		return parts, 1
	case w.Max[0]-w.Min[0] >= 360:
		parts[0] = box(-180, 180)
		return parts, 1
	case w.Min[0] < -180:
		parts[0], parts[1] = box(-180, w.Max[0]), box(w.Min[0]+360, 180)
	default:
		parts[0], parts[1] = box(w.Min[0], 180), box(-180, w.Max[0]-360)
	}
	return parts, 2
}

// nearestPruned searches a window of up to maxSearchCells cells inside the
// directory (the usual case), the point's own cell first: its nearest asset
// usually lets the search skip most neighbouring cells, whose every point
// is farther. w is Ruler.Buffer's window around the point, given as its
// half sides hx, hy in degrees, so the usual search builds no bound. False
// when the window does not qualify (the antimeridian, a pole, a window
// wider than maxSearchCells or reaching past the directory).
func (g *grid) nearestPruned(s *search, hx, hy float64) bool {
	p := s.p
	x0, x1, y0, y1 := p[0]-hx, p[0]+hx, p[1]-hy, p[1]+hy
	if !(x0 >= -180 && x1 <= 180 && y0 >= -90 && y1 <= 90 && x1-x0+2*g.cellW < 180) {
		return false
	}
	cx0, cy0 := g.cellOf(x0, y0)
	cx1, cy1 := g.cellOf(x1, y1)
	if (cx1-cx0+1)*(cy1-cy0+1) > maxSearchCells {
		return false
	}
	if _, in := g.tileIndex(cx0, cy0); !in {
		return false
	}
	if _, in := g.tileIndex(cx1, cy1); !in {
		return false
	}
	pcx, pcy := g.cellOf(p[0], p[1])
	// The window's corners are in the directory, so every cell of it is.
	g.scanCell(s, pcx, pcy)
	// A cell's box is taken a little short (by slack, in cells) so that
	// rounding in mapping a point to its cell, or in multiplying by the
	// cell's size rather than dividing by invW, can never hide an asset.
	const slack = 1e-6
	sx, sy := slack*g.cellW, slack*g.cellH
	for cy := cy0; cy <= cy1; cy++ {
		dy := 0.0
		if cy < pcy {
			dy = (p[1] - float64(cy+1)*g.cellH) - sy
		} else if cy > pcy {
			dy = (float64(cy)*g.cellH - p[1]) - sy
		}
		dy = max(dy, 0) * s.ky
		dy2 := dy * dy
		if dy2 > s.lim {
			continue
		}
		tyBase := (cy>>tileBits-g.ty0)*g.tw - g.tx0
		rowSlot := (cy & (tileSide - 1)) << tileBits
		for cx := cx0; cx <= cx1; cx++ {
			if cx == pcx && cy == pcy {
				continue
			}
			dx := 0.0
			if cx < pcx {
				dx = (p[0] - float64(cx+1)*g.cellW) - sx
			} else if cx > pcx {
				dx = (float64(cx)*g.cellW - p[0]) - sx
			}
			dx = max(dx, 0) * s.kx
			if dx*dx+dy2 > s.lim {
				continue // every point of the cell is farther than the best
			}
			if t := g.tiles[tyBase+cx>>tileBits]; t != nil {
				c := rowSlot | cx&(tileSide-1)
				s.scanRun(t, t.off[c], t.off[c+1], true)
			}
		}
	}
	return true
}

func (g *grid) scanCell(s *search, cx, cy int) {
	k, in := g.tileIndex(cx, cy)
	if !in {
		return
	}
	if t := g.tiles[k]; t != nil {
		c := cellSlot(cx, cy)
		s.scanRun(t, t.off[c], t.off[c+1], true)
	}
}

// scanWindow offers every entry of the cells of b inside the directory,
// tile by tile, skipping empty tiles: wide searches and the antimeridian.
func (g *grid) scanWindow(s *search, b orb.Bound, filter bool) {
	if g.tw == 0 {
		return
	}
	cx0, cy0 := g.cellOf(b.Min[0], b.Min[1])
	cx1, cy1 := g.cellOf(b.Max[0], b.Max[1])
	cx0, cy0 = max(cx0, g.tx0<<tileBits), max(cy0, g.ty0<<tileBits)
	cx1, cy1 = min(cx1, (g.tx0+g.tw)<<tileBits-1), min(cy1, (g.ty0+g.th)<<tileBits-1)
	for ty := cy0 >> tileBits; ty <= cy1>>tileBits; ty++ {
		for tx := cx0 >> tileBits; tx <= cx1>>tileBits; tx++ {
			t := g.tiles[(ty-g.ty0)*g.tw+tx-g.tx0]
			if t == nil {
				continue
			}
			a, z := max(cx0, tx<<tileBits), min(cx1, tx<<tileBits+tileSide-1)
			for cy := max(cy0, ty<<tileBits); cy <= min(cy1, ty<<tileBits+tileSide-1); cy++ {
				s.scanRun(t, t.off[cellSlot(a, cy)], t.off[cellSlot(z, cy)+1], filter)
			}
		}
	}
}

// tileOrder returns the positions of pts grouped by the directory tile
// they fall in (a counting sort), points outside the directory last, and
// within a tile by cell, row after row (a second counting sort), so the
// points that read a cell follow one another and find it in the nearest
// cache.
func (g *grid) tileOrder(pts []orb.Point, sc *batchScratch) []int32 {
	n := len(g.tiles)
	key := grown(&sc.key, len(pts))
	slot := grown(&sc.slot, len(pts))
	count := grown(&sc.count, n+2)
	clear(count)
	for i, p := range pts {
		k := n // outside, or not a finite place
		if p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90 {
			cx, cy := g.cellOf(p[0], p[1])
			if t, in := g.tileIndex(cx, cy); in {
				k = t
				slot[i] = uint8(cellSlot(cx, cy))
			}
		}
		key[i] = int32(k)
		count[k+1]++
	}
	for k := 1; k < len(count); k++ {
		count[k] += count[k-1]
	}
	order := grown(&sc.order, len(pts))
	for i, k := range key {
		order[count[k]] = int32(i)
		count[k]++
	}
	// count[k] is now the end of tile k's points.
	tmp := sc.tmp
	start := int32(0)
	for k := range n {
		end := count[k]
		if end-start > 1 {
			bucket := order[start:end]
			var c [tileCells + 1]int32
			for _, i := range bucket {
				c[int(slot[i])+1]++
			}
			for s := 1; s <= tileCells; s++ {
				c[s] += c[s-1]
			}
			tmp = slices.Grow(tmp[:0], len(bucket))[:len(bucket)]
			for _, i := range bucket {
				tmp[c[slot[i]]] = i
				c[slot[i]]++
			}
			copy(bucket, tmp)
		}
		start = end
	}
	sc.tmp = tmp
	return order
}

// batchScratch is NearestAll's working memory, kept in a pool between
// calls: a batch of 100,000 points would otherwise allocate 4 MB a call,
// and the collections that follow evict the cells from the cache.
type batchScratch struct {
	key, count, order, tmp []int32
	slot                   []uint8
	pts                    []orb.Point
	found                  []*Asset
	dist                   []float64
}

var batchScratchPool = sync.Pool{New: func() any { return new(batchScratch) }}

// grown returns (*buf)[:n], reallocating it when it is too short; the
// contents are left as they were.
func grown[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	*buf = (*buf)[:n]
	return *buf
}
