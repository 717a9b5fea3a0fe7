package tiles

import (
	"slices"
	"strconv"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// Request is what a tile shows of a 311 request: no description, address,
// attributes or anything about the reporter.
type Request struct {
	ID          string // service_request_id
	ServiceCode string
	Status      string // new, acknowledged, in_progress, waiting_on_resident, closed or reopened
	ClusterID   string // "" counts as the request's own ID
	WardID      string
	Point       orb.Point // lon/lat
	RequestedAt time.Time
	// Overdue: past its SLA due time; EscalationLevel: escalation levels
	// fired. A cluster shows whether any member is overdue and its
	// members' highest level.
	Overdue         bool
	EscalationLevel int
}

// maxLevel bounds the levels a cluster counts (higher ones count as it).
const maxLevel = 15

// statusRank orders statuses by progress; a cluster shows its least
// advanced request's status. Unknown statuses sort last.
func statusRank(s string) int {
	if i := slices.Index(statusOrder[:], s); i >= 0 {
		return i
	}
	return len(statusOrder)
}

// statusOrder is the statuses by progress: a reopened request is back
// near the start of the work.
var statusOrder = [6]string{"new", "reopened", "acknowledged", "in_progress", "waiting_on_resident", "closed"}

// counters numbers the values of the three counted properties (0:
// service code, 1: status, 2: ward) with one sequence of ids, so a cell
// keeps its counts as a short list of (id, count) pairs: a deep cell of
// one request costs three pairs, not three slices as long as the lists of
// values.
type counters struct {
	idx   map[ctrKey]uint32
	names []ctrKey
	label []string // the property of the count: service_<code>, status_<status>, "" for wards
}

type ctrKey struct {
	d    int
	name string
}

func (c *counters) id(d int, name string) uint32 {
	k := ctrKey{d, name}
	if i, ok := c.idx[k]; ok {
		return i
	}
	if c.idx == nil {
		c.idx = map[ctrKey]uint32{}
	}
	i := uint32(len(c.names))
	c.idx[k] = i
	c.names = append(c.names, k)
	c.label = append(c.label, [3]string{"service_", "status_", ""}[d])
	if c.label[i] != "" {
		c.label[i] += name
	}
	return i
}

// counts is one aggregation cell.
type counts struct {
	n      int32 // requests or clusters
	reqs   int32 // clusters layer: requests in those clusters
	su, sv float64
	by     []tally // non-zero counts per counter id, in no order
}

type tally struct {
	ctr uint32
	n   int32
}

func (c *counts) count(ctr uint32, sign int32) {
	for i := range c.by {
		if c.by[i].ctr == ctr {
			if c.by[i].n += sign; c.by[i].n == 0 {
				c.by[i] = c.by[len(c.by)-1]
				c.by = c.by[:len(c.by)-1]
			}
			return
		}
	}
	if sign > 0 {
		c.by = append(c.by, tally{ctr, sign})
	}
}

// pyramid holds the cells of every zoom that may aggregate: level z is the
// grid of cells of zoom z+cellShift, 16 × 16 per tile of zoom z.
type pyramid [MaxAggZoom + 1]map[uint64]*counts

func newPyramid() *pyramid {
	var p pyramid
	for i := range p {
		p[i] = map[uint64]*counts{}
	}
	return &p
}

// item is what one request or cluster adds to the cells.
type item struct {
	m    merc
	keys [3]uint32 // counter ids of its service code, status and ward
	reqs int32
}

// topCell is the zoom of the finest cells; coarser cells are its
// coordinates shifted right.
const topCell = MaxAggZoom + cellShift

func (p *pyramid) add(it item, sign int32) {
	x18, y18 := cellOf(it.m, topCell)
	for z := range p {
		shift := uint(topCell - (z + cellShift))
		k := cellKey(x18>>shift, y18>>shift)
		c := p[z][k]
		if c == nil {
			if sign < 0 {
				continue
			}
			c = &counts{by: make([]tally, 0, 4)}
			p[z][k] = c
		}
		c.n += sign
		c.reqs += sign * it.reqs
		c.su += float64(sign) * it.m.u
		c.sv += float64(sign) * it.m.v
		for _, ctr := range it.keys {
			c.count(ctr, sign)
		}
		if c.n <= 0 {
			delete(p[z], k)
		}
	}
}

type reqEntry struct {
	r      Request
	m      merc
	keys   [3]uint32 // counter ids
	bucket uint64    // its bucketZoom cell
	slot   int32     // its place in the bucket
	cl     *clusterEntry
}

func (e *reqEntry) setSlot(i int32) { e.slot = i }

type clusterEntry struct {
	id      string
	members []*reqEntry
	// Running summaries, so a cluster of thousands of requests costs O(1)
	// per change: sums of the members' points, members per status rank,
	// and the earliest member (recomputed only when it leaves).
	su, sv   float64
	byStatus [len(statusOrder) + 1]int32
	overdue  int32               // members overdue
	byLevel  [maxLevel + 1]int32 // members per escalation level
	first    *reqEntry
	placed   bool
	it       item // what it added to the cluster pyramid when placed
	bucket   uint64
	slot     int32
	fid      uint64
	hasFID   bool
}

func (cl *clusterEntry) setSlot(i int32) { cl.slot = i }

// requestKeys and clusterKeys are the property names of individual
// features, in the order of their vals.
func requestKeys() [nvals]string {
	return [nvals]string{"id", "service_code", "status", "cluster_id", "ward_id", "requested_at", "overdue", "escalation_level"}
}

func clusterKeys() [nvals]string {
	return [nvals]string{"cluster_id", "count", "service_code", "status", "ward_id", "requested_at", "overdue", "escalation_level"}
}

// nvals is the number of properties of an individual feature.
const nvals = 8

func boolVal(b bool) fval {
	if b {
		return fval{fBool, 1}
	}
	return fval{fBool, 0}
}

func levelOf(r Request) int { return min(max(r.EscalationLevel, 0), maxLevel) }

// requestIndex is the requests and clusters layers' data. It is not safe
// for concurrent use: Tiler guards it.
type requestIndex struct {
	byID     map[string]*reqEntry
	buckets  grid[*reqEntry]
	clusters map[string]*clusterEntry
	cbuckets grid[*clusterEntry]
	reqPyr   *pyramid
	clPyr    *pyramid
	ctrs     counters
	dict     valueDict
}

func newRequestIndex() *requestIndex {
	return &requestIndex{
		byID:     map[string]*reqEntry{},
		buckets:  grid[*reqEntry]{},
		clusters: map[string]*clusterEntry{},
		cbuckets: grid[*clusterEntry]{},
		reqPyr:   newPyramid(),
		clPyr:    newPyramid(),
	}
}

// spot is what a detail tile reads of one request or cluster. Spots are
// stored by value in their bucket, so a tile scans contiguous memory
// instead of chasing a pointer per feature (at zoom 16 that was most of a
// tile's time).
type spot struct {
	m      merc
	fid    uint64 // MVT feature id (hasFID): the numeric ID
	hasFID bool
	vals   [nvals]fval // in the order of requestKeys or clusterKeys
}

// bucket holds the spots of one bucketZoom cell and, in step, their
// owners (which know their slot, so removal is a swap with the last).
type bucket[T interface{ setSlot(int32) }] struct {
	spots  []spot
	owners []T
}

type grid[T interface{ setSlot(int32) }] map[uint64]*bucket[T]

func (g grid[T]) add(k uint64, s spot, o T) {
	b := g[k]
	if b == nil {
		b = &bucket[T]{}
		g[k] = b
	}
	o.setSlot(int32(len(b.spots)))
	b.spots = append(b.spots, s)
	b.owners = append(b.owners, o)
}

// remove takes the spot at slot out of bucket k and returns it.
func (g grid[T]) remove(k uint64, slot int32) spot {
	b := g[k]
	s := b.spots[slot]
	last := int32(len(b.spots) - 1)
	if slot != last {
		b.spots[slot], b.owners[slot] = b.spots[last], b.owners[last]
		b.owners[slot].setSlot(slot)
	}
	var zero T
	b.owners[last] = zero
	b.spots, b.owners = b.spots[:last], b.owners[:last]
	if last == 0 {
		delete(g, k)
	}
	return s
}

// fval is a property value of an individual feature as a spot stores it:
// 16 bytes without pointers, so the GC never scans the spots and a tile
// numbers its values by these bytes without reading any string.
type fval [2]uint64 // kind, payload

const (
	fInt     = iota // payload: the int64
	fNumStr         // a string, the decimal digits of payload (IDs)
	fDictStr        // a string, valueDict.strs[payload]
	fCtrName        // a string, the name of counter id payload (cells)
	fBool           // payload: 1 for true
)

// valueDict interns the strings of individual features that are not
// plain numbers (categories, statuses, wards, any non-numeric ID), counted
// by the spots using them so ids of strings no longer used are recycled.
type valueDict struct {
	idx  map[string]uint32
	strs []string
	refs []int32
	free []uint32
}

func (d *valueDict) ref(s string) uint32 {
	if id, ok := d.idx[s]; ok {
		d.refs[id]++
		return id
	}
	if d.idx == nil {
		d.idx = map[string]uint32{}
	}
	var id uint32
	if n := len(d.free); n > 0 {
		id, d.free = d.free[n-1], d.free[:n-1]
		d.strs[id], d.refs[id] = s, 1
	} else {
		id = uint32(len(d.strs))
		d.strs, d.refs = append(d.strs, s), append(d.refs, 1)
	}
	d.idx[s] = id
	return id
}

// str returns the fval of a string: digits with no leading zero are kept
// as their number, anything else is interned.
func (d *valueDict) str(s string) fval {
	var buf [20]byte
	if n, ok := featureID(s); ok && string(strconv.AppendUint(buf[:0], n, 10)) == s {
		return fval{fNumStr, n}
	}
	return fval{fDictStr, uint64(d.ref(s))}
}

func intVal(i int64) fval { return fval{fInt, uint64(i)} }

// release drops the references of a spot's values.
func (d *valueDict) release(vs [nvals]fval) {
	for _, v := range vs {
		if v[0] != fDictStr {
			continue
		}
		if id := uint32(v[1]); d.refs[id] > 1 {
			d.refs[id]--
		} else {
			delete(d.idx, d.strs[id])
			d.strs[id], d.refs[id] = "", 0
			d.free = append(d.free, id)
		}
	}
}

func featureID(id string) (uint64, bool) {
	n, err := strconv.ParseUint(id, 10, 64)
	return n, err == nil
}

func (ix *requestIndex) put(r Request) { ix.insert(r, false) }

// insert adds a request; in bulk, clusters are left unplaced (the caller
// places them all once at the end).
func (ix *requestIndex) insert(r Request, bulk bool) {
	if r.ClusterID == "" {
		r.ClusterID = r.ID
	}
	ix.remove(r.ID)
	e := &reqEntry{r: r, m: toMerc(r.Point)}
	e.keys = [3]uint32{ix.ctrs.id(0, r.ServiceCode), ix.ctrs.id(1, r.Status), ix.ctrs.id(2, r.WardID)}
	d := &ix.dict
	sp := spot{m: e.m, vals: [nvals]fval{d.str(r.ID), d.str(r.ServiceCode), d.str(r.Status), d.str(r.ClusterID),
		d.str(r.WardID), intVal(r.RequestedAt.Unix()), boolVal(r.Overdue), intVal(int64(levelOf(r)))}}
	sp.fid, sp.hasFID = featureID(r.ID)
	e.bucket = cellKey(cellOf(e.m, bucketZoom))
	ix.byID[r.ID] = e
	ix.buckets.add(e.bucket, sp, e)
	ix.reqPyr.add(item{m: e.m, keys: e.keys, reqs: 1}, 1)

	cl := ix.clusters[r.ClusterID]
	if cl == nil {
		cl = &clusterEntry{id: r.ClusterID}
		cl.fid, cl.hasFID = featureID(r.ClusterID)
		ix.clusters[r.ClusterID] = cl
	}
	if !bulk {
		ix.unplace(cl)
	}
	cl.members = append(cl.members, e)
	cl.su += e.m.u
	cl.sv += e.m.v
	cl.byStatus[statusRank(r.Status)]++
	cl.byLevel[levelOf(r)]++
	if r.Overdue {
		cl.overdue++
	}
	if cl.first == nil || earlier(e, cl.first) {
		cl.first = e
	}
	e.cl = cl
	if !bulk {
		ix.place(cl)
	}
}

// load indexes many requests at once (SetRequests): each cluster is
// placed once instead of once per member.
func (ix *requestIndex) load(rs []Request) {
	for _, r := range rs {
		ix.insert(r, true)
	}
	for _, cl := range ix.clusters {
		ix.unplace(cl) // placed only when rs repeats an ID
		ix.place(cl)
	}
}

func (ix *requestIndex) remove(id string) bool {
	e := ix.byID[id]
	if e == nil {
		return false
	}
	delete(ix.byID, id)
	ix.dict.release(ix.buckets.remove(e.bucket, e.slot).vals)
	ix.reqPyr.add(item{m: e.m, keys: e.keys, reqs: 1}, -1)
	cl := e.cl
	ix.unplace(cl)
	cl.members = without(cl.members, e)
	cl.su -= e.m.u
	cl.sv -= e.m.v
	cl.byStatus[statusRank(e.r.Status)]--
	cl.byLevel[levelOf(e.r)]--
	if e.r.Overdue {
		cl.overdue--
	}
	if cl.first == e && len(cl.members) > 0 {
		cl.first = slices.MinFunc(cl.members, func(a, b *reqEntry) int {
			if earlier(a, b) {
				return -1
			}
			return 1
		})
	}
	if len(cl.members) == 0 {
		delete(ix.clusters, cl.id)
	} else {
		ix.place(cl)
	}
	return true
}

func without[T comparable](s []T, v T) []T {
	if i := slices.Index(s, v); i >= 0 {
		s[i] = s[len(s)-1]
		var zero T
		s[len(s)-1] = zero
		return s[:len(s)-1]
	}
	return s
}

// unplace takes a cluster out of the cluster pyramid and buckets before
// its members change.
func (ix *requestIndex) unplace(cl *clusterEntry) {
	if !cl.placed {
		return
	}
	ix.clPyr.add(cl.it, -1)
	ix.dict.release(ix.cbuckets.remove(cl.bucket, cl.slot).vals)
	cl.placed = false
}

func earlier(a, b *reqEntry) bool {
	return a.r.RequestedAt.Before(b.r.RequestedAt) || a.r.RequestedAt.Equal(b.r.RequestedAt) && a.r.ID < b.r.ID
}

// place puts a cluster, summarised from its running sums, back into the
// cluster pyramid and buckets.
func (ix *requestIndex) place(cl *clusterEntry) {
	first := cl.first
	least := first.r.Status
	for rank, n := range cl.byStatus {
		if n > 0 {
			if rank < len(statusOrder) {
				least = statusOrder[rank]
			}
			break
		}
	}
	n := float64(len(cl.members))
	cl.it = item{
		m:    merc{cl.su / n, cl.sv / n},
		keys: [3]uint32{first.keys[0], ix.ctrs.id(1, least), first.keys[2]},
		reqs: int32(len(cl.members)),
	}
	d := &ix.dict
	level := 0
	for l := maxLevel; l > 0; l-- {
		if cl.byLevel[l] > 0 {
			level = l
			break
		}
	}
	sp := spot{m: cl.it.m, fid: cl.fid, hasFID: cl.hasFID, vals: [nvals]fval{d.str(cl.id), intVal(int64(len(cl.members))),
		d.str(first.r.ServiceCode), d.str(least), d.str(first.r.WardID), intVal(first.r.RequestedAt.Unix()),
		boolVal(cl.overdue > 0), intVal(int64(level))}}
	cl.bucket = cellKey(cellOf(cl.it.m, bucketZoom))
	ix.cbuckets.add(cl.bucket, sp, cl)
	ix.clPyr.add(cl.it, 1)
	cl.placed = true
}

// aggregated reports whether a tile of the requests (clusters false) or
// clusters layer is cells rather than individual features: always below
// DetailZoom, and up to MaxAggZoom when the tile holds more than
// MaxDetailFeatures of them.
func (ix *requestIndex) aggregated(t maptile.Tile, clusters bool) bool {
	switch {
	case t.Z < DetailZoom:
		return true
	case t.Z > MaxAggZoom:
		return false
	}
	// Level z-cellShift of the pyramid has one cell per tile of zoom z.
	p := ix.reqPyr
	if clusters {
		p = ix.clPyr
	}
	c := p[t.Z-cellShift][cellKey(t.X, t.Y)]
	return c != nil && c.n > MaxDetailFeatures
}

// detailRequests encodes one feature per request in the buffered tile.
func (ix *requestIndex) detailRequests(w *pointWriter, t maptile.Tile) []byte {
	return detail(ix, w, ix.buckets, requestKeys(), t, LayerRequests)
}

// detailClusters encodes one feature per cluster in the buffered tile.
func (ix *requestIndex) detailClusters(w *pointWriter, t maptile.Tile) []byte {
	return detail(ix, w, ix.cbuckets, clusterKeys(), t, LayerClusters)
}

func detail[T interface{ setSlot(int32) }](ix *requestIndex, w *pointWriter, g grid[T], names [nvals]string, t maptile.Tile, layer string) []byte {
	var keys [nvals]uint32
	for i, k := range names {
		keys[i] = w.key(k)
	}
	w.dict = &ix.dict
	f := frameOf(t)
	x0, y0, x1, y1 := buckets(t)
	for by := y0; by <= y1; by++ {
		for bx := x0; bx <= x1; bx++ {
			b := g[cellKey(bx, by)]
			if b == nil {
				continue
			}
			for i := range b.spots {
				sp := &b.spots[i]
				if p := f.point(sp.m); inBuffer(p) {
					w.begin()
					for j, v := range sp.vals {
						w.prop(keys[j], v)
					}
					w.end(sp.fid, sp.hasFID, p[0], p[1])
				}
			}
		}
	}
	return w.tile(layer)
}

// cells encodes the aggregated features of a tile below DetailZoom.
func (ix *requestIndex) cells(w *pointWriter, p *pyramid, t maptile.Tile, layer string) []byte {
	w.ctrs = &ix.ctrs
	kAggregate, kCount, kRequests := w.key("aggregate"), w.key("count"), uint32(0)
	clusters := layer == LayerClusters
	if clusters {
		kRequests = w.key("requests")
	}
	var ctrKeys []uint32 // per counter id: its key in this tile, plus one (0: none yet)
	mainKeys := [3]uint32{w.key("service_code"), w.key("status"), w.key("ward_id")}
	f := frameOf(t)
	level := p[t.Z]
	const side = 1 << cellShift
	for cy := t.Y << cellShift; cy < (t.Y<<cellShift)+side; cy++ {
		for cx := t.X << cellShift; cx < (t.X<<cellShift)+side; cx++ {
			c := level[cellKey(cx, cy)]
			if c == nil {
				continue
			}
			w.begin()
			w.prop(kAggregate, fval{fBool, 1})
			w.prop(kCount, intVal(int64(c.n)))
			if clusters {
				w.prop(kRequests, intVal(int64(c.reqs)))
			}
			// The most common value of each property names the cell; a
			// tie goes to the value seen first by the index.
			best, bestN := [3]uint32{}, [3]int32{}
			for _, tl := range c.by {
				if tl.n <= 0 {
					continue
				}
				if lab := ix.ctrs.label[tl.ctr]; lab != "" {
					for len(ctrKeys) <= int(tl.ctr) {
						ctrKeys = append(ctrKeys, 0)
					}
					if ctrKeys[tl.ctr] == 0 {
						ctrKeys[tl.ctr] = w.key(lab) + 1
					}
					w.prop(ctrKeys[tl.ctr]-1, intVal(int64(tl.n)))
				}
				d := ix.ctrs.names[tl.ctr].d
				if tl.n > bestN[d] || tl.n == bestN[d] && tl.ctr < best[d] {
					best[d], bestN[d] = tl.ctr, tl.n
				}
			}
			for d, n := range bestN {
				if n > 0 {
					w.prop(mainKeys[d], fval{fCtrName, uint64(best[d])})
				}
			}
			n := float64(c.n)
			pt := f.point(merc{c.su / n, c.sv / n})
			w.end(0, false, pt[0], pt[1])
		}
	}
	return w.tile(layer)
}
