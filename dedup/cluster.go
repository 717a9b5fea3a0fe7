package dedup

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
)

// Report is what clustering needs of a 311 request.
type Report struct {
	ID, Category string
	CreatedAt    time.Time
	Point        orb.Point // WGS84 lon/lat
	AssetID      string    // "" when the report names no asset
}

// Assignment places one report in a cluster.
type Assignment struct {
	ID, ClusterID string
}

// FitProjection returns the projection tangent at the centre of the valid
// points' bounding box: metres for a batch run when the municipality's own
// origin is not at hand.
func FitProjection(reports []Report) geo.Projection {
	b := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	for _, r := range reports {
		if geo.ValidatePoint(r.Point) == nil {
			b = b.Extend(r.Point)
		}
	}
	if b.Min[0] > b.Max[0] {
		return geo.NewProjection(orb.Point{})
	}
	return geo.NewProjection(b.Center())
}

// Cluster groups a whole history of reports at once, measuring metres in
// FitProjection(reports). It returns one Assignment per report, in input
// order; ClusterID is the smallest ID of the cluster under CompareIDs.
func Cluster(reports []Report, rules Rules) ([]Assignment, error) {
	return ClusterIn(reports, rules, FitProjection(reports))
}

// ClusterIn is Cluster measuring metres in pj: give it the municipality's
// projection to measure as the stores do.
//
// Partitions with a time window are processed in time order (ties by
// CompareIDs), each report linked through a spatial index of the members
// still within the window (clusterTimed). Partitions without one link
// pairs regardless of time, so they take a faster grid algorithm. Tests
// hold both equal to a pairwise scan of the definition.
func ClusterIn(reports []Report, rules Rules, pj geo.Projection) ([]Assignment, error) {
	rs, err := rules.Compile()
	if err != nil {
		return nil, err
	}
	if len(reports) > math.MaxInt32 {
		return nil, fmt.Errorf("%d reports: at most %d fit one batch", len(reports), math.MaxInt32)
	}
	if len(reports) == 0 {
		return []Assignment{}, nil
	}

	// One sequential pass over the Reports checks them, finds their
	// partitions, projects them and reads integer IDs; a second lays each
	// partition's indices and metres out contiguously, so the clustering
	// passes read small arrays in order.
	n := len(reports)
	group := make([]int32, n)
	num := make([]uint64, n)      // integer IDs; nil once one is not
	groupOf := map[string]int32{} // category → group
	var first, size []int32       // per group: a report, and the count
	for i, r := range reports {
		if r.ID == "" {
			return nil, fmt.Errorf("report %d has an empty ID", i+1)
		}
		// The plain comparisons are the fast path; NaN fails them too.
		if lon, lat := r.Point[0], r.Point[1]; !(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90) {
			if err := geo.ValidatePoint(r.Point); err != nil {
				return nil, geo.Named(err, fmt.Sprintf("report %d (ID %q)", i+1, r.ID))
			}
		}
		g, ok := groupOf[r.Category]
		if !ok {
			key := rs.Partition(r.Category)
			g = -1
			for c, gc := range groupOf { // an equivalent category seen before
				if rs.Partition(c) == key {
					g = gc
					break
				}
			}
			if g < 0 {
				g = int32(len(first))
				first, size = append(first, int32(i)), append(size, 0)
			}
			groupOf[r.Category] = g
		}
		group[i] = g
		size[g]++
		if num != nil {
			if v, ok := plainInteger(r.ID); ok {
				num[i] = v
			} else {
				num = nil
			}
		}
	}
	order, err := newIDOrder(reports, num)
	if err != nil {
		return nil, err
	}
	start := make([]int32, len(size)+1)
	for g, c := range size {
		start[g+1] = start[g] + c
	}
	fill := slices.Clone(start[:len(size)])
	idx := make([]int32, n)
	xs, ys := make([]float64, n), make([]float64, n)
	for i, g := range group {
		p := fill[g]
		fill[g]++
		m := pj.ToMetres(reports[i].Point)
		idx[p], xs[p], ys[p] = int32(i), m[0], m[1]
	}

	name := group     // reuse: report → report naming its cluster
	var timed []int32 // reports of partitions with a window
	scratch := gridScratch{hint: int(slices.Max(size))}
	for g := range size {
		lo, hi := start[g], start[g+1]
		rule := rs.Rule(reports[first[g]].Category)
		if rule.Window != 0 || rule.Distance < minGridDistance ||
			!clusterGrid(&scratch, reports, idx[lo:hi], xs[lo:hi], ys[lo:hi], rule, order, name) {
			timed = append(timed, idx[lo:hi]...)
		}
	}
	if len(timed) > 0 {
		clusterTimed(reports, timed, rs, pj, order, name)
	}
	out := make([]Assignment, n)
	for i, r := range reports {
		out[i] = Assignment{ID: r.ID, ClusterID: reports[name[i]].ID}
	}
	return out, nil
}

