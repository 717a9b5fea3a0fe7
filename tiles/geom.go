package tiles

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// Tile geometry constants shared with the ST_AsMVT comparison.
const (
	Extent = 4096 // tile units per tile side
	Buffer = 64   // tile units kept around a tile, so symbols are not cut at edges
	// MaxZoom is the deepest zoom served; a building-scale map needs no more.
	MaxZoom = 22
	// DetailZoom is the first zoom with one feature per request or cluster;
	// below it they aggregate into grid cells. At 15 a tile is about 850 m
	// wide at 46°N, a neighbourhood where single reports are worth a click.
	DetailZoom = 15
	// MaxDetailFeatures caps the individual features of a requests or
	// clusters tile from DetailZoom to MaxAggZoom: a tile whose requests
	// (or clusters) exceed it stays aggregated, so a dense city never
	// sends a tile of thousands of points (about 70 KB per thousand).
	MaxDetailFeatures = 1000
	// MaxAggZoom is the deepest zoom that may aggregate; from the next
	// zoom on, every requests and clusters tile is individual features.
	MaxAggZoom = 18
	// AssetsMinZoom is the first zoom with assets (a few hundred per tile).
	AssetsMinZoom = 15
	// cellShift: a tile below DetailZoom is 2^cellShift × 2^cellShift cells.
	cellShift = 4
	// bucketZoom is the zoom of the buckets points are kept in: a tile at
	// zoom z >= DetailZoom reads 2^(19-z) × 2^(19-z) of them plus a ring
	// for its buffer (at zoom 16, 100 buckets over 1.6 times its area; at
	// zoom 17 buckets it read 16 over 4 times its area, and scanning the
	// points it then dropped was most of its time).
	bucketZoom = 19
	// SimplifyTolerance is the Douglas-Peucker tolerance for ward
	// boundaries, in tile units (1/8 of a pixel on a 512 px tile).
	SimplifyTolerance = 1.0
)

// merc is a point in normalised Web Mercator: u and v in [0, 1], v down,
// so the tile coordinates of (u, v) at zoom z are (u·2^z − x, v·2^z − y)
// × Extent.
type merc struct{ u, v float64 }

// maxLat is the latitude where Web Mercator's square world ends.
const maxLat = 85.0511287798066

func toMerc(p orb.Point) merc {
	lat := math.Max(-maxLat, math.Min(maxLat, p[1]))
	s := math.Sin(lat * math.Pi / 180)
	return merc{
		u: (p[0] + 180) / 360,
		v: 0.5 - math.Log((1+s)/(1-s))/(4*math.Pi),
	}
}

// cellOf returns the cell at zoom z holding m, clamped to the world.
func cellOf(m merc, z uint) (uint32, uint32) {
	n := float64(uint64(1) << z)
	x := math.Floor(m.u * n)
	y := math.Floor(m.v * n)
	hi := n - 1
	return uint32(math.Max(0, math.Min(hi, x))), uint32(math.Max(0, math.Min(hi, y)))
}

func cellKey(x, y uint32) uint64 { return uint64(x)<<32 | uint64(y) }

// frame maps normalised Mercator to one tile's coordinates.
type frame struct {
	scale, x0, y0 float64
}

func frameOf(t maptile.Tile) frame {
	return frame{scale: float64(uint64(1)<<t.Z) * Extent, x0: float64(t.X) * Extent, y0: float64(t.Y) * Extent}
}

// point returns m in tile units, rounded to the grid as ST_AsMVTGeom does.
func (f frame) point(m merc) orb.Point {
	return orb.Point{math.Round(m.u*f.scale - f.x0), math.Round(m.v*f.scale - f.y0)}
}

// inBuffer reports whether a point in tile units is kept: inside the tile
// or its buffer, edges included.
func inBuffer(p orb.Point) bool {
	return p[0] >= -Buffer && p[0] <= Extent+Buffer && p[1] >= -Buffer && p[1] <= Extent+Buffer
}

// buckets returns the range of bucketZoom buckets that a tile at zoom z
// >= DetailZoom, with its buffer, overlaps.
func buckets(t maptile.Tile) (x0, y0, x1, y1 uint32) {
	f := frameOf(t)
	lo := func(c float64) float64 { return (c - Buffer - 1) / f.scale }
	hi := func(c float64) float64 { return (c + Extent + Buffer + 1) / f.scale }
	x0, y0 = cellOf(merc{lo(f.x0), lo(f.y0)}, bucketZoom)
	x1, y1 = cellOf(merc{hi(f.x0), hi(f.y0)}, bucketZoom)
	return
}
