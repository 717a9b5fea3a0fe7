package geojsonio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/text"
)

func geomErr(en, fr string) *i18n.Error {
	e := bad(en, fr)
	e.Field = "geometry"
	return e
}

var errNoGeometry = geomErr("the feature has no geometry", "l'entité n'a pas de géométrie")

// geometryType returns the geometry's "type".
func (f *Feature) geometryType() (string, *i18n.Error) {
	if f.Geometry == nil {
		e := *errNoGeometry
		return "", &e
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(f.Geometry, &head); err != nil || head.Type == "" {
		if err == nil {
			return "", geomErr("the geometry has no type", "la géométrie n'a pas de type")
		}
		return "", geomErr("the geometry is not a GeoJSON geometry object", "la géométrie n'est pas un objet géométrie GeoJSON")
	}
	return text.Clip(head.Type, text.Short), nil
}

// Point returns the feature's point: a Point geometry, or a MultiPoint of
// exactly one point. Coordinates are read strictly (orb would turn [] or
// [null, 45] into zeros): 2 or 3 numbers, the third ignored, and the point
// must pass geo.ValidatePoint.
func (f *Feature) Point() (orb.Point, *i18n.Error) {
	typ, ierr := f.geometryType()
	if ierr != nil {
		return orb.Point{}, ierr
	}
	var g struct {
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(f.Geometry, &g); err != nil {
		return orb.Point{}, geomErr("the geometry is malformed", "la géométrie est mal formée")
	}
	coords := g.Coordinates
	switch typ {
	case "Point":
	case "MultiPoint":
		var pts []json.RawMessage
		if err := json.Unmarshal(coords, &pts); err != nil {
			return orb.Point{}, geomErr("the MultiPoint's coordinates are not an array of points", "les coordonnées du MultiPoint ne sont pas un tableau de points")
		}
		if len(pts) != 1 {
			return orb.Point{}, geomErr(fmt.Sprintf("the geometry is a MultiPoint of %d points; want one point", len(pts)),
				fmt.Sprintf("la géométrie est un MultiPoint de %d points; un seul point est attendu", len(pts)))
		}
		coords = pts[0]
	default:
		return orb.Point{}, geomErr(fmt.Sprintf("the geometry is a %s; want a Point (or a MultiPoint of one point)", typ),
			fmt.Sprintf("la géométrie est un %s; un Point (ou un MultiPoint d'un point) est attendu", typ))
	}
	var nums []json.RawMessage
	if err := json.Unmarshal(coords, &nums); err != nil {
		c := text.Clip(string(coords), text.Short)
		return orb.Point{}, geomErr(fmt.Sprintf("the point's coordinates %s are not an array of numbers", c),
			fmt.Sprintf("les coordonnées %s du point ne sont pas un tableau de nombres", c))
	}
	if len(nums) < 2 || len(nums) > 3 {
		return orb.Point{}, geomErr(fmt.Sprintf("a point has 2 coordinates (longitude, latitude), not %d", len(nums)),
			fmt.Sprintf("un point a 2 coordonnées (longitude, latitude), pas %d", len(nums)))
	}
	var p orb.Point
	for i := range 2 {
		// Only a JSON number (json.Number would also take "1", a string).
		// NaN cannot be written in JSON; a huge exponent parses to ±Inf
		// (ErrRange) and is refused by ValidatePoint below.
		n := bytes.TrimSpace(nums[i])
		v, perr := strconv.ParseFloat(string(n), 64)
		if kindOf(n) != "a number" || !json.Valid(n) || (perr != nil && !errors.Is(perr, strconv.ErrRange)) {
			c := text.Clip(string(nums[i]), text.Short)
			return orb.Point{}, geomErr(fmt.Sprintf("coordinate %s is not a number", c), fmt.Sprintf("la coordonnée %s n'est pas un nombre", c))
		}
		p[i] = v
	}
	if err := geo.ValidatePoint(p); err != nil {
		e := geomErr(fmt.Sprintf("%v, %v is not a valid longitude, latitude (WGS84, in that order)", p[0], p[1]),
			fmt.Sprintf("%v, %v n'est pas une longitude, latitude valide (WGS84, dans cet ordre)", p[0], p[1]))
		e.Err = err
		return p, e
	}
	return p, nil
}

// Areas returns the feature's Polygon or MultiPolygon geometry as a
// MultiPolygon, decoded by orb. The caller validates it
// (geo.ValidateMultiPolygon), naming the feature.
func (f *Feature) Areas() (orb.MultiPolygon, *i18n.Error) {
	typ, ierr := f.geometryType()
	if ierr != nil {
		return nil, ierr
	}
	if typ != "Polygon" && typ != "MultiPolygon" {
		return nil, geomErr(fmt.Sprintf("the geometry is a %s; want a Polygon or a MultiPolygon", typ),
			fmt.Sprintf("la géométrie est un %s; un Polygon ou un MultiPolygon est attendu", typ))
	}
	g, err := geojson.UnmarshalGeometry(f.Geometry)
	if err != nil {
		e := geomErr(fmt.Sprintf("the %s's coordinates are malformed (want rings of [longitude, latitude] numbers)", typ),
			fmt.Sprintf("les coordonnées du %s sont mal formées (des anneaux de [longitude, latitude] sont attendus)", typ))
		e.Err = err
		return nil, e
	}
	switch c := g.Coordinates.(type) {
	case orb.Polygon:
		return orb.MultiPolygon{c}, nil
	case orb.MultiPolygon:
		return c, nil
	}
	return nil, geomErr("the geometry is not a Polygon or a MultiPolygon", "la géométrie n'est ni un Polygon ni un MultiPolygon")
}
