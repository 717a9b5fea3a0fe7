package requests

import (
	"math"
	"slices"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
)

// maxLockCells is the most grid cells one creation locks; a query whose
// bound spans more (a huge distance, or near a pole) locks its whole group.
const maxLockCells = 16

// minLockCellM is the smallest grid cell, in metres of latitude: below it
// the locks would only multiply.
const minLockCellM = 100

// LockCellDeg is the side in degrees of the lock grid for a group of
// categories whose largest duplicate distance is maxDistanceM: a power of
// two at least twice that distance at 60° of latitude, so a query's bound
// overlaps at most 2×2 cells up to 60° north or south.
func LockCellDeg(maxDistanceM float64) float64 {
	m := max(maxDistanceM, minLockCellM)
	// Twice the distance, in degrees of longitude at 60°: the width of a
	// buffer of m metres there (geo's one local projection).
	b := geo.NewRuler(60).Buffer(orb.Point{0, 60}, m)
	deg := b.Max[0] - b.Min[0]
	return math.Exp2(math.Ceil(math.Log2(deg)))
}

// ClusterLocks names the locks that serialise nr's cluster assignment with
// every other creation it could pick or be picked by. A store takes group
// first, exclusively when cells is nil and shared otherwise, then each of
// cells exclusively, in order (they are sorted, so two creations never wait
// for each other in a cycle), all until commit.
//
// Why cells suffice: a creation that picks another request either finds it
// inside its Bound, and so locks the cell holding that request's point,
// which the other creation locks too (its own point lies in its own
// Bound); or names the same asset, whose lock both take. Two creations far
// apart share no lock and do not wait for each other. A creation locking
// its whole group excludes every other one of the group, which holds the
// group lock shared. Nothing to lock (no cluster query): group is "".
func (nr NewRequest) ClusterLocks() (group string, cells []string) {
	q := nr.Cluster
	if q == nil {
		return "", nil
	}
	group = q.LockKey()
	if q.LockCellDeg <= 0 || math.IsNaN(q.LockCellDeg) || math.IsInf(q.LockCellDeg, 0) {
		return group, nil
	}
	// Widened a little: Pick measures distance at the pair's mean latitude
	// and the spatial prefilters round outward, so a candidate can lie a
	// hair outside Bound.
	b := q.Bound.Extend(q.Point)
	padX := (b.Max[0]-b.Min[0])*0.01 + 1e-9
	padY := (b.Max[1]-b.Min[1])*0.01 + 1e-9
	c := q.LockCellDeg
	x0, x1 := math.Floor((b.Min[0]-padX)/c), math.Floor((b.Max[0]+padX)/c)
	y0, y1 := math.Floor((b.Min[1]-padY)/c), math.Floor((b.Max[1]+padY)/c)
	if (x1-x0+1)*(y1-y0+1) > maxLockCells || math.IsNaN(x0+x1+y0+y1) {
		return group, nil
	}
	prefix := group + "#" + strconv.FormatFloat(c, 'g', -1, 64) + "/"
	for x := x0; x <= x1; x++ {
		for y := y0; y <= y1; y++ {
			cells = append(cells, prefix+strconv.FormatFloat(x, 'f', 0, 64)+","+strconv.FormatFloat(y, 'f', 0, 64))
		}
	}
	// The request's own asset, whether or not its rule matches by asset:
	// another creation of the group may match it by that asset.
	r := nr.Request
	if r.AssetID != "" {
		cells = append(cells, group+"#asset/"+r.AssetLayer+"/"+r.AssetID)
	}
	if q.AssetID != "" && (q.AssetID != r.AssetID || q.AssetLayer != r.AssetLayer) {
		cells = append(cells, group+"#asset/"+q.AssetLayer+"/"+q.AssetID)
	}
	slices.Sort(cells)
	return group, cells
}
