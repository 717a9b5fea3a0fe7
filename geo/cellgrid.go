package geo

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// cellGrid is PolygonIndex's fast path: a regular grid over the indexed
// bounds whose cells each hold the answer for every point in them, or, when
// a ring edge (a border, a hole, a coastline) touches the cell, a mixed
// value naming the cell's entry in a side table: the polygon parts whose
// edges touch the cell, in owner order, and the owner of the cell's other
// points. There the exact edge test decides among those parts alone. In a
// city most cells lie wholly inside one ward, so most lookups are one array
// read, and the rest test the one or two wards whose border crosses the cell.
//
// Why it is exact: a cell no edge touches is a connected set that crosses
// no ring, so every point in it has the same class against every ring, and
// Locate gives the same answer for all of them; the grid stores the answer
// computed by the exact path at the cell's centre. Cells are tested for
// edges with a margin (cellMargin of a cell each side) far wider than any
// rounding in mapping a point to its cell, so a point the grid answers for
// is never on or within rounding distance of an edge.
type cellGrid struct {
	minX, minY float64
	maxX, maxY float64
	invW, invH float64 // cells per degree
	nx, ny     int     // cells, multiples of blockSide
	nbx        int     // blocks per row
	// blocks holds, per block of blockSide × blockSide cells, the value of
	// all its cells (uniformBlock set), or the offset of its cells in slab
	// (low 32 bits) and the side-table entry of its first mixed cell (high
	// 32). Most blocks are uniform; the table and the slab together are
	// small enough to stay in a core's cache.
	blocks []uint64
	// slab holds the cells of non-uniform blocks, row-major per block: an
	// owner, cellNone, or slabMixed | the cell's rank among its block's
	// mixed cells.
	slab []uint16

	// The side table of mixed cells: mixed cell k (value() gives
	// cellMixed|k) tests the parts cands[side[k]:side[k+1]], sorted by
	// owner, and when none covers the point answers base[k], the lowest
	// owner of the parts that cover the whole cell (-1 for none).
	side  []uint32
	cands []int32
	base  []int32
	// sub holds, for mixed cell k, the values of its subSide × subSide
	// subcells at sub[k*subCells:], row-major: an owner or cellNone for a
	// subcell no edge touches (margin included, as for cells), subMixed
	// for the others. Most points of a mixed cell fall in a clean subcell,
	// so few reach the edge test.
	sub []uint16
}

const (
	cellMixed = 1 << 30   // flag from value(): an edge touches the cell; the other bits are its side-table entry
	cellNone  = 1<<15 - 1 // no polygon covers the cell; owners are below
	slabMixed = 1 << 15
	subMixed  = 1<<16 - 1
	subBits   = 2
	subSide   = 1 << subBits
	subCells  = subSide * subSide

	// maxCells bounds the grid (1024 × 1024 cells); cellsPerEdge
	// sizes smaller boundary sets' grids in proportion to their edges, so a
	// test's square ward does not pay for a million cells.
	maxCells     = 1 << 20
	minCells     = 1 << 12
	cellsPerEdge = 32
	// cellMargin widens each cell, as a fraction of its size, when testing
	// it against edges: orders of magnitude above the rounding of a
	// point-to-cell mapping, and too small to cost noticeably more mixed cells.
	cellMargin = 1e-3

	blockBits    = 3
	blockSide    = 1 << blockBits
	uniformBlock = 1 << 63
)

// cell returns the grid offset of the cell p falls in, or false when p is
// outside the grid's bounds (and so outside every polygon).
func (g *cellGrid) cell(p orb.Point) (int, bool) {
	x, y, ok := g.cellXY(p)
	return y*g.nx + x, ok
}