// idOrder compares reports by ID as CompareIDs does, faster when every ID
// is a plain integer (no leading zero, at most 19 digits) and fits a uint64.
type idOrder struct {
	reports []Report
	num     []uint64 // nil unless all IDs are plain integers
}

// newIDOrder returns the order of reports' IDs, num being their values
// when all are plain integers (else nil), and refuses duplicate IDs.
func newIDOrder(reports []Report, num []uint64) (idOrder, error) {
	o := idOrder{reports: reports, num: num}
	var hi uint64
	for _, v := range num {
		hi = max(hi, v)
	}
	dup := func(i int) error { return fmt.Errorf("report %d: ID %q appears twice", i+1, reports[i].ID) }
	switch {
	case o.num != nil && hi < uint64(64*len(reports)+4096):
		// Dense integer IDs (1..n as most systems number them): a bitset.
		seen := make([]uint64, hi/64+1)
		for i, v := range o.num {
			if seen[v/64]&(1<<(v%64)) != 0 {
				return o, dup(i)
			}
			seen[v/64] |= 1 << (v % 64)
		}
	case o.num != nil:
		seen := make(map[uint64]struct{}, len(reports))
		for i, v := range o.num {
			if _, ok := seen[v]; ok {
				return o, dup(i)
			}
			seen[v] = struct{}{}
		}
	default:
		seen := make(map[string]struct{}, len(reports))
		for i, r := range reports {
			if _, ok := seen[r.ID]; ok {
				return o, dup(i)
			}
			seen[r.ID] = struct{}{}
		}
	}
	return o, nil
}

// less reports whether report i's ID sorts before report j's.
func (o idOrder) less(i, j int32) bool {
	if o.num != nil {
		return o.num[i] < o.num[j]
	}
	return CompareIDs(o.reports[i].ID, o.reports[j].ID) < 0
}

