package assets

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
)

// grid is a snapshot's fast path for Nearest: every asset, of every layer,
// in a bucket of about gridCellM × gridCellM metres, so a search within the
// usual radii reads the few buckets around the point instead of walking one
// R-tree per layer.
//
// Cells lie on a fixed lattice of longitude and latitude (sized at the
// latitude of the first assets), so a cell never moves and changing one
// asset touches one bucket. Cells are grouped in tiles of tileSide ×
// tileSide behind a directory covering the assets' extent. Like the trie,
// the grid is persistent: a write copies the directory, the tiles and the
// buckets it changes (the generation marks what it already owns) and shares
// the rest with older snapshots, which it never changes.
//
// The directory grows with the assets but not past maxTiles: an asset
// outside it is left to the R-trees, and a search whose window leaves the
// directory uses them too. Every asset inside the directory is in the grid,
// which is what makes an answer from the grid exact.
type grid struct {
	invW, invH float64 // cells per degree of longitude and latitude
	tx0, ty0   int     // directory origin, in tiles
	tw, th     int     // directory size, in tiles
	tiles      []*tile // row-major; nil is an empty tile
	gen        uint64  // write that owns tiles (the slice)
	// frozen stops the directory growing once it has refused an asset,
	// which must stay outside it.
	frozen bool
}

type tile struct {
	gen   uint64
	owned [tileCells / 64]uint64 // buckets this generation copied already
	cells [tileCells][]gridEntry
}

// gridEntry repeats the asset's place so a search reads only the bucket.
type gridEntry struct {
	x, y  float64
	a     *Asset
	layer uint32 // the layer's ordinal (see Snapshot.ords)
}

const (
	// gridCellM is the cell's side in metres: about the search radius
	// intake uses, so a search reads 4 to 9 buckets.
	gridCellM = 75.0
	tileBits  = 4
	tileSide  = 1 << tileBits
	tileCells = tileSide * tileSide
	// maxTiles bounds the directory (512 KiB of pointers): about 300 km ×
	// 300 km, more than any municipality.
	maxTiles = 1 << 16
	// maxSearchCells sends searches of wider radii to the R-trees, which
	// skip empty space faster than a walk over cells.
	maxSearchCells = 64
	// maxLayerOrd is the number of layer ordinals a search's filter holds.
	maxLayerOrd = 256
)

func newGrid(lat float64) *grid {
	r := geo.NewRuler(lat)
	kx, ky := r.MetresPerDegree()
	return &grid{invW: kx / gridCellM, invH: ky / gridCellM}
}

func (g *grid) cellOf(x, y float64) (cx, cy int) {
	return int(math.Floor(x * g.invW)), int(math.Floor(y * g.invH))
}

// tileAt returns the tile holding cell (cx, cy) and whether the cell is in
// the directory at all.
func (g *grid) tileAt(cx, cy int) (*tile, bool) {
	tx, ty := cx>>tileBits-g.tx0, cy>>tileBits-g.ty0
	if tx < 0 || ty < 0 || tx >= g.tw || ty >= g.th {
		return nil, false
	}
	return g.tiles[ty*g.tw+tx], true
}

func cellSlot(cx, cy int) int { return (cy&(tileSide-1))<<tileBits | cx&(tileSide-1) }

// own returns g itself when the write gen owns it, else a copy it owns.
func (g *grid) own(gen uint64) *grid {
	if g.gen == gen {
		return g
	}
	c := *g
	c.tiles = append([]*tile(nil), g.tiles...)
	c.gen = gen
	return &c
}

// insert adds a (of layer ordinal ord) to g, which gen must own; it
// reports false when a lies beyond the largest directory allowed.
func (g *grid) insert(gen uint64, a *Asset, ord uint32) bool {
	cx, cy := g.cellOf(a.Point[0], a.Point[1])
	if _, in := g.tileAt(cx, cy); !in && !g.grow(cx>>tileBits, cy>>tileBits) {
		g.frozen = true
		return false
	}
	t := g.ownTile(gen, cx, cy)
	s := cellSlot(cx, cy)
	b := t.ownBucket(gen, s, 1)
	t.cells[s] = append(b, gridEntry{x: a.Point[0], y: a.Point[1], a: a, layer: ord})
	return true
}

// remove takes a out of g, which gen must own. An asset the grid never
// held (beyond the directory) is not found, which is fine.
func (g *grid) remove(gen uint64, a *Asset) {
	cx, cy := g.cellOf(a.Point[0], a.Point[1])
	if t, in := g.tileAt(cx, cy); !in || t == nil {
		return
	}
	t := g.ownTile(gen, cx, cy)
	s := cellSlot(cx, cy)
	b := t.ownBucket(gen, s, 0)
	for i := range b {
		if b[i].a == a {
			b[i] = b[len(b)-1]
			b[len(b)-1] = gridEntry{}
			t.cells[s] = b[:len(b)-1]
			return
		}
	}
}

