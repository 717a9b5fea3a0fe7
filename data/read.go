package data

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/paulmach/orb"
)

// ReadWardsGeoJSON reads wards from a GeoJSON FeatureCollection whose
// features carry properties id, name_en and name_fr and a Polygon or
// MultiPolygon geometry (the format WriteWardsGeoJSON writes). Deeper
// validation (ring closure, orientation, self-intersection) belongs to the
// geo package.
//
// It decodes with encoding/json rather than orb/geojson, whose BSON support
// would pull the MongoDB driver into the module.
func ReadWardsGeoJSON(r io.Reader) ([]Ward, error) {
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Properties map[string]any `json:"properties"`
			Geometry   *struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.NewDecoder(r).Decode(&fc); err != nil {
		return nil, fmt.Errorf("parse wards geojson: %w", err)
	}
	if fc.Type != "FeatureCollection" {
		return nil, fmt.Errorf("parse wards geojson: type is %q, want FeatureCollection", fc.Type)
	}
	wards := make([]Ward, 0, len(fc.Features))
	for i, f := range fc.Features {
		w := Ward{
			ID:     propString(f.Properties, "id"),
			NameEn: propString(f.Properties, "name_en"),
			NameFr: propString(f.Properties, "name_fr"),
		}
		if w.ID == "" {
			return nil, fmt.Errorf("wards geojson feature %d: missing property id", i)
		}
		if f.Geometry == nil {
			return nil, fmt.Errorf("wards geojson feature %d (ward %s): no geometry", i, w.ID)
		}
		var err error
		switch f.Geometry.Type {
		case "Polygon":
			var c [][][]float64
			if err = json.Unmarshal(f.Geometry.Coordinates, &c); err == nil {
				var p orb.Polygon
				p, err = polygonFrom(c)
				w.Geometry = orb.MultiPolygon{p}
			}
		case "MultiPolygon":
			var c [][][][]float64
			if err = json.Unmarshal(f.Geometry.Coordinates, &c); err == nil {
				for _, pc := range c {
					var p orb.Polygon
					if p, err = polygonFrom(pc); err != nil {
						break
					}
					w.Geometry = append(w.Geometry, p)
				}
			}
		default:
			err = fmt.Errorf("geometry is %s, want Polygon or MultiPolygon", f.Geometry.Type)
		}
		if err == nil && len(w.Geometry) == 0 {
			err = errors.New("empty geometry")
		}
		if err != nil {
			return nil, fmt.Errorf("wards geojson feature %d (ward %s): %w", i, w.ID, err)
		}
		wards = append(wards, w)
	}
	return wards, nil
}

func polygonFrom(c [][][]float64) (orb.Polygon, error) {
	if len(c) == 0 {
		return nil, errors.New("polygon without rings")
	}
	p := make(orb.Polygon, len(c))
	for i, rc := range c {
		r := make(orb.Ring, len(rc))
		for j, pc := range rc {
			if len(pc) < 2 {
				return nil, fmt.Errorf("ring %d position %d has %d numbers, want 2", i, j, len(pc))
			}
			r[j] = orb.Point{pc[0], pc[1]}
		}
		p[i] = r
	}
	return p, nil
}

// propString returns a string property; numeric ids are accepted too, as
// many municipal exports number their wards.
func propString(p map[string]any, key string) string {
	switch v := p[key].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// ReadAssetsCSV reads assets from CSV with header id,type,lon,lat.
func ReadAssetsCSV(r io.Reader) ([]Asset, error) {
	var assets []Asset
	err := readCSV(r, "assets", []string{"id", "type", "lon", "lat"}, func(rec []string) error {
		pt, err := parseLonLat(rec[2], rec[3])
		if err != nil {
			return err
		}
		if rec[0] == "" || rec[1] == "" {
			return errors.New("empty id or type")
		}
		assets = append(assets, Asset{ID: rec[0], Type: rec[1], Point: pt})
		return nil
	})
	return assets, err
}

// ReadRequestsCSV reads requests from CSV with header
// id,category,created_at,lon,lat (created_at in RFC 3339).
func ReadRequestsCSV(r io.Reader) ([]Request, error) {
	var reqs []Request
	err := readCSV(r, "requests", []string{"id", "category", "created_at", "lon", "lat"}, func(rec []string) error {
		t, err := time.Parse(time.RFC3339, rec[2])
		if err != nil {
			return fmt.Errorf("created_at: %w", err)
		}
		pt, err := parseLonLat(rec[3], rec[4])
		if err != nil {
			return err
		}
		reqs = append(reqs, Request{ID: rec[0], Category: rec[1], CreatedAt: t.UTC(), Point: pt})
		return nil
	})
	return reqs, err
}

func readCSV(r io.Reader, what string, header []string, row func(rec []string) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(header)
	cr.ReuseRecord = true
	rec, err := cr.Read()
	if err != nil {
		return fmt.Errorf("read %s csv header: %w", what, err)
	}
	for i, h := range header {
		if rec[i] != h {
			return fmt.Errorf("read %s csv: header column %d is %q, want %q", what, i+1, rec[i], h)
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s csv: %w", what, err)
		}
		line, _ := cr.FieldPos(0)
		if err := row(rec); err != nil {
			return fmt.Errorf("read %s csv line %d: %w", what, line, err)
		}
	}
}

func parseLonLat(lonS, latS string) (orb.Point, error) {
	lon, err := strconv.ParseFloat(lonS, 64)
	if err != nil {
		return orb.Point{}, fmt.Errorf("lon: %w", err)
	}
	lat, err := strconv.ParseFloat(latS, 64)
	if err != nil {
		return orb.Point{}, fmt.Errorf("lat: %w", err)
	}
	if math.IsNaN(lon) || math.IsNaN(lat) || math.Abs(lon) > 180 || math.Abs(lat) > 90 {
		return orb.Point{}, fmt.Errorf("lon/lat %s,%s out of range", lonS, latS)
	}
	return orb.Point{lon, lat}, nil
}
