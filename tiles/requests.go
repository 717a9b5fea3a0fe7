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
	Status      string // open, acknowledged, in_progress or closed
	ClusterID   string // "" counts as the request's own ID
	WardID      string
	Point       orb.Point // lon/lat
	RequestedAt time.Time
}

// statusRank orders statuses by progress; a cluster shows its least
// advanced request's status. Unknown statuses sort last.
func statusRank(s string) int {
	switch s {
	case "open":
		return 0
	case "acknowledged":
		return 1
	case "in_progress":
		return 2
	case "closed":
		return 3
	}
	return 4
}

// dim interns the values of one counted property (service code, status,
// ward), so a cell's counts are small slices instead of maps.
type dim struct {
	idx   map[string]int
	names []string
}

func (d *dim) id(s string) int {
	if i, ok := d.idx[s]; ok {
		return i
	}
	if d.idx == nil {
		d.idx = map[string]int{}
	}
	d.idx[s] = len(d.names)
	d.names = append(d.names, s)
	return len(d.names) - 1
}

// counts is one aggregation cell.
type counts struct {
	n      int32 // requests or clusters
	reqs   int32 // clusters layer: requests in those clusters
	su, sv float64
	by     [3][]int32 // by service, status and ward id
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
	keys [3]int
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
			c = &counts{}
			p[z][k] = c
		}
		c.n += sign
		c.reqs += sign * it.reqs
		c.su += float64(sign) * it.m.u
		c.sv += float64(sign) * it.m.v
		for d, i := range it.keys {
			for len(c.by[d]) <= i {
				c.by[d] = append(c.by[d], 0)
			}
			c.by[d][i] += sign
		}
		if c.n <= 0 {
			delete(p[z], k)
		}
	}
}

type reqEntry struct {
	r      Request
	m      merc
	keys   [3]int
	fid    uint64 // MVT feature id: the numeric ID (hasFID)
	hasFID bool
	vals   [6]pval // in the order of requestKeys
	bucket uint64
	cl     *clusterEntry
}

type clusterEntry struct {
	id      string
	members []*reqEntry
	// Running summaries, so a cluster of thousands of requests costs O(1)
	// per change: sums of the members' points, members per status rank,
	// and the earliest member (recomputed only when it leaves).
	su, sv   float64
	byStatus [5]int32
	first    *reqEntry
	placed   bool
	it       item // what it added to the cluster pyramid when placed
	bucket   uint64
	vals     [6]pval // in the order of clusterKeys
	fid      uint64
	hasFID   bool
}

// requestKeys and clusterKeys are the property names of individual
// features, in the order of their vals.
func requestKeys() [6]string {
	return [6]string{"id", "service_code", "status", "cluster_id", "ward_id", "requested_at"}
}

func clusterKeys() [6]string {
	return [6]string{"cluster_id", "count", "service_code", "status", "ward_id", "requested_at"}
}

// requestIndex is the requests and clusters layers' data. It is not safe
// for concurrent use: Tiler guards it.
type requestIndex struct {
	byID     map[string]*reqEntry
	buckets  map[uint64][]*reqEntry
	clusters map[string]*clusterEntry
	cbuckets map[uint64][]*clusterEntry
	reqPyr   *pyramid
	clPyr    *pyramid
	dims     [3]dim
}

func newRequestIndex() *requestIndex {
	return &requestIndex{
		byID:     map[string]*reqEntry{},
		buckets:  map[uint64][]*reqEntry{},
		clusters: map[string]*clusterEntry{},
		cbuckets: map[uint64][]*clusterEntry{},
		reqPyr:   newPyramid(),
		clPyr:    newPyramid(),
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
	e.fid, e.hasFID = featureID(r.ID)
	e.keys = [3]int{ix.dims[0].id(r.ServiceCode), ix.dims[1].id(r.Status), ix.dims[2].id(r.WardID)}
	e.vals = [6]pval{sval(r.ID), sval(r.ServiceCode), sval(r.Status), sval(r.ClusterID), sval(r.WardID), ival(r.RequestedAt.Unix())}
	e.bucket = cellKey(cellOf(e.m, bucketZoom))
	ix.byID[r.ID] = e
	ix.buckets[e.bucket] = append(ix.buckets[e.bucket], e)
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
	ix.buckets[e.bucket] = without(ix.buckets[e.bucket], e)
	if len(ix.buckets[e.bucket]) == 0 {
		delete(ix.buckets, e.bucket)
	}
	ix.reqPyr.add(item{m: e.m, keys: e.keys, reqs: 1}, -1)
	cl := e.cl
	ix.unplace(cl)
	cl.members = without(cl.members, e)
	cl.su -= e.m.u
	cl.sv -= e.m.v
	cl.byStatus[statusRank(e.r.Status)]--
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
	ix.cbuckets[cl.bucket] = without(ix.cbuckets[cl.bucket], cl)
	if len(ix.cbuckets[cl.bucket]) == 0 {
		delete(ix.cbuckets, cl.bucket)
	}
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
			if rank < 4 {
				least = [4]string{"open", "acknowledged", "in_progress", "closed"}[rank]
			}
			break
		}
	}
	n := float64(len(cl.members))
	cl.it = item{
		m:    merc{cl.su / n, cl.sv / n},
		keys: [3]int{first.keys[0], ix.dims[1].id(least), first.keys[2]},
		reqs: int32(len(cl.members)),
	}
	cl.vals = [6]pval{sval(cl.id), ival(int64(len(cl.members))), sval(first.r.ServiceCode), sval(least),
		sval(first.r.WardID), ival(first.r.RequestedAt.Unix())}
	cl.bucket = cellKey(cellOf(cl.it.m, bucketZoom))
	ix.cbuckets[cl.bucket] = append(ix.cbuckets[cl.bucket], cl)
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
	// The buckets inside the tile (at zoom 18, the one holding it).
	n := 0
	var x0, y0, x1, y1 uint32
	if t.Z <= bucketZoom {
		shift := bucketZoom - uint32(t.Z)
		x0, y0 = t.X<<shift, t.Y<<shift
		x1, y1 = x0+1<<shift-1, y0+1<<shift-1
	} else {
		shift := uint32(t.Z) - bucketZoom
		x0, y0, x1, y1 = t.X>>shift, t.Y>>shift, t.X>>shift, t.Y>>shift
	}
	for by := y0; by <= y1; by++ {
		for bx := x0; bx <= x1; bx++ {
			if clusters {
				n += len(ix.cbuckets[cellKey(bx, by)])
			} else {
				n += len(ix.buckets[cellKey(bx, by)])
			}
			if n > MaxDetailFeatures {
				return true
			}
		}
	}
	return false
}

