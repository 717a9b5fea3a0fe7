package data

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/paulmach/orb"
)

// The writers build output by hand rather than through encoding/json and
// encoding/csv: it is several times faster for a million rows, and the
// exact bytes are under our control, which the sample drift test needs.

// WriteWardsGeoJSON writes the wards as a GeoJSON FeatureCollection, one
// feature per line, with properties id, name_en and name_fr. A ward with one
// part is a Polygon, otherwise a MultiPolygon.
func (c *City) WriteWardsGeoJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(`{"type":"FeatureCollection","features":[` + "\n")
	var b []byte
	for i, ward := range c.Wards {
		b = b[:0]
		b = append(b, `{"type":"Feature","properties":{"id":`...)
		b = appendJSONString(b, ward.ID)
		b = append(b, `,"name_en":`...)
		b = appendJSONString(b, ward.NameEn)
		b = append(b, `,"name_fr":`...)
		b = appendJSONString(b, ward.NameFr)
		b = append(b, `},"geometry":`...)
		b = appendGeometry(b, ward.Geometry)
		b = append(b, '}')
		if i < len(c.Wards)-1 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return fmt.Errorf("write wards geojson: %w", err)
		}
	}
	bw.WriteString("]}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write wards geojson: %w", err)
	}
	return nil
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

func appendGeometry(b []byte, mp orb.MultiPolygon) []byte {
	if len(mp) == 1 {
		b = append(b, `{"type":"Polygon","coordinates":`...)
		b = appendPolygon(b, mp[0])
		return append(b, '}')
	}
	b = append(b, `{"type":"MultiPolygon","coordinates":[`...)
	for i, p := range mp {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPolygon(b, p)
	}
	return append(b, "]}"...)
}

func appendPolygon(b []byte, p orb.Polygon) []byte {
	b = append(b, '[')
	for i, r := range p {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, pt := range r {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendCoord(b, pt[0])
			b = append(b, ',')
			b = appendCoord(b, pt[1])
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	return append(b, ']')
}

// appendCoord writes the shortest decimal that parses back to v.
func appendCoord(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// WriteAssetsCSV writes the assets as CSV with header id,type,lon,lat.
func (c *City) WriteAssetsCSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("id,type,lon,lat\n")
	var b []byte
	for _, a := range c.Assets {
		b = append(b[:0], a.ID...)
		b = append(b, ',')
		b = append(b, a.Type...)
		b = append(b, ',')
		b = appendCoord(b, a.Point[0])
		b = append(b, ',')
		b = appendCoord(b, a.Point[1])
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return fmt.Errorf("write assets csv: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write assets csv: %w", err)
	}
	return nil
}