func (g *grid) ownTile(gen uint64, cx, cy int) *tile {
	k := (cy>>tileBits-g.ty0)*g.tw + cx>>tileBits - g.tx0
	t := g.tiles[k]
	switch {
	case t == nil:
		t = &tile{gen: gen}
	case t.gen != gen:
		c := &tile{gen: gen, cells: t.cells}
		t = c
	default:
		return t
	}
	g.tiles[k] = t
	return t
}

// ownBucket returns bucket s of t as a slice gen may change in place, with
// room for extra more entries.
func (t *tile) ownBucket(gen uint64, s, extra int) []gridEntry {
	b := t.cells[s]
	if t.owned[s/64]&(1<<(s%64)) != 0 {
		return b
	}
	t.owned[s/64] |= 1 << (s % 64)
	c := make([]gridEntry, len(b), len(b)+max(extra, len(b)/4))
	copy(c, b)
	t.cells[s] = c
	return c
}

// grow widens the directory to take tile (tx, ty), with room to spare so a
// bulk load grows it a few times, not once per tile; false when that would
// pass maxTiles.
func (g *grid) grow(tx, ty int) bool {
	if g.frozen {
		return false
	}
	x0, y0, x1, y1 := tx, ty, tx+1, ty+1
	if g.tw > 0 {
		x0, y0 = min(x0, g.tx0), min(y0, g.ty0)
		x1, y1 = max(x1, g.tx0+g.tw), max(y1, g.ty0+g.th)
	}
	// Spare room on the side that grew.
	padX, padY := max((x1-x0)/4, 2), max((y1-y0)/4, 2)
	if g.tw > 0 {
		if x0 < g.tx0 {
			x0 -= padX
		}
		if x1 > g.tx0+g.tw {
			x1 += padX
		}
		if y0 < g.ty0 {
			y0 -= padY
		}
		if y1 > g.ty0+g.th {
			y1 += padY
		}
	} else {
		x0, x1, y0, y1 = x0-padX, x1+padX, y0-padY, y1+padY
	}
	if (x1-x0)*(y1-y0) > maxTiles {
		// Without the spare room, then not at all.
		x0, y0, x1, y1 = min(tx, g.tx0), min(ty, g.ty0), max(tx+1, g.tx0+g.tw), max(ty+1, g.ty0+g.th)
		if g.tw == 0 {
			x0, y0, x1, y1 = tx, ty, tx+1, ty+1
		}
		if (x1-x0)*(y1-y0) > maxTiles {
			return false
		}
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

func (s *layerSet) add(ord uint32)      { s[ord/64] |= 1 << (ord % 64) }
func (s *layerSet) has(ord uint32) bool { return s[ord/64]&(1<<(ord%64)) != 0 }
func (s *layerSet) all()                { *s = layerSet{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)} }
func closer(a *Asset, d float64, b *Asset, bd float64) bool {
	return d < bd || (d == bd && (a.Layer < b.Layer || (a.Layer == b.Layer && a.ID < b.ID)))
}

// nearest is Snapshot.Nearest over the grid: the nearest asset of the
// layers in want within radius of p, by the same distance and tie rule as
// the R-trees. ok is false when the grid cannot answer (the window leaves
// the directory or spans too many cells); then the caller must.
func (g *grid) nearest(p orb.Point, radius float64, want *layerSet) (best *Asset, bestD float64, ok bool) {
	r := geo.NewRuler(p[1])
	// The window of Ruler.Buffer, a hair wider so that an asset the
	// distance formula puts at exactly radius, give or take its rounding,
	// is inside it.
	w := r.Buffer(p, radius*(1+1e-9)+1e-9)
	if w.Min[0] < -180 || w.Max[0] > 180 { // across the antimeridian
		return nil, 0, false
	}
	cx0, cy0 := g.cellOf(w.Min[0], w.Min[1])
	cx1, cy1 := g.cellOf(w.Max[0], w.Max[1])
	if (cx1-cx0+1)*(cy1-cy0+1) > maxSearchCells {
		return nil, 0, false
	}
	if _, in := g.tileAt(cx0, cy0); !in {
		return nil, 0, false
	}
	if _, in := g.tileAt(cx1, cy1); !in {
		return nil, 0, false
	}
	bestD = math.Inf(1)
	for cy := cy0; cy <= cy1; cy++ {
		for cx := cx0; cx <= cx1; cx++ {
			t, _ := g.tileAt(cx, cy)
			if t == nil {
				continue
			}
			for i := range t.cells[cellSlot(cx, cy)] {
				e := &t.cells[cellSlot(cx, cy)][i]
				if !want.has(e.layer) {
					continue
				}
				d := r.Distance(p, orb.Point{e.x, e.y})
				if d > radius || d > bestD {
					continue
				}
				if best == nil || closer(e.a, d, best, bestD) {
					best, bestD = e.a, d
				}
			}
		}
	}
	return best, bestD, true
}
