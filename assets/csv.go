package assets

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/text"
)

// RowError is one input row (a CSV record or a GeoJSON feature) that was
// skipped, with the line it starts on and its ID when it has one.
type RowError struct {
	Line int
	ID   string
	Err  error
}

func (e RowError) Error() string {
	if e.ID != "" {
		return fmt.Sprintf("line %d: id %q: %v", e.Line, e.ID, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e RowError) Unwrap() error { return e.Err }

// CSVFormat names the columns of an asset CSV file. Column names match the
// header exactly or, failing that, ignoring case.
type CSVFormat struct {
	ID, Layer, Lon, Lat, WKT string // column names; WKT (a "POINT (lon lat)" column) used instead of Lon/Lat when set
	Version                  string // optional column of integer versions (0 when absent or empty)
	DefaultLayer             string // layer when there is no Layer column, or its cell is empty
}

// DefaultCSVFormat is the format pinward writes: columns id, type, lon, lat.
func DefaultCSVFormat() CSVFormat {
	return CSVFormat{ID: "id", Layer: "type", Lon: "lon", Lat: "lat"}
}

// ParseCSVFormat reads a format from a flag value: comma-separated key=value
// pairs, keys case-insensitive, values taken verbatim (surrounding spaces
// trimmed):
//
//	id=COLUMN       the asset ID column (default "id")
//	lon=COLUMN      longitude column (default "lon")
//	lat=COLUMN      latitude column (default "lat")
//	wkt=COLUMN      a WKT "POINT (lon lat)" column, instead of lon and lat
//	type=COLUMN     the column holding each row's layer (default "type")
//	layer=NAME      a fixed layer for every row; with type= too, the layer
//	                of rows whose type cell is empty
//	version=COLUMN  an integer version column, for sync
//
// For example "id=ENTITEID,wkt=GEOM,layer=hydrant" (Gatineau's hydrants),
// "id=FID,lon=Longitude,lat=Latitude,layer=bus_stop" (Ottawa's stops) or
// "id=stop_id,lon=stop_lon,lat=stop_lat,layer=bus_stop" (GTFS stops.txt).
// An empty spec is DefaultCSVFormat. Column names cannot contain ',' or '='.
func ParseCSVFormat(spec string) (CSVFormat, error) {
	f := DefaultCSVFormat()
	seen := map[string]bool{}
	if strings.TrimSpace(spec) == "" {
		return f, nil
	}
	for _, part := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return CSVFormat{}, fmt.Errorf("assets: column spec %q: %q is not key=value", spec, strings.TrimSpace(part))
		}
		if seen[k] {
			return CSVFormat{}, fmt.Errorf("assets: column spec %q: %s= given twice", spec, k)
		}
		seen[k] = true
		switch k {
		case "id":
			f.ID = v
		case "lon":
			f.Lon = v
		case "lat":
			f.Lat = v
		case "wkt":
			f.WKT = v
		case "type":
			f.Layer = v
		case "layer":
			f.DefaultLayer = v
		case "version":
			f.Version = v
		default:
			return CSVFormat{}, fmt.Errorf("assets: column spec %q: unknown key %q (want id, lon, lat, wkt, type, layer or version)", spec, k)
		}
	}
	if f.WKT != "" && (seen["lon"] || seen["lat"]) {
		return CSVFormat{}, fmt.Errorf("assets: column spec %q: give wkt= or lon= and lat=, not both", spec)
	}
	if f.WKT != "" {
		f.Lon, f.Lat = "", ""
	}
	// A fixed layer replaces the default type column unless type= is given.
	if seen["layer"] && !seen["type"] {
		f.Layer = ""
	}
	return f, nil
}

