package assets

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
)

// grid is a snapshot's fast path for Nearest: every asset, of every layer,
// in a bucket of about gridCellM × gridCellM metres, so a search within the
// usual radii reads the few buckets around the point instead of walking one
// R-tree per layer.
//
// Cells lie on a fixed lattice of longitude and latitude (sized at the
// latitude of the first assets), so a cell never moves. Cells are grouped in
// tiles of tileSide × tileSide behind a directory covering the assets'
// extent; a tile stores its cells' entries back to back, cell after cell
// (compressed rows), so the cells of one row of a search window are one run
// of memory. Tiles are immutable: a write collects its changes per tile and
// builds each tile it touched once, when it publishes, sharing every other
// tile with older snapshots.
//
// The directory grows with the assets but not past maxTiles: an asset
// outside it is left to the R-trees, the directory stops growing for good
// (so that asset stays outside), and a search whose window leaves the
// directory uses the R-trees too. Every asset inside the directory is in the
// grid, which is what makes an answer from the grid exact.
type grid struct {
	invW, invH float64 // cells per degree of longitude and latitude
	tx0, ty0   int     // directory origin, in tiles
	tw, th     int     // directory size, in tiles
	tiles      []*tile // row-major; nil is an empty tile
	frozen     bool    // the directory refused an asset and may not grow
}

// tile holds its cells' entries in cell order: cell s (row-major within the
// tile) is [off[s], off[s+1]) of pts, ords and as.
type tile struct {
	off  [tileCells + 1]uint32
	pts  []orb.Point // the asset's place, repeated so a search reads only the tile
	ords []uint8     // the asset's layer ordinal (see layer.ord)
	as   []*Asset
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
	// maxSearchCells sends searches of wider radii to the R-trees, which
	// skip empty space faster than a walk over cells.
	maxSearchCells = 64
	// maxLayerOrd is the number of layer ordinals the grid holds.
	maxLayerOrd = 256
)

func newGrid(lat float64) *grid {
	kx, ky := geo.NewRuler(lat).MetresPerDegree()
	return &grid{invW: kx / gridCellM, invH: ky / gridCellM}
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

// gridEdit collects one write's changes to the grid, per tile.
type gridEdit struct {
	base    *grid // nil before the first asset
	adds    []gridAdd
	removed map[*Asset]bool
}

type gridAdd struct {
	a   *Asset
	ord uint8
}

func (e *gridEdit) add(a *Asset, ord uint32) {
	if ord < maxLayerOrd { // searches of other layers use the R-trees
		e.adds = append(e.adds, gridAdd{a, uint8(ord)})
	}
}

func (e *gridEdit) remove(a *Asset) {
	if e.removed == nil {
		e.removed = map[*Asset]bool{}
	}
	e.removed[a] = true
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
	// Grow the directory for the new assets first, so tile slots are final.
	adds := e.adds[:0:0]
	for _, ad := range e.adds {
		if e.removed[ad.a] { // replaced later in the same write
			continue
		}
		cx, cy := g.cellOf(ad.a.Point[0], ad.a.Point[1])
		if _, in := g.tileIndex(cx, cy); !in && !g.grow(cx>>tileBits, cy>>tileBits) {
			g.frozen = true
			continue
		}
		adds = append(adds, ad)
	}
	touched := map[int][]gridAdd{}
	for _, ad := range adds {
		k, _ := g.tileIndex(g.cellOf(ad.a.Point[0], ad.a.Point[1]))
		touched[k] = append(touched[k], ad)
	}
	for a := range e.removed {
		if k, in := g.tileIndex(g.cellOf(a.Point[0], a.Point[1])); in && g.tiles[k] != nil {
			if _, ok := touched[k]; !ok {
				touched[k] = nil
			}
		}
	}
	for k, tileAdds := range touched {
		g.tiles[k] = rebuildTile(g.tiles[k], tileAdds, e.removed, &g)
	}
	return &g
}

// rebuildTile returns a new tile holding old's entries but removed, and
// adds; nil when it would be empty.
func rebuildTile(old *tile, adds []gridAdd, removed map[*Asset]bool, g *grid) *tile {
	n := len(adds)
	if old != nil {
		n += len(old.as)
	}
	slot := make([]uint8, 0, n)
	kept := make([]gridAdd, 0, n)
	if old != nil {
		for s := range tileCells {
			for i := old.off[s]; i < old.off[s+1]; i++ {
				if !removed[old.as[i]] {
					kept = append(kept, gridAdd{old.as[i], old.ords[i]})
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
	t := &tile{pts: make([]orb.Point, len(kept)), ords: make([]uint8, len(kept)), as: make([]*Asset, len(kept))}
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
		t.pts[j], t.ords[j], t.as[j] = ad.a.Point, ad.ord, ad.a
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

func (s *layerSet) add(ord uint32)      { s[ord/64] |= 1 << (ord % 64) }
func (s *layerSet) has(ord uint32) bool { return s[ord/64]&(1<<(ord%64)) != 0 }
func (s *layerSet) all()                { *s = allLayers }

var allLayers = layerSet{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}

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
	if _, in := g.tileIndex(cx0, cy0); !in {
		return nil, 0, false
	}
	if _, in := g.tileIndex(cx1, cy1); !in {
		return nil, 0, false
	}
	// The point's own cell first: its nearest asset usually lets the
	// search skip most neighbouring cells, whose every point is farther.
	bestD = math.Inf(1)
	pcx, pcy := g.cellOf(p[0], p[1])
	every := *want == allLayers // no need to read the entries' layers
	scan := func(cx, cy int) {
		k, _ := g.tileIndex(cx, cy)
		t := g.tiles[k]
		if t == nil {
			return
		}
		s := cellSlot(cx, cy)
		for i := t.off[s]; i < t.off[s+1]; i++ {
			if !every && !want.has(uint32(t.ords[i])) {
				continue
			}
			d := r.Distance(p, t.pts[i])
			if d > radius || d > bestD {
				continue
			}
			if best == nil || closer(t.as[i], d, best, bestD) {
				best, bestD = t.as[i], d
			}
		}
	}
	scan(pcx, pcy)
	kx, ky := r.MetresPerDegree()
	// A cell's box is taken a little short (by slack, in cells) so that
	// rounding in mapping a point to its cell can never hide an asset.
	const slack = 1e-6
	for cy := cy0; cy <= cy1; cy++ {
		dy := 0.0
		if cy < pcy {
			dy = (p[1] - float64(cy+1)/g.invH) - slack/g.invH
		} else if cy > pcy {
			dy = (float64(cy)/g.invH - p[1]) - slack/g.invH
		}
		dy = max(dy, 0) * ky
		for cx := cx0; cx <= cx1; cx++ {
			if cx == pcx && cy == pcy {
				continue
			}
			dx := 0.0
			if cx < pcx {
				dx = (p[0] - float64(cx+1)/g.invW) - slack/g.invW
			} else if cx > pcx {
				dx = (float64(cx)/g.invW - p[0]) - slack/g.invW
			}
			dx = max(dx, 0) * kx
			if dx*dx+dy*dy > bestD*bestD*(1+1e-9) {
				continue // every point of the cell is farther than the best
			}
			scan(cx, cy)
		}
	}
	return best, bestD, true
}
