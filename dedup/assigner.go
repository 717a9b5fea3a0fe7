package dedup

import (
	"errors"
	"fmt"
	"math"
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

// Outcome is what Assign did with a report.
type Outcome struct {
	// ClusterID is the cluster the report belongs to now: its smallest
	// member ID under CompareIDs.
	ClusterID string
	// Joined reports whether the report linked to one already assigned (it
	// is a duplicate); false means it started a cluster of its own.
	Joined bool
	// Absorbed lists, in CompareIDs order, the IDs of clusters that no
	// longer exist: clusters the report linked together, merged into
	// ClusterID, and a cluster renamed because the new report's ID sorts
	// before all its members. A store relabels their requests.
	Absorbed []string
	// Nearest is the linked report nearest to this one (ties: the smaller
	// ID), with its distance in metres; "" when Joined is false. It is the
	// report a resident is told theirs duplicates.
	Nearest  string
	Distance float64
}

// Lateness is how far behind the newest report seen a report may be
// created and still be assigned exactly as batch clustering would: members
// are dropped from the index only once they are older than the newest
// report by the window plus this margin. It covers clock skew between
// servers and intake queues, not back-filling history (use Cluster).
const Lateness = time.Hour

// Assigner clusters reports online, one at a time as they arrive. Each
// partition keeps a geo.PointIndex of its members in projected metres, and
// with a time window members older than the window are dropped from it as
// time moves on, so the cost of Assign depends on how many reports lie
// near the new one, not on history.
//
// Clusters are kept with union-find, so a report linking several clusters
// merges them in near-constant time. An Assigner is not safe for concurrent
// use; the service serialises assignment (per tenant and category).
//
// Reports dropped from the index stay known by ID (a couple of hundred
// bytes each), so staff operations can still name them; a server that runs
// for years rebuilds its Assigner with Restore from the store now and then
// rather than keep them all.
type Assigner struct {
	rules   *Ruleset
	pj      geo.Projection
	ids     []string
	mem     []member
	byID    map[string]int32 // report ID → member
	byName  map[string]int32 // cluster ID → root member
	parts   []*partition
	partOf  map[string]int32 // partition key → index in parts
	scratch []int32
	// batch is set inside Cluster, which checked the IDs and names the
	// clusters itself: the maps, names and anchors are skipped.
	batch bool
}

type member struct {
	x, y  float64 // projected metres
	t     int64   // CreatedAt as nanoseconds since 1970, saturated
	asset string
	part  int32
	// Union-find: parent links; at a root, size, the cluster's ID (its
	// smallest member ID, or the ID the store gave it), the anchor (first
	// member) and whether staff closed the cluster.
	parent, size, anchor int32
	name                 string
	closed               bool
	// next links the members of a cluster in a ring, so staff operations
	// can list them without a scan.
	next int32
}

type partition struct {
	key       string
	eps       float64
	win       int64 // nanoseconds; 0 = no limit
	sameAsset bool
	index     geo.PointIndex[int32]
	live      []int32 // indexed members in arrival order, from head
	head      int
	assets    map[string][]int32 // asset → indexed members naming it
	newest    int64
	seen      bool
}

// NewAssigner returns an empty Assigner measuring metres in pj, which
// should be tangent near the municipality's centre.
func NewAssigner(rules Rules, pj geo.Projection) (*Assigner, error) {
	rs, err := rules.Compile()
	if err != nil {
		return nil, err
	}
	return &Assigner{rules: rs, pj: pj, byID: map[string]int32{}, byName: map[string]int32{}, partOf: map[string]int32{}}, nil
}

// Len returns the number of reports assigned.
func (a *Assigner) Len() int { return len(a.ids) }

// Assign places r in a cluster: it joins every open cluster it links to
// (merging them when there are several) or starts a new one. It refuses an
// empty or already assigned ID and invalid coordinates.
func (a *Assigner) Assign(r Report) (Outcome, error) {
	l, err := a.link(r)
	if err != nil {
		return Outcome{}, err
	}
	var out Outcome
	if len(l.roots) > 0 {
		out.Joined = true
		out.Nearest, out.Distance = a.ids[l.nearest], l.dist
		for _, root := range l.roots {
			out.Absorbed = append(out.Absorbed, a.mem[root].name)
		}
	}
	i := a.insert(r, l.roots)
	out.ClusterID = a.mem[a.find(i)].name
	out.Absorbed = slices.DeleteFunc(out.Absorbed, func(id string) bool { return id == out.ClusterID })
	slices.SortFunc(out.Absorbed, CompareIDs)
	if len(out.Absorbed) == 0 {
		out.Absorbed = nil
	}
	return out, nil
}

// links is what a new report links to: the roots of the open clusters
// (scratch space, valid until the next call) and the nearest linked member.
type links struct {
	roots   []int32
	nearest int32
	dist    float64
}

// check refuses a report Assign or Restore cannot take. restoring is the
// cluster Restore puts r in; "" for Assign, to which a cluster already
// named after r (restored before r) means r was assigned before.
func (a *Assigner) check(r Report, restoring string) error {
	if r.ID == "" {
		return errors.New("report has an empty ID")
	}
	if !a.batch {
		_, dup := a.byID[r.ID]
		if _, named := a.byName[r.ID]; dup || named && restoring != r.ID {
			return fmt.Errorf("report %q is already assigned", r.ID)
		}
	}
	if err := geo.ValidatePoint(r.Point); err != nil {
		return geo.Named(err, fmt.Sprintf("report %q", r.ID))
	}
	return nil
}

// link validates r and finds what it links to.
func (a *Assigner) link(r Report) (links, error) {
	if err := a.check(r, ""); err != nil {
		return links{}, err
	}
	p := a.parts[a.partition(r.Category)]
	t := nanos(r.CreatedAt)
	a.expire(p, t)

	xy := a.pj.ToMetres(r.Point)
	l := links{roots: a.scratch[:0], nearest: -1}
	add := func(m int32, d float64) {
		root := a.find(m)
		if a.mem[root].closed {
			return
		}
		if l.nearest < 0 || d < l.dist || d == l.dist && CompareIDs(a.ids[m], a.ids[l.nearest]) < 0 {
			l.nearest, l.dist = m, d
		}
		if !slices.Contains(l.roots, root) {
			l.roots = append(l.roots, root)
		}
	}
	eps := p.eps
	box := orb.Bound{Min: orb.Point{xy[0] - eps, xy[1] - eps}, Max: orb.Point{xy[0] + eps, xy[1] + eps}}
	p.index.Search(box, func(m int32, at orb.Point) bool {
		if d := dist(xy, at); d <= eps && inWindow(t, a.mem[m].t, p.win) {
			add(m, d)
		}
		return true
	})
	if p.sameAsset && r.AssetID != "" {
		for _, m := range p.assets[r.AssetID] {
			if inWindow(t, a.mem[m].t, p.win) {
				add(m, dist(xy, orb.Point{a.mem[m].x, a.mem[m].y}))
			}
		}
	}
	a.scratch = l.roots
	return l, nil
}

// insert adds r as a member linked to roots and returns its index.
func (a *Assigner) insert(r Report, roots []int32) int32 {
	pi := a.partition(r.Category)
	p := a.parts[pi]
	i := int32(len(a.mem))
	xy := a.pj.ToMetres(r.Point)
	a.mem = append(a.mem, member{
		x: xy[0], y: xy[1], t: nanos(r.CreatedAt), asset: r.AssetID, part: pi,
		parent: i, size: 1, anchor: i, next: i,
	})
	a.ids = append(a.ids, r.ID)
	if !a.batch {
		a.byID[r.ID] = i
		a.mem[i].name = r.ID
		a.byName[r.ID] = i
	}
	for _, root := range roots {
		a.union(i, root)
	}
	p.index.Insert(xy, i)
	p.live = append(p.live, i)
	if p.sameAsset && r.AssetID != "" {
		if p.assets == nil {
			p.assets = map[string][]int32{}
		}
		p.assets[r.AssetID] = append(p.assets[r.AssetID], i)
	}
	return i
}

// partition returns the index of category's partition, creating it.
func (a *Assigner) partition(category string) int32 {
	key := a.rules.Partition(category)
	if pi, ok := a.partOf[key]; ok {
		return pi
	}
	r := a.rules.Rule(category)
	pi := int32(len(a.parts))
	a.parts = append(a.parts, &partition{key: key, eps: r.Distance, win: int64(r.Window), sameAsset: r.SameAsset})
	a.partOf[key] = pi
	return pi
}

// expire drops from p's index the members that no report arriving within
// Lateness of the newest can link to any more.
func (a *Assigner) expire(p *partition, t int64) {
	if p.win == 0 {
		return
	}
	if !p.seen || t > p.newest {
		p.newest, p.seen = t, true
	}
	horizon := satSub(satSub(p.newest, p.win), int64(Lateness))
	for p.head < len(p.live) {
		m := p.live[p.head]
		mm := &a.mem[m]
		if mm.t >= horizon {
			// Arrival order is close to time order: stop at the first live
			// one; a late straggler behind it is filtered by inWindow.
			break
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

func (a *Assigner) find(i int32) int32 {
	for a.mem[i].parent != i {
		gp := a.mem[a.mem[i].parent].parent
		a.mem[i].parent = gp // path halving
		i = gp
	}
	return i
}

// union joins the clusters of i and j and returns the new root. The result
// is closed only when both were (staff merging into a closed cluster
// reopens nothing by accident; Assign never links to a closed one).
func (a *Assigner) union(i, j int32) int32 {
	ri, rj := a.find(i), a.find(j)
	if ri == rj {
		return ri
	}
	if a.mem[ri].size < a.mem[rj].size {
		ri, rj = rj, ri
	}
	x, y := &a.mem[ri], &a.mem[rj]
	y.parent = ri
	x.size += y.size
	x.closed = x.closed && y.closed
	x.next, y.next = y.next, x.next // splice the two rings
	if a.batch {
		return ri
	}
	if a.before(y.anchor, x.anchor) {
		x.anchor = y.anchor
	}
	// The merged cluster keeps the smaller name.
	keep, drop := x.name, y.name
	if CompareIDs(drop, keep) < 0 {
		keep, drop = drop, keep
	}
	delete(a.byName, drop)
	x.name, y.name = keep, ""
	a.byName[keep] = ri
	return ri
}

// before orders members by CreatedAt, then ID: the order batch clustering
// processes them in, and the one that defines a cluster's anchor.
func (a *Assigner) before(i, j int32) bool {
	if a.mem[i].t != a.mem[j].t {
		return a.mem[i].t < a.mem[j].t
	}
	return CompareIDs(a.ids[i], a.ids[j]) < 0
}

// ClusterOf returns the ID of the cluster report id belongs to.
func (a *Assigner) ClusterOf(id string) (string, bool) {
	i, ok := a.byID[id]
	if !ok {
		return "", false
	}
	return a.mem[a.find(i)].name, true
}

// ClusterInfo describes one cluster.
type ClusterInfo struct {
	ID      string
	Anchor  string   // the first report: earliest CreatedAt, ties by ID
	Members []string // in CompareIDs order
	Closed  bool
}

// Info describes cluster clusterID.
func (a *Assigner) Info(clusterID string) (ClusterInfo, error) {
	root, err := a.clusterRoot(clusterID)
	if err != nil {
		return ClusterInfo{}, err
	}
	m := a.mem[root]
	return ClusterInfo{ID: clusterID, Anchor: a.ids[m.anchor], Members: a.members(root), Closed: m.closed}, nil
}

func (a *Assigner) members(root int32) []string {
	out := make([]string, 0, a.mem[root].size)
	for i := root; ; {
		out = append(out, a.ids[i])
		if i = a.mem[i].next; i == root {
			break
		}
	}
	slices.SortFunc(out, CompareIDs)
	return out
}

// clusterRoot returns the root of the cluster named clusterID.
func (a *Assigner) clusterRoot(clusterID string) (int32, error) {
	if root, ok := a.byName[clusterID]; ok {
		return root, nil
	}
	if i, ok := a.byID[clusterID]; ok {
		return 0, fmt.Errorf("no cluster %q: report %q belongs to cluster %q", clusterID, clusterID, a.mem[a.find(i)].name)
	}
	return 0, fmt.Errorf("no cluster %q", clusterID)
}

// rename gives the cluster at root the ID name.
func (a *Assigner) rename(root int32, name string) {
	if old := a.mem[root].name; a.byName[old] == root {
		delete(a.byName, old)
	}
	a.mem[root].name = name
	a.byName[name] = root
}

// Close marks a cluster closed (the problem is fixed): new reports no
// longer join it, even at the same spot, and start a new cluster instead.
func (a *Assigner) Close(clusterID string) error {
	root, err := a.clusterRoot(clusterID)
	if err != nil {
		return err
	}
	a.mem[root].closed = true
	return nil
}

// Merge makes clusters x and y one, as staff do when the rules missed a
// duplicate, and returns the merged cluster's ID (the smaller of the two).
func (a *Assigner) Merge(x, y string) (string, error) {
	rx, err := a.clusterRoot(x)
	if err != nil {
		return "", err
	}
	ry, err := a.clusterRoot(y)
	if err != nil {
		return "", err
	}
	if rx == ry {
		return x, nil
	}
	if a.mem[rx].part != a.mem[ry].part {
		return "", fmt.Errorf("clusters %q and %q are of categories that are not equivalent", x, y)
	}
	return a.mem[a.union(rx, ry)].name, nil
}

// Split moves reports ids out of cluster clusterID into a cluster of their
// own, as staff do when the rules joined two problems. It returns the IDs
// of the two clusters: the one formed by ids (its smallest ID) and the
// remainder, which keeps clusterID unless its report moved. Both keep the
// cluster's closed state. A later report linking both parts joins them
// again, as the rules say it should.
func (a *Assigner) Split(clusterID string, ids []string) (moved, rest string, err error) {
	root, err := a.clusterRoot(clusterID)
	if err != nil {
		return "", "", err
	}
	out := map[int32]bool{}
	for _, id := range ids {
		i, ok := a.byID[id]
		if !ok || a.find(i) != root {
			return "", "", fmt.Errorf("split %q: report %q is not in the cluster", clusterID, id)
		}
		out[i] = true
	}
	if len(out) == 0 || len(out) == int(a.mem[root].size) {
		return "", "", fmt.Errorf("split %q: need some but not all of its %d reports", clusterID, a.mem[root].size)
	}
	closed := a.mem[root].closed
	var all []int32
	for i := root; ; {
		all = append(all, i)
		if i = a.mem[i].next; i == root {
			break
		}
	}
	delete(a.byName, clusterID)
	for _, i := range all {
		m := &a.mem[i]
		m.parent, m.size, m.anchor, m.next, m.closed, m.name = i, 1, i, i, closed, a.ids[i]
	}
	var first [2]int32 // a member of the rest [0] and of the moved [1]
	var have [2]bool
	for _, i := range all {
		k := 0
		if out[i] {
			k = 1
		}
		if have[k] {
			a.union(first[k], i)
		} else {
			first[k], have[k] = i, true
		}
	}
	for _, i := range all {
		delete(a.byName, a.ids[i]) // the parts are named below
	}
	restRoot, movedRoot := a.find(first[0]), a.find(first[1])
	moved, rest = a.mem[movedRoot].name, a.mem[restRoot].name
	if moved != clusterID {
		// clusterID's report did not move (or is no longer held): the rest
		// keeps the name the store knows it by.
		rest = clusterID
	}
	a.rename(movedRoot, moved)
	a.rename(restRoot, rest)
	return moved, rest, nil
}

// Restore adds a report whose cluster was decided before, without applying
// the rules to it: requests loaded from the store when a server starts,
// or assigned meanwhile by another server. It joins cluster clusterID,
// which is created when unknown, and later reports link to it like to any
// member. Restoring the open requests created within each category's
// window, in time order, rebuilds an Assigner that goes on exactly as the
// one that assigned them (a test checks this).
func (a *Assigner) Restore(r Report, clusterID string) error {
	if err := a.check(r, clusterID); err != nil {
		return err
	}
	if clusterID == "" {
		return fmt.Errorf("restore %q: empty cluster ID", r.ID)
	}
	pi := a.partition(r.Category)
	root, exists := a.byName[clusterID]
	if exists && a.mem[root].part != pi {
		return fmt.Errorf("restore %q: cluster %q is of a category that is not equivalent", r.ID, clusterID)
	}
	a.expire(a.parts[pi], nanos(r.CreatedAt))
	var roots []int32
	if exists {
		roots = []int32{root}
	}
	i := a.insert(r, roots)
	a.rename(a.find(i), clusterID)
	return nil
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

// inWindow reports whether t and u are at most win apart (win 0: always).
func inWindow(t, u, win int64) bool {
	if win == 0 {
		return true
	}
	if t < u {
		t, u = u, t
	}
	return uint64(t)-uint64(u) <= uint64(win) // exact even if t-u overflows int64
}

func satSub(a, b int64) int64 {
	if b > 0 && a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}