func (g *cellGrid) cellXY(p orb.Point) (x, y int, ok bool) {
	if !(p[0] >= g.minX && p[0] <= g.maxX && p[1] >= g.minY && p[1] <= g.maxY) {
		return 0, 0, false
	}
	// The maximum edge maps to nx (or ny): it belongs to the last cell.
	x = min(int((p[0]-g.minX)*g.invW), g.nx-1)
	y = min(int((p[1]-g.minY)*g.invH), g.ny-1)
	return x, y, true
}

// value returns the value of cell (x, y).
func (g *cellGrid) value(x, y int) uint32 {
	b := g.blocks[(y>>blockBits)*g.nbx+x>>blockBits]
	if b&uniformBlock != 0 {
		return uint32(b)
	}
	v := uint32(g.slab[int(uint32(b))+(y&(blockSide-1))<<blockBits|x&(blockSide-1)])
	if v&slabMixed != 0 {
		v = cellMixed | (uint32(b>>32) + v&^slabMixed)
	}
	return v
}

// lookup returns the value for p, or cellNone outside the grid.
func (g *cellGrid) lookup(p orb.Point) uint32 {
	x, y, ok := g.cellXY(p)
	if !ok {
		return cellNone
	}
	return g.value(x, y)
}

// newCellGrid builds the grid for ix (whose parts are indexed already), or
// returns a zero grid (no fast path) when the polygons cannot have one.
func newCellGrid(ix *PolygonIndex, polys []orb.MultiPolygon) cellGrid {
	edges := 0
	for _, mp := range polys {
		for _, poly := range mp {
			for _, r := range poly {
				edges += max(len(r)-1, 0)
			}
		}
	}
	b := ix.bound
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	if ix.count >= cellNone || len(ix.parts) == 0 || !(w > 0) || !(h > 0) {
		return cellGrid{}
	}
	// Cells about square on the ground: a degree of longitude is cos(lat)
	// of a degree of latitude.
	aspect := w * math.Cos((b.Min[1]+b.Max[1])/2*math.Pi/180) / h
	aspect = min(max(aspect, 1e-3), 1e3)
	total := float64(min(max(edges*cellsPerEdge, minCells), maxCells))
	roundUp := func(v float64) int {
		n := int(min(max(math.Round(v), 1), 4096))
		return (n + blockSide - 1) &^ (blockSide - 1)
	}
	nx := roundUp(math.Sqrt(total * aspect))
	ny := roundUp(total / float64(nx))
	g := cellGrid{
		minX: b.Min[0], minY: b.Min[1], maxX: b.Max[0], maxY: b.Max[1],
		invW: float64(nx) / w, invH: float64(ny) / h,
		nx: nx, ny: ny, nbx: nx / blockSide,
	}
	// Every (cell, part) pair where an edge of the part touches the cell,
	// as cell<<32 | part; parts are numbered as NewPolygonIndex numbers
	// them, in owner order.
	cells := make([]uint32, nx*ny) // 0 = clean until filled below
	var touches []uint64
	// The same marking on the grid of subcells, as a bit set.
	fine := cellGrid{minX: g.minX, minY: g.minY, invW: g.invW * subSide, invH: g.invH * subSide, nx: nx * subSide, ny: ny * subSide}
	fineMarked := make([]uint64, (fine.nx*fine.ny+63)/64)
	part := 0
	for _, mp := range polys {
		for _, poly := range mp {
			if len(poly) == 0 {
				continue
			}
			for _, r := range poly {
				for k := 0; k+1 < len(r); k++ {
					e := newEdge(r[k], r[k+1])
					g.markEdge(&e, func(c int) { touches = append(touches, uint64(c)<<32|uint64(part)) })
					fine.markEdge(&e, func(c int) { fineMarked[c/64] |= 1 << (c % 64) })
				}
			}
			part++
		}
	}
	slices.Sort(touches)
	touches = slices.Compact(touches)
	// Mixed cells, in cell order: their parts, and the owner of the parts
	// covering the whole cell, whose class the cell's centre gives (no edge
	// of theirs comes near the cell).
	for i := 0; i < len(touches); {
		c := int(touches[i] >> 32)
		var parts []int32
		for ; i < len(touches) && int(touches[i]>>32) == c; i++ {
			parts = append(parts, int32(uint32(touches[i])))
		}
		x, y := c%nx, c/nx
		centre := orb.Point{g.minX + (float64(x)+0.5)/g.invW, g.minY + (float64(y)+0.5)/g.invH}
		base := ix.lowestCovering(centre, parts)
		cells[c] = cellMixed | uint32(len(g.side))
		g.side = append(g.side, uint32(len(g.cands)))
		g.base = append(g.base, int32(base))
		first := len(g.cands)
		for _, pt := range parts {
			if base < 0 || ix.parts[pt].owner < base {
				g.cands = append(g.cands, pt)
			}
		}
		// Its subcells: a clean one holds the answer at its centre.
		for sy := range subSide {
			for sx := range subSide {
				fx, fy := x*subSide+sx, y*subSide+sy
				v := uint16(subMixed)
				if fc := fy*fine.nx + fx; fineMarked[fc/64]&(1<<(fc%64)) == 0 {
					centre := orb.Point{g.minX + (float64(fx)+0.5)/fine.invW, g.minY + (float64(fy)+0.5)/fine.invH}
					v = cellNone
					if owner := ix.firstCovering(g.cands[first:], base, centre); owner >= 0 {
						v = uint16(owner)
					}
				}
				g.sub = append(g.sub, v)
			}
		}
	}
	g.side = append(g.side, uint32(len(g.cands)))
	// Neighbouring clean cells in a row form a connected set no edge
	// touches, so one exact lookup answers for the whole run.
	for j := 0; j < ny; j++ {
		row := cells[j*nx : (j+1)*nx]
		for i := 0; i < nx; {
			if row[i]&cellMixed != 0 {
				i++
				continue
			}
			centre := orb.Point{g.minX + (float64(i)+0.5)/g.invW, g.minY + (float64(j)+0.5)/g.invH}
			v := uint32(cellNone)
			if owner := ix.locateEdges(centre); owner >= 0 {
				v = uint32(owner)
			}
			for ; i < nx && row[i]&cellMixed == 0; i++ {
				row[i] = v
			}
		}
	}
	g.compress(cells)
	return g
}

