package data

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// Request categories.
const (
	CatPothole          = "pothole"
	CatStreetlightOut   = "streetlight_out"
	CatGraffiti         = "graffiti"
	CatMissedCollection = "missed_collection"
	CatHydrantDamage    = "hydrant_damage"
	CatTreeDamage       = "tree_damage"
	CatNoiseBylaw       = "noise_bylaw"
	CatSidewalkRepair   = "sidewalk_repair"
	CatIllegalDumping   = "illegal_dumping"
	CatSnowRemoval      = "snow_removal"
)

// categories carries each category's annual weight (roughly the mix of a
// Québec city's 311 line), the asset type its requests are made next to,
// and a seasonal factor per month, January first.
var categories = [...]struct {
	name   string
	weight float64
	asset  string
	season [12]float64
}{
	{CatPothole, 14, "", [12]float64{1, 1, 2.2, 2.4, 2, 1.2, 1, 1, 0.9, 0.9, 0.9, 1}},
	{CatStreetlightOut, 11, AssetStreetlight, [12]float64{1.3, 1.3, 1.1, 1, 0.8, 0.7, 0.7, 0.8, 1, 1.1, 1.3, 1.4}},
	{CatGraffiti, 8, "", [12]float64{0.6, 0.6, 0.8, 1, 1.3, 1.3, 1.4, 1.4, 1.2, 1, 0.8, 0.6}},
	{CatMissedCollection, 17, "", [12]float64{1.2, 1, 1, 1, 1, 1, 1.1, 1, 1, 1, 1, 1.2}},
	{CatHydrantDamage, 2, AssetHydrant, [12]float64{1.4, 1.4, 1.2, 1, 0.9, 0.8, 0.8, 0.8, 0.8, 0.9, 1, 1.3}},
	{CatTreeDamage, 7, AssetTree, [12]float64{1, 1, 1, 0.8, 0.9, 1.5, 1.7, 1.7, 1.4, 1, 0.8, 1}},
	{CatNoiseBylaw, 10, "", [12]float64{0.6, 0.6, 0.7, 0.9, 1.3, 1.7, 1.8, 1.7, 1.3, 0.9, 0.7, 0.8}},
	{CatSidewalkRepair, 7, "", [12]float64{0.5, 0.5, 0.8, 1.3, 1.4, 1.3, 1.2, 1.2, 1.3, 1.2, 0.9, 0.5}},
	// Moving day (1 July) fills the kerbs with furniture.
	{CatIllegalDumping, 9, "", [12]float64{0.7, 0.7, 0.8, 1, 1.2, 1.3, 2.2, 1.2, 1, 1, 0.9, 0.8}},
	{CatSnowRemoval, 15, "", [12]float64{3, 3, 1.5, 0.2, 0, 0, 0, 0, 0, 0, 1, 2.6}},
}

// Relative request volume by local hour: residents report while awake,
// noise complaints come at night.
var (
	dayHours   = [24]float64{0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.5, 1, 1.6, 1.9, 2, 1.9, 1.7, 1.9, 1.9, 1.8, 1.7, 1.5, 1.3, 1.1, 0.9, 0.8, 0.6, 0.4}
	nightHours = [24]float64{1.8, 1.6, 1.2, 0.8, 0.4, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.3, 0.3, 0.3, 0.3, 0.4, 0.4, 0.5, 0.6, 0.8, 1, 1.3, 1.7, 1.9}
)

const (
	// outsideShare of the freely placed (non-asset) requests are pins
	// dropped outside the municipality: about 0.5% of all requests.
	outsideShare = 0.006
	// centreShare of freely placed requests cluster downtown.
	centreShare   = 0.5
	weekendFactor = 0.7 // weekend volume relative to weekdays

	// Near-duplicates lie 2–40 m from the original, 0–10 days after it.
	dupMinM     = 2.0
	dupMaxM     = 40.0
	dupMaxDelay = 10 * secondsPerDay

	// Asset requests lie 5–25 m from their asset.
	assetMinM = 5.0
	assetMaxM = 25.0

	maxPlaceTries = 10_000 // rejection sampling gives up after this many draws
	placeRetries  = 8      // attempts to keep a derived point inside a ward
	secondsPerDay = int64(24 * 3600)
)

// rawReq is a request before sorting.
type rawReq struct {
	t     int64
	pt    orb.Point
	asset int32
	cat   uint8
}

// seqBits is the width of the generation index in a sort key; it breaks
// ties in time, so the order (and thus the IDs) never depends on the sort
// algorithm. 2^27 > maxRequests, and the time offset (< 2^32 s) fits above.
const seqBits = 27