// detailRequests encodes one feature per request in the buffered tile.
func (ix *requestIndex) detailRequests(t maptile.Tile) []byte {
	w := newPointWriter()
	var keys [6]uint32
	for i, k := range requestKeys() {
		keys[i] = w.key(k)
	}
	f := frameOf(t)
	x0, y0, x1, y1 := buckets(t)
	for by := y0; by <= y1; by++ {
		for bx := x0; bx <= x1; bx++ {
			for _, e := range ix.buckets[cellKey(bx, by)] {
				if p := f.point(e.m); inBuffer(p) {
					w.begin()
					for i, v := range e.vals {
						w.prop(keys[i], v)
					}
					w.end(e.fid, e.hasFID, p[0], p[1])
				}
			}
		}
	}
	return w.tile(LayerRequests)
}

// detailClusters encodes one feature per cluster in the buffered tile.
func (ix *requestIndex) detailClusters(t maptile.Tile) []byte {
	w := newPointWriter()
	var keys [6]uint32
	for i, k := range clusterKeys() {
		keys[i] = w.key(k)
	}
	f := frameOf(t)
	x0, y0, x1, y1 := buckets(t)
	for by := y0; by <= y1; by++ {
		for bx := x0; bx <= x1; bx++ {
			for _, cl := range ix.cbuckets[cellKey(bx, by)] {
				if p := f.point(cl.it.m); inBuffer(p) {
					w.begin()
					for i, v := range cl.vals {
						w.prop(keys[i], v)
					}
					w.end(cl.fid, cl.hasFID, p[0], p[1])
				}
			}
		}
	}
	return w.tile(LayerClusters)
}

// cells encodes the aggregated features of a tile below DetailZoom.
func (ix *requestIndex) cells(p *pyramid, t maptile.Tile, layer string) []byte {
	w := newPointWriter()
	kAggregate, kCount, kRequests := w.key("aggregate"), w.key("count"), uint32(0)
	clusters := layer == LayerClusters
	if clusters {
		kRequests = w.key("requests")
	}
	var dimKeys [3][]uint32 // per dim value: the key of its count (service_x, status_x)
	mainKeys := [3]uint32{w.key("service_code"), w.key("status"), w.key("ward_id")}
	prefixes := [3]string{"service_", "status_", ""}
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
			w.prop(kAggregate, pval{i: 1, kind: kBool})
			w.prop(kCount, ival(int64(c.n)))
			if clusters {
				w.prop(kRequests, ival(int64(c.reqs)))
			}
			for d := range c.by {
				best, bestN := -1, int32(0)
				for i, k := range c.by[d] {
					if k <= 0 {
						continue
					}
					if prefixes[d] != "" {
						for len(dimKeys[d]) <= i {
							dimKeys[d] = append(dimKeys[d], ^uint32(0))
						}
						if dimKeys[d][i] == ^uint32(0) {
							dimKeys[d][i] = w.key(prefixes[d] + ix.dims[d].names[i])
						}
						w.prop(dimKeys[d][i], ival(int64(k)))
					}
					if k > bestN {
						best, bestN = i, k
					}
				}
				if best >= 0 {
					w.prop(mainKeys[d], sval(ix.dims[d].names[best]))
				}
			}
			n := float64(c.n)
			pt := f.point(merc{c.su / n, c.sv / n})
			w.end(0, false, pt[0], pt[1])
		}
	}
	return w.tile(layer)
}