// compress fills blocks and slab from the flat row-major cells, and
// renumbers the side table (built in row-major cell order) block by block,
// so a block names its mixed cells by one base and their rank.
func (g *cellGrid) compress(cells []uint32) {
	nby := g.ny / blockSide
	g.blocks = make([]uint64, g.nbx*nby)
	side, cands, base, sub := g.side, g.cands, g.base, g.sub
	g.side = make([]uint32, 0, len(side))
	g.cands = make([]int32, 0, len(cands))
	g.base = make([]int32, 0, len(base))
	g.sub = make([]uint16, 0, len(sub))
	var block [blockSide * blockSide]uint32
	for by := 0; by < nby; by++ {
		for bx := 0; bx < g.nbx; bx++ {
			uniform := true
			for k := range block {
				x, y := bx*blockSide+k&(blockSide-1), by*blockSide+k>>blockBits
				block[k] = cells[y*g.nx+x]
				uniform = uniform && block[k] == block[0]
			}
			if uniform && block[0]&cellMixed == 0 {
				g.blocks[by*g.nbx+bx] = uniformBlock | uint64(block[0])
				continue
			}
			g.blocks[by*g.nbx+bx] = uint64(len(g.slab)) | uint64(len(g.base))<<32
			rank := uint16(0)
			for _, v := range block {
				if v&cellMixed == 0 {
					g.slab = append(g.slab, uint16(v))
					continue
				}
				k := v &^ cellMixed
				g.slab = append(g.slab, slabMixed|rank)
				rank++
				g.side = append(g.side, uint32(len(g.cands)))
				g.cands = append(g.cands, cands[side[k]:side[k+1]]...)
				g.base = append(g.base, base[k])
				g.sub = append(g.sub, sub[k*subCells:(k+1)*subCells]...)
			}
		}
	}
	g.side = append(g.side, uint32(len(g.cands)))
}