type reqGen struct {
	cfg        CityConfig
	rng        *rand.Rand
	pj         proj
	loc        *locator
	bound      orb.Bound
	assets     []Asset
	typeRange  map[string][2]int // asset type → [lo, hi) in assets
	start, end int64
	tzOffset   int64 // seconds east of UTC, from the centre's longitude
	month      []uint8
	weekend    []bool
	catCum     [12][len(categories)]float64
	dayCum     [24]float64
	nightCum   [24]float64
}

// genRequests generates cfg.Requests requests: originals first, then
// near-duplicates of random originals, then all sorted by time and numbered.
func genRequests(cfg CityConfig, rng *rand.Rand, pj proj, loc *locator, bound orb.Bound, assets []Asset) ([]Request, error) {
	if cfg.Requests == 0 {
		return nil, nil
	}
	g := &reqGen{cfg: cfg, rng: rng, pj: pj, loc: loc, bound: bound, assets: assets}
	g.prepare()

	// Exactly round(N × share) duplicates, but always one original.
	nOrig := max(1, cfg.Requests-int(math.Round(float64(cfg.Requests)*cfg.DuplicateShare)))
	raw := make([]rawReq, cfg.Requests)
	for i := range nOrig {
		r, err := g.original()
		if err != nil {
			return nil, err
		}
		raw[i] = r
	}
	for i := nOrig; i < len(raw); i++ {
		raw[i] = g.duplicate(&raw[g.rng.IntN(nOrig)])
	}
	// Sort by time, ties by generation order, through packed integer keys:
	// several times faster than sorting the structs with a comparator.
	keys := make([]uint64, len(raw))
	for i, r := range raw {
		keys[i] = uint64(r.t-g.start)<<seqBits | uint64(i)
	}
	slices.Sort(keys)

	// All IDs live in one string: a million tiny allocations saved.
	var ids strings.Builder
	ids.Grow(len(raw) * digits(len(raw)))
	var num []byte
	for i := range raw {
		num = strconv.AppendInt(num[:0], int64(i+1), 10)
		ids.Write(num)
	}
	all := ids.String()
	out := make([]Request, len(raw))
	off := 0
	for i, k := range keys {
		r := &raw[k&(1<<seqBits-1)]
		n := digits(i + 1)
		out[i] = Request{
			ID:        all[off : off+n],
			Category:  categories[r.cat].name,
			CreatedAt: time.Unix(r.t, 0).UTC(),
			Point:     r.pt,
		}
		if r.asset >= 0 {
			out[i].AssetID = assets[r.asset].ID
		}
		off += n
	}
	return out, nil
}

func (g *reqGen) prepare() {
	g.typeRange = make(map[string][2]int)
	for i := 0; i < len(g.assets); {
		j := i
		for j < len(g.assets) && g.assets[j].Type == g.assets[i].Type {
			j++
		}
		g.typeRange[g.assets[i].Type] = [2]int{i, j}
		i = j
	}
	g.start = g.cfg.Start.Unix()
	g.end = g.start + int64(g.cfg.Days)*secondsPerDay
	g.tzOffset = int64(math.Round(g.cfg.Center[0]/15)) * 3600
	g.month = make([]uint8, g.cfg.Days)
	g.weekend = make([]bool, g.cfg.Days)
	for d := range g.cfg.Days {
		// Local day d reads, on the wall clock, as the date of Start + d.
		day := time.Unix(g.start+int64(d)*secondsPerDay+secondsPerDay/2, 0).UTC()
		g.month[d] = uint8(day.Month() - 1)
		g.weekend[d] = day.Weekday() == time.Saturday || day.Weekday() == time.Sunday
	}
	for m := range g.catCum {
		sum := 0.0
		for c, cat := range categories {
			sum += cat.weight * cat.season[m]
			g.catCum[m][c] = sum
		}
	}
	cum := func(w [24]float64) (c [24]float64) {
		sum := 0.0
		for h, x := range w {
			sum += x
			c[h] = sum
		}
		return c
	}
	g.dayCum, g.nightCum = cum(dayHours), cum(nightHours)
}

// pick returns the index drawn from cumulative weights.
func pick(rng *rand.Rand, cum []float64) int {
	x := rng.Float64() * cum[len(cum)-1]
	for i, c := range cum {
		if x < c {
			return i
		}
	}
	return len(cum) - 1
}

