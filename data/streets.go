package data

import (
	"fmt"
	"io"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/maptile/tilecover"
	"github.com/pinward/pinward/basemap"
)

// Streets' basemap zooms: the town at z11, street level at z16 (MapLibre
// draws deeper zooms from the z16 tiles).
const (
	StreetsMinZoom = 11
	StreetsMaxZoom = 16
)

// WriteStreetsPMTiles writes the city's streets as a PMTiles archive of
// vector tiles in the Protomaps basemap schema: an "earth" polygon over the
// town and a "roads" layer (kind major_road for arterials, minor_road for
// the rest), so the Protomaps style the pages bundle draws them. The same
// city gives the same bytes.
func (c *City) WriteStreetsPMTiles(w io.Writer) error {
	town := c.Bound.Pad(0.01)
	var tiles []basemap.Tile
	for z := maptile.Zoom(StreetsMinZoom); z <= StreetsMaxZoom; z++ {
		cover, err := tilecover.Geometry(town.ToPolygon(), z)
		if err != nil {
			return fmt.Errorf("streets: tile cover: %w", err)
		}
		for t := range cover {
			data, err := c.streetTile(t, town)
			if err != nil {
				return err
			}
			tiles = append(tiles, basemap.Tile{Z: uint8(t.Z), X: t.X, Y: t.Y, Data: data})
		}
	}
	ctr := town.Center()
	info := basemap.Info{MinZoom: StreetsMinZoom, MaxZoom: StreetsMaxZoom,
		Bounds: [4]float64{town.Min[0], town.Min[1], town.Max[0], town.Max[1]}, Center: [3]float64{ctr[0], ctr[1], 13}}
	meta := map[string]any{
		"name":        "pinward sample town streets",
		"attribution": "pinward (generated)",
		"vector_layers": []map[string]any{
			{"id": "earth", "fields": map[string]string{}},
			{"id": "roads", "fields": map[string]string{"kind": "String"}},
		},
	}
	return basemap.Write(w, tiles, info, meta)
}

// streetTile encodes one tile: the earth polygon and the streets that
// cross the tile, clipped to it.
func (c *City) streetTile(t maptile.Tile, town orb.Bound) ([]byte, error) {
	tb := t.Bound()
	earth := geojson.NewFeatureCollection()
	in := orb.Bound{Min: orb.Point{max(town.Min[0], tb.Min[0]), max(town.Min[1], tb.Min[1])},
		Max: orb.Point{min(town.Max[0], tb.Max[0]), min(town.Max[1], tb.Max[1])}}
	earth.Append(geojson.NewFeature(in.ToPolygon()))
	roads := geojson.NewFeatureCollection()
	// A margin so line caps at a tile's edge join their neighbours.
	near := tb.Pad(tb.Max[0] - tb.Min[0]) // one tile's width each side
	for _, s := range c.Streets {
		if !s.Line.Bound().Intersects(near) {
			continue
		}
		// A copy: projecting and clipping rewrite the coordinates in place.
		f := geojson.NewFeature(slices.Clone(s.Line))
		// One property: orb writes a feature's properties in map order,
		// and the archive must come out the same every time.
		f.Properties["kind"] = "minor_road"
		if s.Arterial {
			f.Properties["kind"] = "major_road"
		}
		roads.Append(f)
	}
	layers := mvt.Layers{mvt.NewLayer("earth", earth), mvt.NewLayer("roads", roads)}
	layers.ProjectToTile(t)
	layers.Clip(mvt.MapboxGLDefaultExtentBound)
	layers.RemoveEmpty(0, 0)
	data, err := mvt.Marshal(layers)
	if err != nil {
		return nil, fmt.Errorf("streets: tile %d/%d/%d: %w", t.Z, t.X, t.Y, err)
	}
	return data, nil
}