// plainInteger parses s when it is digits without a leading zero (or "0")
// and at most 19 digits, where numeric and CompareIDs order agree.
func plainInteger(s string) (uint64, bool) {
	if s == "" || len(s) > 19 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

// minGridDistance keeps grid cell numbers well inside 32 bits anywhere on
// Earth; smaller distances take clusterTimed.
const minGridDistance = 1.0

// gridFactor sets the cell side to Distance/gridFactor. Below 2, any two
// linked points lie at most 2 cells apart on each axis even after
// rounding, so 5×5 cells cover every neighbour; above √2, two points in
// one cell lie less than Distance apart (here at most 0.98 Distance, far
// beyond rounding), so a cell is linked as a whole without measuring. The
// larger the cells, the fewer there are to visit.
const gridFactor = 1.45

// gridScratch holds clusterGrid's working arrays from one partition to
// the next: sized once for the largest, they spare the garbage collector
// most of what a batch would otherwise allocate.
type gridScratch struct {
	keys, tmpKeys, ckey                        []uint64
	perm, tmpPerm, cellOf, cells, parent, size []int32
	sx, sy                                     []float64
	box                                        []cellBox
	hint                                       int // the largest partition
}

// grow returns s with length n, reallocated only when too small, then
// for at least hint elements so that it is allocated once.
func grow[T any](s []T, n, hint int) []T {
	if cap(s) < n {
		return make([]T, n, max(n, hint))
	}
	return s[:n]
}

// clusterGrid clusters one partition without a time window: single
// linkage on a grid, with union-find over cells. Each cell's points are one
// cluster outright, and two cells join when any pair across them is within
// Distance, which is only measured while the cells are still apart. idx are
// the partition's reports and xs, ys their metres; name receives, for each,
// the report naming its cluster. It returns false, having written nothing,
// when the data spans too many cells for 64-bit cell keys (never for a
// municipality).
func clusterGrid(s *gridScratch, reports []Report, idx []int32, xs, ys []float64, rule Rule, order idOrder, name []int32) bool {
	n := len(idx)
	eps := rule.Distance
	r := newRadius(eps)
	side := eps / gridFactor
	x0, x1, y0, y1 := xs[0], xs[0], ys[0], ys[0]
	for k := range n {
		x0, x1 = min(x0, xs[k]), max(x1, xs[k])
		y0, y1 = min(y0, ys[k]), max(y1, ys[k])
	}
	// Cell numbers grow with the coordinate, so the extremes' cells bound
	// them all.
	minX, maxX := int64(math.Floor(x0/side)), int64(math.Floor(x1/side))
	minY, maxY := int64(math.Floor(y0/side)), int64(math.Floor(y1/side))
	// key = column << rowBits | row, with rows offset by 2 so that row±2
	// never leaves the field: sorting keys sorts cells by (column, row).
	rowBits := uint(bits.Len64(uint64(maxY-minY) + 4))
	if rowBits+uint(bits.Len64(uint64(maxX-minX)+2)) > 62 {
		return false
	}
	rowMask := uint64(1)<<rowBits - 1
	s.keys, s.perm = grow(s.keys, n, s.hint), grow(s.perm, n, s.hint)
	keys, perm := s.keys, s.perm
	for k := range keys {
		cx, cy := int64(math.Floor(xs[k]/side)), int64(math.Floor(ys[k]/side))
		keys[k] = uint64(cx-minX)<<rowBits | uint64(cy-minY+2)
		perm[k] = int32(k)
	}
	s.tmpKeys, s.tmpPerm = grow(s.tmpKeys, n, s.hint), grow(s.tmpPerm, n, s.hint)
	radixSort(keys, perm, s.tmpKeys, s.tmpPerm)

	// Points in cell order (so comparing two cells reads memory in
	// sequence), cells[c] the first position of cell c, cellOf[k] the cell
	// of report idx[k], ckey[c] its key and box[c] the bounding box of its
	// points.
	nc := 1
	for j := 1; j < n; j++ {
		if keys[j] != keys[j-1] {
			nc++
		}
	}
	s.sx, s.sy, s.cellOf = grow(s.sx, n, s.hint), grow(s.sy, n, s.hint), grow(s.cellOf, n, s.hint)
	s.cells, s.ckey, s.box = grow(s.cells, nc+1, s.hint), grow(s.ckey, nc, s.hint), grow(s.box, nc, s.hint)
	sx, sy, cellOf, cells, ckey, box := s.sx, s.sy, s.cellOf, s.cells[:0], s.ckey[:0], s.box[:0]
	for j, k := range perm {
		x, y := xs[k], ys[k]
		if j == 0 || keys[j] != keys[j-1] {
			cells = append(cells, int32(j))
			ckey = append(ckey, keys[j])
			box = append(box, cellBox{x, x, y, y})
		} else {
			b := &box[len(box)-1]
			b.x0, b.x1, b.y0, b.y1 = min(b.x0, x), max(b.x1, x), min(b.y0, y), max(b.y1, y)
		}
		sx[j], sy[j] = x, y
		cellOf[k] = int32(len(cells) - 1)
	}
	cells = append(cells, int32(n))
	keyOf := func(c int) uint64 { return ckey[c] }

	s.parent, s.size = grow(s.parent, nc, s.hint), grow(s.size, nc, s.hint)
	uf := &unionFind{parent: s.parent, size: s.size}
	uf.reset()
	var ra int32 // the root of the cell being visited, kept current
	linkCells := func(a, b int) {
		if ra == uf.find(int32(b)) {
			return
		}
		bb := box[b]
		switch bb.reachBox(box[a], r) {
		case reachNone:
			return
		case reachAll:
			ra = uf.union(ra, int32(b))
			return
		}
		b0, b1 := cells[b], cells[b+1]
		for p := cells[a]; p < cells[a+1]; p++ {
			px, py := sx[p], sy[p]
			switch bb.reach(px, py, r) {
			case reachNone:
				continue
			case reachAll:
				ra = uf.union(ra, int32(b))
				return
			}
			for q := b0; q < b1; q++ {
				if dx, dy := sx[q]-px, sy[q]-py; r.within(float64(dx*dx) + float64(dy*dy)) {
					ra = uf.union(ra, int32(b))
					return
				}
			}
		}
	}
	// Visit each pair of neighbouring cells once: from each cell, the two
	// above it in its column and the 5 cells of each of the next two
	// columns. Cells are sorted by (column, row), so each column's window
	// is found by a cursor that only moves forward.
	var cursor [3]int
	for c := range nc {
		ra = uf.find(int32(c))
		k := keyOf(c)
		col, row := k>>rowBits, k&rowMask
		for d := c + 1; d < nc && keyOf(d)>>rowBits == col && keyOf(d)&rowMask <= row+2; d++ {
			linkCells(c, d)
		}
		for dx := uint64(1); dx <= 2; dx++ {
			lo := (col+dx)<<rowBits | (row - 2)
			hi := (col+dx)<<rowBits | (row + 2)
			d := max(cursor[dx], c+1)
			for d < nc && keyOf(d) < lo {
				d++
			}
			cursor[dx] = d
			for ; d < nc && keyOf(d) <= hi; d++ {
				linkCells(c, d)
			}
		}
	}
	if rule.SameAsset {
		firstCell := map[string]int32{}
		for k, i := range idx {
			if a := reports[i].AssetID; a != "" {
				if f, ok := firstCell[a]; ok {
					uf.union(f, cellOf[k])
				} else {
					firstCell[a] = cellOf[k]
				}
			}
		}
	}

	// Name each cluster by its smallest ID: best[root cell] is a report.
	// The sort's buffers are free again.
	root, best := s.tmpPerm[:nc], perm[:nc]
	for c := range root {
		root[c] = uf.find(int32(c))
		best[c] = -1
	}
	if num := order.num; num != nil { // the common case, kept tight
		for k, i := range idx {
			r := root[cellOf[k]]
			if b := best[r]; b < 0 || num[i] < num[b] {
				best[r] = i
			}
		}
	} else {
		for k, i := range idx {
			r := root[cellOf[k]]
			if best[r] < 0 || order.less(i, best[r]) {
				best[r] = i
			}
		}
	}
	for k, i := range idx {
		name[i] = best[root[cellOf[k]]]
	}
	return true
}

// radius decides dist(a, b) <= eps from the squared distance, taking the
// square root only within a hair of the boundary: beyond 1e-14 relative,
// rounding cannot change the answer, so it is the same decision exactly.
type radius struct{ eps, lo, hi float64 }

func newRadius(eps float64) radius {
	e2 := eps * eps
	return radius{eps, e2 * (1 - 1e-14), e2 * (1 + 1e-14)}
}

// within reports whether sqrt(s) <= eps, s being dx*dx + dy*dy.
func (r radius) within(s float64) bool {
	switch {
	case s < r.lo:
		return true
	case s > r.hi:
		return false
	}
	return math.Sqrt(s) <= r.eps
}

// cellBox bounds the points of one cell.
type cellBox struct{ x0, x1, y0, y1 float64 }

const (
	reachSome = iota // some points of the box may lie within eps: measure
	reachNone        // no point of the box lies within eps
	reachAll         // every point of the box lies within eps
)

// reach tells how many of the box's points lie within eps of (px, py),
// from the nearest and farthest corners alone. It is exact, not merely
// conservative: the box's sides are coordinates of its points, and
// subtraction, squares, sum and square root all round monotonically, so
// dist to any point of the box as computed lies between the two corner
// distances as computed.
func (b cellBox) reach(px, py float64, r radius) int {
	var nx, ny float64 // to the nearest point of the box
	switch {
	case px < b.x0:
		nx = b.x0 - px
	case px > b.x1:
		nx = px - b.x1
	}
	switch {
	case py < b.y0:
		ny = b.y0 - py
	case py > b.y1:
		ny = py - b.y1
	}
	if !r.within(float64(nx*nx) + float64(ny*ny)) {
		return reachNone
	}
	fx, fy := max(px-b.x0, b.x1-px), max(py-b.y0, b.y1-py) // to the farthest
	if r.within(float64(fx*fx) + float64(fy*fy)) {
		return reachAll
	}
	return reachSome
}

// reachBox is reach for all the points of box a at once: reachNone when
// no pair across the boxes lies within eps, reachAll when every pair does.
// It is exact for the same reason as reach.
func (b cellBox) reachBox(a cellBox, r radius) int {
	var nx, ny float64 // the gap between the boxes
	switch {
	case a.x1 < b.x0:
		nx = b.x0 - a.x1
	case a.x0 > b.x1:
		nx = a.x0 - b.x1
	}
	switch {
	case a.y1 < b.y0:
		ny = b.y0 - a.y1
	case a.y0 > b.y1:
		ny = a.y0 - b.y1
	}
	if !r.within(float64(nx*nx) + float64(ny*ny)) {
		return reachNone
	}
	fx, fy := max(a.x1-b.x0, b.x1-a.x0), max(a.y1-b.y0, b.y1-a.y0) // the span
	if r.within(float64(fx*fx) + float64(fy*fy)) {
		return reachAll
	}
	return reachSome
}

// radixSort sorts keys ascending, permuting vals alongside: least
// significant digit first, 11 bits a pass, skipping digits all keys share.
// tk and tv are buffers as long as keys.
func radixSort(keys []uint64, vals []int32, tk []uint64, tv []int32) {
	n := len(keys)
	if n < 2 {
		return
	}
	var all uint64
	for _, k := range keys {
		all |= k
	}
	for shift := uint(0); shift < 64 && all>>shift != 0; shift += 11 {
		var count [2048]int
		for _, k := range keys {
			count[(k>>shift)&2047]++
		}
		if count[(keys[0]>>shift)&2047] == n {
			continue
		}
		sum := 0
		for d, c := range count {
			count[d], sum = sum, sum+c
		}
		for j, k := range keys {
			d := (k >> shift) & 2047
			tk[count[d]], tv[count[d]] = k, vals[j]
			count[d]++
		}
		copy(keys, tk)
		copy(vals, tv)
	}
}

// unionFind is a plain disjoint-set forest with union by size and path
// halving.
type unionFind struct{ parent, size []int32 }

// reset makes every element a set of its own.
func (u *unionFind) reset() {
	for i := range u.parent {
		u.parent[i], u.size[i] = int32(i), 1
	}
}

func (u *unionFind) find(i int32) int32 {
	for u.parent[i] != i {
		u.parent[i] = u.parent[u.parent[i]]
		i = u.parent[i]
	}
	return i
}

// union joins the sets of i and j and returns the new root.
func (u *unionFind) union(i, j int32) int32 {
	ri, rj := u.find(i), u.find(j)
	if ri == rj {
		return ri
	}
	if u.size[ri] < u.size[rj] {
		ri, rj = rj, ri
	}
	u.parent[rj] = ri
	u.size[ri] += u.size[rj]
	return ri
}