// LoadCSV reads assets from CSV with a header row. Rows that cannot be
// assets (wrong number of fields, no ID, no layer, coordinates that are not
// numbers or not a place on Earth, unparseable WKT, an ID already seen in the
// layer, broken quoting) are skipped and reported in rowErrs with their line
// numbers. err is for input that cannot be read at all or a header that
// lacks a column the format names; then the other results are incomplete.
//
// A UTF-8 byte-order mark is ignored. Columns the format does not use
// become Attrs.
func LoadCSV(r io.Reader, f CSVFormat) (assets []Asset, rowErrs []RowError, err error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); bytes.Equal(bom, utf8BOM) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // checked per row, so one bad row does not stop the file
	cr.LazyQuotes = false

	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, fmt.Errorf("assets: load CSV: %w", invalidf("the file is empty: no header row", "le fichier est vide : aucune ligne d'en-tête"))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("assets: load CSV: read header: %w", err)
	}
	header = append([]string(nil), header...)
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	cols, err := f.columns(header)
	if err != nil {
		return nil, nil, fmt.Errorf("assets: load CSV: %w", err)
	}

	seen := map[layerID]int{} // → line first seen
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				// The reader resynchronises at the next line.
				rowErrs = append(rowErrs, RowError{Line: pe.StartLine, Err: pe.Err})
				continue
			}
			return assets, rowErrs, fmt.Errorf("assets: load CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			rowErrs = append(rowErrs, RowError{Line: line, Err: fmt.Errorf("row has %d fields; the header has %d", len(rec), len(header))})
			continue
		}
		a, err := cols.asset(rec, header, f)
		if err != nil {
			rowErrs = append(rowErrs, RowError{Line: line, ID: a.ID, Err: err})
			continue
		}
		k := layerID{a.Layer, a.ID}
		if first, dup := seen[k]; dup {
			rowErrs = append(rowErrs, RowError{Line: line, ID: a.ID, Err: fmt.Errorf("duplicate ID in layer %q (first on line %d)", a.Layer, first)})
			continue
		}
		seen[k] = line
		assets = append(assets, a)
	}
	return assets, rowErrs, nil
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

type layerID struct{ layer, id string }

// csvColumns holds the header positions of the format's columns; -1 when
// not used.
type csvColumns struct {
	id, layer, lon, lat, wkt, version int
	used                              []bool
}

func (f CSVFormat) columns(header []string) (csvColumns, error) {
	c := csvColumns{id: -1, layer: -1, lon: -1, lat: -1, wkt: -1, version: -1, used: make([]bool, len(header))}
	if f.ID == "" {
		return c, invalidf("the format names no ID column", "le format ne nomme aucune colonne d'ID")
	}
	if f.Layer == "" && f.DefaultLayer == "" {
		return c, invalidf("the format names no layer column and no default layer", "le format ne nomme ni colonne de couche ni couche par défaut")
	}
	if f.WKT == "" && (f.Lon == "" || f.Lat == "") {
		return c, invalidf("the format names neither a WKT column nor both longitude and latitude columns",
			"le format ne nomme ni colonne WKT ni colonnes de longitude et de latitude")
	}
	type want struct {
		name, role string
		to         *int
	}
	wants := []want{{f.ID, "id", &c.id}, {f.Layer, "type", &c.layer}, {f.Version, "version", &c.version}}
	if f.WKT != "" {
		wants = append(wants, want{f.WKT, "wkt", &c.wkt})
	} else {
		wants = append(wants, want{f.Lon, "lon", &c.lon}, want{f.Lat, "lat", &c.lat})
	}
	for _, w := range wants {
		if w.name == "" {
			continue
		}
		i, err := findColumn(header, w.name)
		if err != nil {
			return c, i18n.Errorf(i18n.Invalid, w.role, i18n.T("%s (the %s column); the columns are %s",
				"%s (la colonne %s) ; les colonnes sont %s"), err, w.role, strings.Join(header, ", "))
		}
		*w.to = i
		c.used[i] = true
	}
	return c, nil
}

func findColumn(header []string, name string) (int, error) {
	for i, h := range header {
		if h == name {
			return i, nil
		}
	}
	found := -1
	for i, h := range header {
		if strings.EqualFold(h, name) {
			if found >= 0 {
				return -1, fmt.Errorf("column %q matches both %q and %q ignoring case", name, header[found], h)
			}
			found = i
		}
	}
	if found < 0 {
		return -1, fmt.Errorf("no column %q in the header", name)
	}
	return found, nil
}

