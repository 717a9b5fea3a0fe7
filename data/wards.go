package data

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/paulmach/orb"
)

// Shape constants, as fractions of the ward cell size S. They are chosen so
// that no two border polylines can cross (see jaggedBorder) and every hole
// stays clear of its cell's borders.
const (
	nodeJitter    = 0.10 // grid corners move up to ±0.10 S in x and y
	borderAmp     = 0.10 // a border strays at most 0.10 S from its chord
	borderSlope   = 0.35 // ...and within a cone of atan(0.35) ≈ 19° at each end
	holeRadius    = 0.08 // lakes and enclaves: mean radius 0.08 S (max 0.115 S)
	islandRadius  = 0.09 // offshore island: mean radius 0.09 S
	holeCentreOff = 0.05 // hole centres move up to ±0.05 S from the cell centre
)

// mpt is a point in local metres east/north of the city centre.
type mpt struct{ x, y float64 }

// proj is the local equirectangular projection around the city centre.
// It is accurate to well under a metre across a city, which is all the
// generator needs. It is the generator's own, independent of geo.Projection
// (the service's one flat projection) on purpose: the generator is a test
// oracle for geo, and the bundled sample must stay byte-identical whatever
// geo's constants become.
type proj struct {
	lon0, lat0 float64
	mLon, mLat float64 // metres per degree
}

func newProj(center orb.Point) proj {
	const mPerDegLat = 111_320
	return proj{
		lon0: center[0],
		lat0: center[1],
		mLon: mPerDegLat * math.Cos(center[1]*math.Pi/180),
		mLat: mPerDegLat,
	}
}

// round7 rounds to 1e-7 degree (~1 cm). Text written with the shortest
// representation then parses back to the identical float64.
func round7(v float64) float64 { return math.Round(v*1e7) / 1e7 }

func (p proj) ll(m mpt) orb.Point {
	return orb.Point{round7(p.lon0 + m.x/p.mLon), round7(p.lat0 + m.y/p.mLat)}
}

func (p proj) metres(pt orb.Point) mpt {
	return mpt{(pt[0] - p.lon0) * p.mLon, (pt[1] - p.lat0) * p.mLat}
}

// offset moves pt by dx metres east and dy metres north.
func (p proj) offset(pt orb.Point, dx, dy float64) orb.Point {
	return orb.Point{round7(pt[0] + dx/p.mLon), round7(pt[1] + dy/p.mLat)}
}

// genWards builds the ward partition. Every border between two cells is
// generated once and used forwards by one ward and reversed by the other,
// so shared borders are bitwise identical.
func genWards(cfg CityConfig, rng *rand.Rand, pj proj) []Ward {
	nx, ny, s := cfg.WardsX, cfg.WardsY, cfg.WardSizeM

	// Grid corners in metres, jittered so wards are irregular quadrilaterals.
	node := make([][]mpt, nx+1)
	nodeLL := make([][]orb.Point, nx+1)
	for i := range node {
		node[i] = make([]mpt, ny+1)
		nodeLL[i] = make([]orb.Point, ny+1)
		for j := range node[i] {
			node[i][j] = mpt{
				x: (float64(i)-float64(nx)/2)*s + (2*rng.Float64()-1)*nodeJitter*s,
				y: (float64(j)-float64(ny)/2)*s + (2*rng.Float64()-1)*nodeJitter*s,
			}
			nodeLL[i][j] = pj.ll(node[i][j])
		}
	}
	border := func(i0, j0, i1, j1 int) []orb.Point {
		line := make([]orb.Point, 0, cfg.VerticesPerSide+2)
		line = append(line, nodeLL[i0][j0])
		for _, m := range jaggedBorder(rng, node[i0][j0], node[i1][j1], cfg.VerticesPerSide, s) {
			line = append(line, pj.ll(m))
		}
		return append(line, nodeLL[i1][j1])
	}
	// h[i][j] runs east from corner (i,j); v[i][j] runs north from it.
	h := make([][][]orb.Point, nx)
	for i := range h {
		h[i] = make([][]orb.Point, ny+1)
		for j := range h[i] {
			h[i][j] = border(i, j, i+1, j)
		}
	}
	v := make([][][]orb.Point, nx+1)
	for i := range v {
		v[i] = make([][]orb.Point, ny)
		for j := range v[i] {
			v[i][j] = border(i, j, i, j+1)
		}
	}

	// Ward k (0-based) is cell (i, j), numbered in reading order from the
	// north-west corner, as a map reader would.
	n := nx * ny
	cellOf := func(k int) (i, j int) { return k % nx, ny - 1 - k/nx }
	polys := make([]orb.MultiPolygon, n)
	for k := range n {
		i, j := cellOf(k)
		// South side east, east side north, north side west, west side
		// south: counter-clockwise, as RFC 7946 wants outer rings.
		ring := make(orb.Ring, 0, 4*(cfg.VerticesPerSide+1)+1)
		ring = append(ring, h[i][j]...)
		ring = append(ring, v[i+1][j][1:]...)
		ring = appendReversed(ring, h[i][j+1][:len(h[i][j+1])-1])
		ring = appendReversed(ring, v[i][j][:len(v[i][j])-1])
		polys[k] = orb.MultiPolygon{orb.Polygon{ring}}
	}

	holeVerts := min(max(cfg.VerticesPerSide/2, 16), 4096)
	centre := func(k int) mpt {
		i, j := cellOf(k)
		c := mpt{
			(node[i][j].x + node[i+1][j].x + node[i+1][j+1].x + node[i][j+1].x) / 4,
			(node[i][j].y + node[i+1][j].y + node[i+1][j+1].y + node[i][j+1].y) / 4,
		}
		c.x += (2*rng.Float64() - 1) * holeCentreOff * s
		c.y += (2*rng.Float64() - 1) * holeCentreOff * s
		return c
	}

	// Lakes and enclaves each take a distinct host cell.
	nLakes := 1 + n/24
	nEnclaves := 0
	if n >= 2 {
		nEnclaves = min(1+(n-1)/16, n-nLakes)
	}
	hosts := rng.Perm(n)
	for _, k := range hosts[:nLakes] {
		// A lake is a hole that no ward fills: outside the municipality.
		lake := starRing(rng, pj, centre(k), holeRadius*s, holeVerts)
		polys[k][0] = append(polys[k][0], reversedRing(lake))
	}
	for _, k := range hosts[nLakes : nLakes+nEnclaves] {
		// The enclave is a hole in its host and, with the very same
		// coordinates, an island part of another ward.
		owner := (k + 1 + rng.IntN(n-1)) % n
		enclave := starRing(rng, pj, centre(k), holeRadius*s, holeVerts)
		polys[k][0] = append(polys[k][0], reversedRing(enclave))
		polys[owner] = append(polys[owner], orb.Polygon{enclave})
	}

	// An offshore island off the east shore belongs to the ward facing it.
	{
		j := rng.IntN(ny)
		a, b := node[nx][j], node[nx][j+1]
		dx, dy := b.x-a.x, b.y-a.y
		l := math.Hypot(dx, dy)
		// The right-hand normal of a northward chord points east, away from
		// the city; clear the border's lens, the island and a channel.
		d := (borderAmp + 1.5*islandRadius + 0.10) * s
		c := mpt{(a.x+b.x)/2 + dy/l*d, (a.y+b.y)/2 - dx/l*d}
		k := (ny-1-j)*nx + nx - 1
		polys[k] = append(polys[k], orb.Polygon{starRing(rng, pj, c, islandRadius*s, holeVerts)})
	}

	wards := make([]Ward, n)
	for k := range n {
		en, fr := wardName(k + 1)
		wards[k] = Ward{ID: strconv.Itoa(k + 1), NameEn: en, NameFr: fr, Geometry: polys[k]}
	}
	return wards
}

