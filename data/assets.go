package data

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// Asset types, in the order they appear in City.Assets and assets.csv.
const (
	AssetStreetlight = "streetlight"
	AssetHydrant     = "hydrant"
	AssetCatchBasin  = "catch_basin"
	AssetSign        = "sign"
	AssetTree        = "tree"
)

// Indices into assetKinds.
const (
	kindStreetlight = iota
	kindHydrant
	kindCatchBasin
	kindSign
	kindTree
)

var assetKinds = [...]struct{ typ, prefix string }{
	kindStreetlight: {AssetStreetlight, "SL"},
	kindHydrant:     {AssetHydrant, "HY"},
	kindCatchBasin:  {AssetCatchBasin, "CB"},
	kindSign:        {AssetSign, "SG"},
	kindTree:        {AssetTree, "TR"},
}

// Typical spacings along a street, in metres.
const (
	streetlightEveryM = 35
	hydrantEveryM     = 150
	catchBasinEveryM  = 90
	treeEveryM        = 20  // on the streets that have trees
	treeStreetShare   = 0.5 // share of local streets lined with trees
	arterialEvery     = 6   // every sixth street is an arterial, always built
)

// genAssets lays a street grid over the city, rotated by a random angle as
// most towns' grids are, and places assets along it. Local streets thin out
// from the centre to the outskirts; arterials run everywhere. Only assets
// inside a ward are kept (none in the lake or at sea).
func genAssets(cfg CityConfig, rng *rand.Rand, pj proj, loc *locator, bound orb.Bound) ([]Asset, []Street) {
	sp := cfg.StreetSpacingM
	alpha := (2*rng.Float64() - 1) * 0.3
	ca, sa := math.Cos(alpha), math.Sin(alpha)
	// toXY maps grid coordinates (u along "east-west" streets, v across)
	// to metres.
	toXY := func(u, v float64) mpt { return mpt{u*ca - v*sa, u*sa + v*ca} }

	lo, hi := pj.metres(bound.Min), pj.metres(bound.Max)
	umin, umax, vmin, vmax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, p := range [4]mpt{lo, hi, {lo.x, hi.y}, {hi.x, lo.y}} {
		u, v := p.x*ca+p.y*sa, -p.x*sa+p.y*ca
		umin, umax = min(umin, u), max(umax, u)
		vmin, vmax = min(vmin, v), max(vmax, v)
	}
	k0, k1 := int(math.Floor(umin/sp)), int(math.Ceil(umax/sp))
	l0, l1 := int(math.Floor(vmin/sp)), int(math.Ceil(vmax/sp))
	nk, nl := k1-k0+1, l1-l0+1
	radius := math.Max(float64(cfg.WardsX), float64(cfg.WardsY)) * cfg.WardSizeM / 2

	byType := make([][]orb.Point, len(assetKinds))
	add := func(kind int, m mpt) {
		if p := pj.ll(m); loc.locate(p) >= 0 {
			byType[kind] = append(byType[kind], p)
		}
	}
	// degree counts built street segments at each intersection, for signs.
	degree := make([]uint8, nk*nl)

	var streets []Street
	street := func(a, b mpt, arterial bool) {
		if pa, pb := pj.ll(a), pj.ll(b); loc.locate(pa) >= 0 || loc.locate(pb) >= 0 {
			streets = append(streets, Street{Line: orb.LineString{pa, pb}, Arterial: arterial})
		}
		dx, dy := b.x-a.x, b.y-a.y
		length := math.Hypot(dx, dy)
		ux, uy := dx/length, dy/length
		at := func(along, side float64) mpt {
			return mpt{a.x + ux*along - uy*side, a.y + uy*along + ux*side}
		}
		side := func() float64 { return float64(2*rng.IntN(2) - 1) }
		n := max(1, int(math.Round(length/streetlightEveryM)))
		for q := range n {
			s := 7.0
			if q%2 == 1 {
				s = -7 // staggered on both sides
			}
			add(kindStreetlight, at((float64(q)+0.5)*length/float64(n), s))
		}
		for range poisson(rng, length/hydrantEveryM) {
			add(kindHydrant, at(rng.Float64()*length, 5*side()))
		}
		for range poisson(rng, length/catchBasinEveryM) {
			add(kindCatchBasin, at(rng.Float64()*length, 4.5*side()))
		}
		if !arterial && rng.Float64() < treeStreetShare {
			for range poisson(rng, length/treeEveryM) {
				add(kindTree, at(rng.Float64()*length, (8+3*rng.Float64())*side()))
			}
		}
	}
	built := func(mid mpt, arterial bool) bool {
		if arterial {
			return true
		}
		r := math.Hypot(mid.x, mid.y) / radius
		return rng.Float64() < max(0.1, min(1, 1.15-1.3*r*r))
	}
	for l := l0; l <= l1; l++ {
		for k := k0; k < k1; k++ {
			a, b := toXY(float64(k)*sp, float64(l)*sp), toXY(float64(k+1)*sp, float64(l)*sp)
			art := mod(l, arterialEvery) == 0
			if built(mpt{(a.x + b.x) / 2, (a.y + b.y) / 2}, art) {
				street(a, b, art)
				degree[(l-l0)*nk+k-k0]++
				degree[(l-l0)*nk+k+1-k0]++
			}
		}
	}
	for k := k0; k <= k1; k++ {
		for l := l0; l < l1; l++ {
			a, b := toXY(float64(k)*sp, float64(l)*sp), toXY(float64(k)*sp, float64(l+1)*sp)
			art := mod(k, arterialEvery) == 0
			if built(mpt{(a.x + b.x) / 2, (a.y + b.y) / 2}, art) {
				street(a, b, art)
				degree[(l-l0)*nk+k-k0]++
				degree[(l+1-l0)*nk+k-k0]++
			}
		}
	}
	// Signs at intersections: a street name sign at every corner where
	// streets meet, and a stop sign on the opposite corner of a crossing.
	for l := l0; l <= l1; l++ {
		for k := k0; k <= k1; k++ {
			d := degree[(l-l0)*nk+k-k0]
			if d < 2 {
				continue
			}
			u, v := float64(k)*sp, float64(l)*sp
			add(kindSign, toXY(u+6, v+6))
			if d >= 3 {
				add(kindSign, toXY(u-6, v-6))
			}
		}
	}

	// IDs like SL-000123, numbered per type; all of them share one backing
	// string to spare a hundred thousand small allocations.
	var ids strings.Builder
	var total int
	for _, pts := range byType {
		total += len(pts)
	}
	ids.Grow(total * 10)
	var num []byte
	for kind, pts := range byType {
		for i := range pts {
			ids.WriteString(assetKinds[kind].prefix)
			ids.WriteByte('-')
			num = strconv.AppendInt(num[:0], int64(i+1), 10)
			for range 6 - len(num) {
				ids.WriteByte('0')
			}
			ids.Write(num)
		}
	}
	all := ids.String()
	assets := make([]Asset, 0, total)
	off := 0
	for kind, pts := range byType {
		for i, p := range pts {
			n := len(assetKinds[kind].prefix) + 1 + max(6, digits(i+1))
			assets = append(assets, Asset{ID: all[off : off+n], Type: assetKinds[kind].typ, Point: p})
			off += n
		}
	}
	return assets, streets
}

// poisson draws a Poisson count with the given mean: Knuth's method for
// the small means of ordinary streets, a normal approximation for very
// long ones.
func poisson(rng *rand.Rand, mean float64) int {
	if mean > 30 {
		return max(0, int(math.Round(mean+math.Sqrt(mean)*rng.NormFloat64())))
	}
	limit, p, n := math.Exp(-mean), rng.Float64(), 0
	for p > limit {
		p *= rng.Float64()
		n++
	}
	return n
}

func mod(a, b int) int { return ((a % b) + b) % b }