// locateMixed is Locate in mixed cell k, cell (x, y): the subcell's
// answer when no edge touches it, else the first of the cell's parts, in
// owner order, that covers p, else the owner of the whole cell.
func (ix *PolygonIndex) locateMixed(k uint32, x, y int, p orb.Point) int {
	g := &ix.grid
	// Scaling by subSide (a power of two) is exact, so the subcell lies in
	// cell (x, y) unless the cell was clamped at the grid's far edge.
	fx := int((p[0] - g.minX) * g.invW * subSide)
	fy := int((p[1] - g.minY) * g.invH * subSide)
	if fx>>subBits == x && fy>>subBits == y {
		switch v := g.sub[int(k)*subCells+(fy&(subSide-1))<<subBits|fx&(subSide-1)]; v {
		case subMixed:
		case cellNone:
			return -1
		default:
			return int(v)
		}
	}
	return ix.firstCovering(g.cands[g.side[k]:g.side[k+1]], int(g.base[k]), p)
}

// firstCovering returns the owner of the first of parts (in owner order)
// that covers p, else base.
func (ix *PolygonIndex) firstCovering(parts []int32, base int, p orb.Point) int {
	for _, part := range parts {
		if pp := &ix.parts[part]; pp.classify(p) != outside {
			return pp.owner
		}
	}
	return base
}

// markEdge calls mark with every cell the edge touches, each cell widened
// by cellMargin. It walks the columns the edge spans and, in each, the rows
// of the part of the edge inside that column, so a long edge costs the
// cells it crosses, not its bounding box.
func (g *cellGrid) markEdge(e *edge, mark func(cell int)) {
	mx, my := cellMargin/g.invW, cellMargin/g.invH
	x0, x1 := math.Min(e.ax, e.bx), math.Max(e.ax, e.bx)
	y0, y1 := e.ay, e.by // stored bottom-up
	i0, i1 := g.col(x0-mx), g.col(x1+mx)
	// Interpolating y on a short or steep edge could be off by more than
	// the margin; its whole height is a safe (and small) over-estimate.
	interpolate := (x1-x0)*g.invW >= 4
	for i := i0; i <= i1; i++ {
		ylo, yhi := y0, y1
		if interpolate {
			lo := math.Max(x0, g.minX+float64(i)/g.invW-mx)
			hi := math.Min(x1, g.minX+float64(i+1)/g.invW+mx)
			ya := e.ay + (lo-e.ax)/(e.bx-e.ax)*(e.by-e.ay)
			yb := e.ay + (hi-e.ax)/(e.bx-e.ax)*(e.by-e.ay)
			ylo = math.Max(y0, math.Min(ya, yb))
			yhi = math.Min(y1, math.Max(ya, yb))
		}
		for j, j1 := g.row(ylo-my), g.row(yhi+my); j <= j1; j++ {
			mark(j*g.nx + i)
		}
	}
}

func (g *cellGrid) col(x float64) int {
	return min(max(int(math.Floor((x-g.minX)*g.invW)), 0), g.nx-1)
}

func (g *cellGrid) row(y float64) int {
	return min(max(int(math.Floor((y-g.minY)*g.invH)), 0), g.ny-1)
}

// stats returns the number of cells, of mixed cells and the bytes the
// grid takes, for benchmarks.
func (g *cellGrid) stats() (cells, mixed, bytes int) {
	for y := 0; y < g.ny; y++ {
		for x := 0; x < g.nx; x++ {
			if g.value(x, y)&cellMixed != 0 {
				mixed++
			}
		}
	}
	return g.nx * g.ny, mixed, 8*len(g.blocks) + 2*(len(g.slab)+len(g.sub)) + 4*(len(g.side)+len(g.cands)+len(g.base))
}
