package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/paulmach/orb"
)

// Ward is one electoral ward. Geometry always holds at least one polygon;
// outer rings are counter-clockwise and holes clockwise (RFC 7946).
type Ward struct {
	ID, NameEn, NameFr string
	Geometry           orb.MultiPolygon
}

// Asset is a piece of street furniture a request can name.
type Asset struct {
	ID, Type string
	Point    orb.Point
}

// Street is one street segment of the grid the assets stand along, from
// intersection to intersection (the sample town's basemap draws them).
type Street struct {
	Line     orb.LineString
	Arterial bool
}

// Request is one synthetic 311 request. AssetID is the asset the generator
// placed it next to (streetlight, hydrant and tree categories), else "".
type Request struct {
	ID, Category string
	CreatedAt    time.Time
	Point        orb.Point
	AssetID      string
}

// City is a generated municipality.
type City struct {
	Config   CityConfig // normalised: defaults filled in
	Wards    []Ward
	Assets   []Asset
	Streets  []Street
	Requests []Request
	// Bound covers all ward geometry. A few requests lie outside it on
	// purpose (outside the municipality).
	Bound orb.Bound
}

// Each part of the city draws from its own PCG stream, so changing the
// request count does not move a single ward vertex or asset.
const (
	streamWards    = 0x77617264 // "ward"
	streamAssets   = 0x61737374 // "asst"
	streamRequests = 0x72657173 // "reqs"
)

func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// GenerateCity builds the city described by cfg. It is deterministic: the
// same config gives the same city, and byte-identical files when written.
func GenerateCity(cfg CityConfig) (*City, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	pj := newProj(cfg.Center)
	c := &City{Config: cfg, Wards: genWards(cfg, newRand(cfg.Seed, streamWards), pj)}

	c.Bound = orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	for _, w := range c.Wards {
		c.Bound = c.Bound.Union(w.Geometry.Bound())
	}

	loc := newLocator(c.Wards)
	c.Assets, c.Streets = genAssets(cfg, newRand(cfg.Seed, streamAssets), pj, loc, c.Bound)
	c.Requests, err = genRequests(cfg, newRand(cfg.Seed, streamRequests), pj, loc, c.Bound, c.Assets)
	if err != nil {
		return nil, fmt.Errorf("generate requests: %w", err)
	}
	return c, nil
}
