package data

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/paulmach/orb"
)

// CityConfig describes a synthetic city. The same config always generates
// the same city.
type CityConfig struct {
	Seed int64
	// Center is the city centre in lon/lat; (-73.10, 46.05) if zero.
	Center orb.Point
	// WardsX × WardsY is the grid of ward cells (before enclaves and islands
	// add parts to some wards; they never add wards).
	WardsX, WardsY int
	// WardSizeM is the approximate side of one ward cell in metres.
	WardSizeM float64
	// VerticesPerSide is the number of interior points on each jagged border
	// polyline; a ward ring has about 4 × VerticesPerSide vertices.
	VerticesPerSide int
	// StreetSpacingM is the street grid spacing in metres.
	StreetSpacingM float64
	// Requests is the number of synthetic 311 requests.
	Requests int
	// DuplicateShare is the share of requests generated as near-duplicates
	// of an earlier request (same category, 2–40 m away, 0–10 days later).
	DuplicateShare float64
	// Start and Days give the request time span [Start, Start+Days).
	// Start defaults to 2024-01-01 UTC and Days to 365 when zero.
	Start time.Time
	Days  int
}

// DefaultCityConfig is a mid-size city: 12 wards of about 3 km with about
// 1,600 vertices each, some 100,000 street assets and a year of requests.
func DefaultCityConfig() CityConfig {
	return CityConfig{
		Seed:            1,
		Center:          orb.Point{-73.10, 46.05},
		WardsX:          4,
		WardsY:          3,
		WardSizeM:       3000,
		VerticesPerSide: 400,
		StreetSpacingM:  120,
		Requests:        250_000,
		DuplicateShare:  0.3,
		Start:           time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		Days:            365,
	}
}

// SampleConfig is the small bundled sample town (data/sample): 9 wards on
// about 6 km × 6 km and a few thousand assets.
func SampleConfig() CityConfig {
	return CityConfig{
		Seed:            311,
		Center:          orb.Point{-73.10, 46.05},
		WardsX:          3,
		WardsY:          3,
		WardSizeM:       1900,
		VerticesPerSide: 160,
		StreetSpacingM:  300,
		Requests:        2_000,
		DuplicateShare:  0.3,
		Start:           time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Days:            365,
	}
}

// Limits that keep a typo in a config from exhausting memory.
const (
	maxWards       = 10_000
	maxRequests    = 100_000_000
	maxStreetNodes = 20_000_000
)

// normalize fills the documented defaults and rejects configs the generator
// cannot honour.
func (c CityConfig) normalize() (CityConfig, error) {
	if c.Center == (orb.Point{}) {
		c.Center = orb.Point{-73.10, 46.05}
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if c.Days == 0 {
		c.Days = 365
	}
	// Seconds precision and UTC, so what is written parses back equal.
	c.Start = c.Start.UTC().Truncate(time.Second)

	var errs []error
	lon, lat := c.Center[0], c.Center[1]
	if math.IsNaN(lon) || math.IsNaN(lat) || lon < -180 || lon > 180 || lat < -80 || lat > 80 {
		errs = append(errs, fmt.Errorf("center %v: need lon in [-180, 180] and lat in [-80, 80]", c.Center))
	}
	if c.WardsX < 1 || c.WardsY < 1 || c.WardsX*c.WardsY > maxWards {
		errs = append(errs, fmt.Errorf("ward grid %d×%d: need at least 1×1 and at most %d wards", c.WardsX, c.WardsY, maxWards))
	}
	if !(c.WardSizeM >= 200 && c.WardSizeM <= 100_000) {
		errs = append(errs, fmt.Errorf("ward size %g m: need 200 to 100,000", c.WardSizeM))
	}
	// Border vertices at least ~2 m apart keep them distinct after rounding
	// to 1e-7 degree.
	if c.VerticesPerSide < 0 || float64(c.VerticesPerSide) > c.WardSizeM/2 {
		errs = append(errs, fmt.Errorf("vertices per side %d: need 0 to WardSizeM/2 (%g)", c.VerticesPerSide, c.WardSizeM/2))
	}
	if !(c.StreetSpacingM >= 20 && c.StreetSpacingM <= c.WardSizeM*10) {
		errs = append(errs, fmt.Errorf("street spacing %g m: need 20 to 10×WardSizeM", c.StreetSpacingM))
	}
	// The street lattice is held in memory while assets are placed.
	if streets := float64(c.WardsX*c.WardsY) * (c.WardSizeM / c.StreetSpacingM) * (c.WardSizeM / c.StreetSpacingM); streets > maxStreetNodes {
		errs = append(errs, fmt.Errorf("street grid of about %.0f intersections: more than %d; widen StreetSpacingM", streets, maxStreetNodes))
	}
	if c.Requests < 0 || c.Requests > maxRequests {
		errs = append(errs, fmt.Errorf("requests %d: need 0 to %d", c.Requests, maxRequests))
	}
	if !(c.DuplicateShare >= 0 && c.DuplicateShare < 1) {
		errs = append(errs, fmt.Errorf("duplicate share %g: need [0, 1)", c.DuplicateShare))
	}
	if c.Days < 1 || c.Days > 100*366 {
		errs = append(errs, fmt.Errorf("days %d: need 1 to 36,600", c.Days))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("invalid city config: %w", err)
	}
	return c, nil
}