func (g *reqGen) original() (rawReq, error) {
	d := g.rng.IntN(g.cfg.Days)
	for g.weekend[d] && g.rng.Float64() > weekendFactor {
		d = g.rng.IntN(g.cfg.Days)
	}
	cat := pick(g.rng, g.catCum[g.month[d]][:])
	hours := g.dayCum[:]
	if categories[cat].name == CatNoiseBylaw {
		hours = g.nightCum[:]
	}
	local := int64(pick(g.rng, hours))*3600 + int64(g.rng.IntN(3600))
	t := g.start + int64(d)*secondsPerDay + local - g.tzOffset
	// The local day straddles the UTC span's ends: wrap around it.
	if t < g.start {
		t += g.end - g.start
	}
	if t >= g.end {
		t -= g.end - g.start
	}
	r := rawReq{t: t, cat: uint8(cat), asset: -1}

	if typ := categories[cat].asset; typ != "" {
		if rg, ok := g.typeRange[typ]; ok {
			a := rg[0] + g.rng.IntN(rg[1]-rg[0])
			r.asset = int32(a)
			r.pt = g.near(g.assets[a].Point, assetMinM, assetMaxM, true)
			return r, nil
		}
	}
	var err error
	if g.rng.Float64() < outsideShare {
		r.pt, err = g.outsidePoint()
	} else {
		r.pt, err = g.insidePoint()
	}
	return r, err
}

// near returns a point minM–maxM metres from p, retrying a few times to
// stay inside a ward when inside is set.
func (g *reqGen) near(p orb.Point, minM, maxM float64, inside bool) orb.Point {
	var q orb.Point
	for range placeRetries {
		th := 2 * math.Pi * g.rng.Float64()
		d := minM + (maxM-minM)*g.rng.Float64()
		q = g.pj.offset(p, d*math.Cos(th), d*math.Sin(th))
		if !inside || g.loc.locate(q) >= 0 {
			break
		}
	}
	return q
}

func (g *reqGen) duplicate(orig *rawReq) rawReq {
	r := rawReq{cat: orig.cat, asset: orig.asset}
	last := min(orig.t+dupMaxDelay, g.end-1)
	r.t = orig.t + g.rng.Int64N(last-orig.t+1)
	inside := g.loc.locate(orig.pt) >= 0
	if orig.asset >= 0 {
		// A second resident reports the same broken light: near the same
		// asset, and near the first report.
		a := g.assets[orig.asset].Point
		for range 4 * placeRetries {
			q := g.near(a, assetMinM, assetMaxM, inside)
			if d := g.metresBetween(q, orig.pt); d >= dupMinM && d <= dupMaxM {
				r.pt = q
				return r
			}
		}
	}
	r.pt = g.near(orig.pt, dupMinM, dupMaxM, inside)
	return r
}

func (g *reqGen) metresBetween(a, b orb.Point) float64 {
	return math.Hypot((a[0]-b[0])*g.pj.mLon, (a[1]-b[1])*g.pj.mLat)
}

// insidePoint draws a point in some ward: half uniform over the city, half
// clustered downtown where more people live and walk.
func (g *reqGen) insidePoint() (orb.Point, error) {
	c := g.bound.Center()
	sx, sy := g.bound.Max[0]-g.bound.Min[0], g.bound.Max[1]-g.bound.Min[1]
	for range maxPlaceTries {
		var p orb.Point
		if g.rng.Float64() < centreShare {
			p = orb.Point{c[0] + 0.2*sx*g.rng.NormFloat64(), c[1] + 0.2*sy*g.rng.NormFloat64()}
		} else {
			p = orb.Point{g.bound.Min[0] + sx*g.rng.Float64(), g.bound.Min[1] + sy*g.rng.Float64()}
		}
		p = orb.Point{round7(p[0]), round7(p[1])}
		if g.loc.locate(p) >= 0 {
			return p, nil
		}
	}
	return orb.Point{}, errors.New("could not place a request inside the wards")
}

// outsidePoint draws a point near the city but in no ward: beyond the
// jagged edge, in the lake or in the channel off the island.
func (g *reqGen) outsidePoint() (orb.Point, error) {
	sx, sy := g.bound.Max[0]-g.bound.Min[0], g.bound.Max[1]-g.bound.Min[1]
	for range maxPlaceTries {
		p := orb.Point{
			round7(g.bound.Min[0] - 0.05*sx + 1.1*sx*g.rng.Float64()),
			round7(g.bound.Min[1] - 0.05*sy + 1.1*sy*g.rng.Float64()),
		}
		if g.loc.locate(p) < 0 {
			return p, nil
		}
	}
	return orb.Point{}, errors.New("could not place a request outside the wards")
}

func digits(n int) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}