// asset turns one record into an Asset; on error the Asset carries the ID
// when it was read, for the report.
func (c csvColumns) asset(rec, header []string, f CSVFormat) (Asset, error) {
	a := Asset{ID: strings.TrimSpace(rec[c.id]), Layer: f.DefaultLayer}
	if a.ID == "" {
		return a, fmt.Errorf("missing ID (column %q)", header[c.id])
	}
	if c.layer >= 0 {
		if l := strings.TrimSpace(rec[c.layer]); l != "" {
			a.Layer = l
		}
	}
	if a.Layer == "" {
		return a, fmt.Errorf("missing layer (column %q) and no default layer", header[c.layer])
	}
	var err error
	if c.wkt >= 0 {
		a.Point, err = parseWKTPoint(rec[c.wkt])
		if err != nil {
			return a, fmt.Errorf("column %q: %w", header[c.wkt], err)
		}
	} else {
		lon, err := parseCoord(rec[c.lon], "longitude", header[c.lon])
		if err != nil {
			return a, err
		}
		lat, err := parseCoord(rec[c.lat], "latitude", header[c.lat])
		if err != nil {
			return a, err
		}
		a.Point = orb.Point{lon, lat}
	}
	if err := geo.ValidatePoint(a.Point); err != nil {
		return a, err
	}
	if c.version >= 0 {
		if v := strings.TrimSpace(rec[c.version]); v != "" {
			a.Version, err = strconv.ParseInt(v, 10, 64)
			if err != nil {
				return a, fmt.Errorf("version %q (column %q) is not an integer", clip(v), header[c.version])
			}
		}
	}
	a.Attrs = make(map[string]string, len(header)-1)
	for i, v := range rec {
		if !c.used[i] {
			a.Attrs[header[i]] = v
		}
	}
	return a, nil
}

func parseCoord(s, what, column string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("missing %s (column %q)", what, column)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q (column %q) is not a number", what, clip(s), column)
	}
	return v, nil
}

// parseWKTPoint reads "POINT (lon lat)", with optional Z/M values (ignored),
// an optional EWKT "SRID=4326;" prefix, or a MULTIPOINT of one point.
func parseWKTPoint(s string) (orb.Point, error) {
	orig := s
	s = strings.TrimSpace(s)
	bad := func(why string) (orb.Point, error) {
		return orb.Point{}, fmt.Errorf("%q is not a WKT point: %s", clip(orig), why)
	}
	if s == "" {
		return bad("empty")
	}
	if head, rest, ok := strings.Cut(s, ";"); ok && strings.HasPrefix(strings.ToUpper(head), "SRID=") {
		if srid := strings.TrimSpace(head[5:]); srid != "4326" {
			return bad("SRID " + srid + " is not WGS84 longitude/latitude (4326)")
		}
		s = strings.TrimSpace(rest)
	}
	up := strings.ToUpper(s)
	multi := false
	switch {
	case strings.HasPrefix(up, "MULTIPOINT"):
		multi, s = true, s[len("MULTIPOINT"):]
	case strings.HasPrefix(up, "POINT"):
		s = s[len("POINT"):]
	default:
		return bad("want POINT (lon lat)")
	}
	s = strings.TrimSpace(s)
	for _, dim := range []string{"ZM", "Z", "M"} {
		if len(s) >= len(dim) && strings.EqualFold(s[:len(dim)], dim) {
			s = strings.TrimSpace(s[len(dim):])
			break
		}
	}
	if strings.EqualFold(s, "EMPTY") {
		return bad("the point is empty")
	}
	if !strings.HasPrefix(s, "(") || !strings.HasSuffix(s, ")") {
		return bad("coordinates must be in parentheses")
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	if multi {
		if strings.Contains(s, ",") {
			return bad("a MULTIPOINT with more than one point")
		}
		if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
			s = strings.TrimSpace(s[1 : len(s)-1])
		}
	}
	nums := strings.Fields(s)
	if len(nums) < 2 || len(nums) > 4 {
		return bad(fmt.Sprintf("want 2 to 4 numbers, have %d", len(nums)))
	}
	var p orb.Point
	for i := range 2 {
		v, err := strconv.ParseFloat(nums[i], 64)
		if err != nil {
			return bad(fmt.Sprintf("%q is not a number", clip(nums[i])))
		}
		p[i] = v
	}
	for _, n := range nums[2:] {
		if _, err := strconv.ParseFloat(n, 64); err != nil {
			return bad(fmt.Sprintf("%q is not a number", clip(n)))
		}
	}
	return p, nil
}

// clip shortens a value quoted in a report, so one bad row with a huge
// cell cannot flood it.
func clip(s string) string { return text.Clip(s, text.Cell) }

func invalidf(en, fr string) *i18n.Error { return i18n.Errorf(i18n.Invalid, "", i18n.T(en, fr)) }