// jaggedBorder returns n interior points of a jagged polyline from a to b.
//
// Points advance strictly along the chord and stray from it by a bounded
// random walk, so the line is the graph of a function over the chord and
// cannot cross itself. The offset is capped by borderAmp·S and, near each
// end, by a cone of slope borderSlope; with corners jittered by at most
// nodeJitter·S, chords meeting at a corner are at least ~62° apart, more
// than the two 19° cones, so different borders never cross either.
func jaggedBorder(rng *rand.Rand, a, b mpt, n int, s float64) []mpt {
	if n == 0 {
		return nil
	}
	dx, dy := b.x-a.x, b.y-a.y
	l := math.Hypot(dx, dy)
	ux, uy := dx/l, dy/l // along the chord
	px, py := -uy, ux    // left normal
	amp := borderAmp * s
	sigma := 1.2 * amp / math.Sqrt(float64(n+1))
	out := make([]mpt, n)
	d := 0.0
	for k := range out {
		// Jitter positions along the chord by at most ±0.35 of a step so
		// they stay strictly increasing with a gap of at least 0.3 step.
		t := (float64(k+1) + 0.35*(2*rng.Float64()-1)) / float64(n+1)
		env := min(amp, borderSlope*l*min(t, 1-t))
		d += sigma * rng.NormFloat64()
		// Reflect off the envelope, then clamp for very large steps.
		if d > env {
			d = 2*env - d
		}
		if d < -env {
			d = -2*env - d
		}
		d = max(-env, min(env, d))
		along := t * l
		out[k] = mpt{a.x + ux*along + px*d, a.y + uy*along + py*d}
	}
	return out
}

// starRing returns a closed counter-clockwise ring shaped like a lake: its
// radius varies smoothly with the angle and angles strictly increase, so
// the ring is star-shaped around c and therefore simple. The radius stays
// within [0.56, 1.44] × r.
func starRing(rng *rand.Rand, pj proj, c mpt, r float64, n int) orb.Ring {
	var amp, phase [4]float64
	for h := range amp {
		amp[h] = 0.3 / float64(h+2) * rng.Float64() // sum < 0.39
		phase[h] = 2 * math.Pi * rng.Float64()
	}
	ring := make(orb.Ring, 0, n+1)
	for k := range n {
		th := 2 * math.Pi * (float64(k) + 0.4*(rng.Float64()-0.5)) / float64(n)
		f := 1.0
		for h := range amp {
			f += amp[h] * math.Cos(float64(h+2)*th+phase[h])
		}
		f += 0.05 * (2*rng.Float64() - 1)
		p := pj.ll(mpt{c.x + r*f*math.Cos(th), c.y + r*f*math.Sin(th)})
		if len(ring) > 0 && ring[len(ring)-1] == p {
			continue // only possible for absurdly small rings
		}
		ring = append(ring, p)
	}
	return append(ring, ring[0])
}

func appendReversed(dst, src []orb.Point) []orb.Point {
	for i := len(src) - 1; i >= 0; i-- {
		dst = append(dst, src[i])
	}
	return dst
}

func reversedRing(r orb.Ring) orb.Ring {
	out := slices.Clone(r)
	slices.Reverse(out)
	return out
}
