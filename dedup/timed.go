package dedup

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
)

// clusterTimed clusters reports idx, of partitions with a time window (or
// that the grid does not take), by feeding them to a timedClusterer in
// time order, ties by ID. name receives, for each, the report naming its
// cluster. The reports were checked by ClusterIn.
func clusterTimed(reports []Report, idx []int32, rules *Ruleset, pj geo.Projection, order idOrder, name []int32) {
	type item struct {
		t int64 // nanoseconds, as the clusterer compares them
		i int32
	}
	items := make([]item, len(idx))
	for k, i := range idx {
		items[k] = item{nanos(reports[i].CreatedAt), i}
	}
	slices.SortFunc(items, func(a, b item) int {
		if a.t != b.t {
			return cmp.Compare(a.t, b.t)
		}
		if order.less(a.i, b.i) {
			return -1
		}
		return 1 // IDs are unique
	})
	c := newTimedClusterer(rules, pj)
	for k, it := range items {
		c.add(reports[it.i])
		idx[k] = it.i // member k is report idx[k]
	}
	best := make([]int32, len(idx)) // root member → report naming it
	for k := range best {
		best[k] = -1
	}
	for k, i := range idx {
		r := c.uf.find(int32(k))
		if best[r] < 0 || order.less(i, best[r]) {
			best[r] = i
		}
	}
	for k, i := range idx {
		name[i] = best[c.uf.find(int32(k))]
	}
}

// timedClusterer links reports fed one at a time in CreatedAt order. Each
// partition keeps a geo.PointIndex of its members in projected metres, and
// members older than the window are dropped from it as time moves on, so
// a report costs what the reports near it in space and time cost, not
// what the whole history does. Clusters are kept with union-find, so a
// report linking several clusters merges them in near-constant time.
type timedClusterer struct {
	rules  *Ruleset
	pj     geo.Projection
	mem    []member
	uf     unionFind // over members
	parts  []*partition
	partOf map[string]int32 // partition key → index in parts
}

type member struct {
	x, y  float64 // projected metres
	t     int64   // CreatedAt as nanoseconds since 1970, saturated
	asset string
}

type partition struct {
	eps       float64
	win       int64 // nanoseconds; 0 = no limit
	sameAsset bool
	index     geo.PointIndex[int32]
	live      []int32 // indexed members in time order, from head
	head      int
	assets    map[string][]int32 // asset → indexed members naming it
}

// newTimedClusterer returns an empty clusterer measuring metres in pj.
func newTimedClusterer(rules *Ruleset, pj geo.Projection) *timedClusterer {
	return &timedClusterer{rules: rules, pj: pj, partOf: map[string]int32{}}
}

// add makes r the next member, linked to every indexed member of its
// partition within the distance, or naming the same asset when the rule
// says so. r must not be older than any report added before it.
func (c *timedClusterer) add(r Report) {
	p := c.parts[c.partition(r.Category)]
	t := nanos(r.CreatedAt)
	c.expire(p, t)

	xy := c.pj.ToMetres(r.Point)
	i := int32(len(c.mem))
	c.mem = append(c.mem, member{x: xy[0], y: xy[1], t: t, asset: r.AssetID})
	c.uf.parent, c.uf.size = append(c.uf.parent, i), append(c.uf.size, 1)
	// Every indexed member lies within the window: older ones expired.
	eps := p.eps
	box := orb.Bound{Min: orb.Point{xy[0] - eps, xy[1] - eps}, Max: orb.Point{xy[0] + eps, xy[1] + eps}}
	p.index.Search(box, func(m int32, at orb.Point) bool {
		if dist(xy, at) <= eps {
			c.uf.union(i, m)
		}
		return true
	})
	if p.sameAsset && r.AssetID != "" {
		for _, m := range p.assets[r.AssetID] {
			c.uf.union(i, m)
		}
		if p.assets == nil {
			p.assets = map[string][]int32{}
		}
		p.assets[r.AssetID] = append(p.assets[r.AssetID], i)
	}
	p.index.Insert(xy, i)
	p.live = append(p.live, i)
}

// partition returns the index of category's partition, creating it.
func (c *timedClusterer) partition(category string) int32 {
	key := c.rules.Partition(category)
	if pi, ok := c.partOf[key]; ok {
		return pi
	}
	r := c.rules.Rule(category)
	pi := int32(len(c.parts))
	c.parts = append(c.parts, &partition{eps: r.Distance, win: int64(r.Window), sameAsset: r.SameAsset})
	c.partOf[key] = pi
	return pi
}

// expire drops from p's index the members more than the window older than
// t, which neither a report of time t nor any later one links to.
func (c *timedClusterer) expire(p *partition, t int64) {
	if p.win == 0 {
		return
	}
	horizon := satSub(t, p.win)
	for p.head < len(p.live) {
		m := p.live[p.head]
		mm := &c.mem[m]
		if mm.t >= horizon {
			break // live is in time order
		}
		p.index.Delete(orb.Point{mm.x, mm.y}, m)
		if mm.asset != "" && p.assets != nil {
			list := slices.DeleteFunc(p.assets[mm.asset], func(x int32) bool { return x == m })
			if len(list) == 0 {
				delete(p.assets, mm.asset)
			} else {
				p.assets[mm.asset] = list
			}
		}
		p.head++
	}
	if p.head > 1024 && p.head*2 > len(p.live) {
		p.live = append(p.live[:0], p.live[p.head:]...)
		p.head = 0
	}
}

// dist is the Euclidean distance, computed as PostGIS computes it
// (sqrt(dx*dx + dy*dy)); the conversions forbid a fused multiply-add, so
// both sides round alike and agree even at the eps boundary.
func dist(a, b orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	return math.Sqrt(float64(dx*dx) + float64(dy*dy))
}

var unixEpoch = time.Unix(0, 0)

// nanos is t in nanoseconds since 1970, saturated outside 1678–2262 (where
// no window can tell two reports apart anyway).
func nanos(t time.Time) int64 { return int64(t.Sub(unixEpoch)) }

func satSub(a, b int64) int64 {
	if b > 0 && a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}
