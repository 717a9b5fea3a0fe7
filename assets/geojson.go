package assets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
)

// LoadGeoJSON reads assets from a GeoJSON FeatureCollection of Point
// features (a MultiPoint of exactly one point is taken as that point).
//
// The ID comes from the property idProp, or from the feature's "id" member
// when idProp is empty; a string or a number (kept as written, e.g. "1196").
// The layer comes from the property layerProp when it is set and not empty,
// else defaultLayer. Other properties become Attrs: strings as they are,
// numbers and booleans as written, objects and arrays as JSON; nulls are
// left out.
//
// Features that cannot be assets are skipped and reported in rowErrs with
// the line their object starts on. err is for input that is not a GeoJSON
// FeatureCollection, or declares a CRS other than WGS84 longitude/latitude.
func LoadGeoJSON(r io.Reader, idProp, layerProp, defaultLayer string) ([]Asset, []RowError, error) {
	if layerProp == "" && defaultLayer == "" {
		return nil, nil, fmt.Errorf("assets: load GeoJSON: %w", invalidf("no layer property and no default layer given",
			"ni propriété de couche ni couche par défaut"))
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("assets: load GeoJSON: %w", err)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	g := geojsonReader{data: data, dec: json.NewDecoder(bytes.NewReader(data)), line: 1}
	g.dec.UseNumber()
	assets, rowErrs, err := g.read(idProp, layerProp, defaultLayer)
	if err != nil {
		return assets, rowErrs, fmt.Errorf("assets: load GeoJSON: %w", err)
	}
	return assets, rowErrs, nil
}

// geojsonReader walks a FeatureCollection token by token, so each feature
// is decoded on its own (one bad feature is one row error) and its line can
// be told from the decoder's offset.
type geojsonReader struct {
	data []byte
	dec  *json.Decoder
	off  int // data[:off] has been counted into line
	line int
}

// lineAt returns the line of the first non-space, non-comma byte at or
// after off: where the next value starts.
func (g *geojsonReader) lineAt(off int) int {
	for off < len(g.data) && strings.IndexByte(" \t\r\n,", g.data[off]) >= 0 {
		off++
	}
	g.line += bytes.Count(g.data[g.off:off], []byte{'\n'})
	g.off = off
	return g.line
}

type rawFeature struct {
	Type       string                     `json:"type"`
	ID         json.RawMessage            `json:"id"`
	Properties map[string]json.RawMessage `json:"properties"`
	Geometry   json.RawMessage            `json:"geometry"`
}

func (g *geojsonReader) read(idProp, layerProp, defaultLayer string) (assets []Asset, rowErrs []RowError, err error) {
	if err := g.delim('{'); err != nil {
		return nil, nil, err
	}
	typ, sawFeatures := "", false
	seen := map[layerID]int{}
	for g.dec.More() {
		key, err := g.dec.Token()
		if err != nil {
			return assets, rowErrs, syntaxErr(err)
		}
		switch key {
		case "type":
			if err := g.dec.Decode(&typ); err != nil {
				return assets, rowErrs, syntaxErr(err)
			}
			if typ != "FeatureCollection" {
				return assets, rowErrs, invalidf(fmt.Sprintf("type is %q; want a FeatureCollection", clip(typ)),
					fmt.Sprintf("le type est %q ; une FeatureCollection est attendue", clip(typ)))
			}
		case "crs":
			var crs struct {
				Properties struct{ Name string } `json:"properties"`
			}
			if err := g.dec.Decode(&crs); err != nil {
				return assets, rowErrs, syntaxErr(err)
			}
			if n := crs.Properties.Name; n != "" && !strings.HasSuffix(n, "CRS84") && !strings.HasSuffix(n, ":4326") {
				return assets, rowErrs, invalidf(fmt.Sprintf("crs %q is not WGS84 longitude/latitude; reproject the file to EPSG:4326", clip(n)),
					fmt.Sprintf("le SRC %q n'est pas WGS84 longitude/latitude ; reprojetez le fichier en EPSG:4326", clip(n)))
			}
		case "features":
			sawFeatures = true
			if err := g.delim('['); err != nil {
				return assets, rowErrs, err
			}
			for g.dec.More() {
				line := g.lineAt(int(g.dec.InputOffset()))
				var f rawFeature
				if err := g.dec.Decode(&f); err != nil {
					var te *json.UnmarshalTypeError
					if !errors.As(err, &te) {
						return assets, rowErrs, syntaxErr(err)
					}
					// A well-formed value of the wrong shape: the decoder
					// has moved past it, so only this feature is lost.
					rowErrs = append(rowErrs, RowError{Line: line, Err: fmt.Errorf("not a GeoJSON feature: %v", err)})
					continue
				}
				a, err := f.asset(idProp, layerProp, defaultLayer)
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
			if _, err := g.dec.Token(); err != nil { // ']'
				return assets, rowErrs, syntaxErr(err)
			}
		default:
			var skip json.RawMessage
			if err := g.dec.Decode(&skip); err != nil {
				return assets, rowErrs, syntaxErr(err)
			}
		}
	}
	if _, err := g.dec.Token(); err != nil { // '}'
		return assets, rowErrs, syntaxErr(err)
	}
	if typ == "" || !sawFeatures {
		return assets, rowErrs, invalidf(`not a GeoJSON FeatureCollection: want "type" and "features" members`,
			`pas une FeatureCollection GeoJSON : les membres "type" et "features" sont attendus`)
	}
	return assets, rowErrs, nil
}

func (g *geojsonReader) delim(want json.Delim) error {
	tok, err := g.dec.Token()
	if err != nil {
		return syntaxErr(err)
	}
	if tok != want {
		return invalidf(fmt.Sprintf("not a GeoJSON FeatureCollection: found %v where %v was expected", tok, want),
			fmt.Sprintf("pas une FeatureCollection GeoJSON : %v trouvé au lieu de %v", tok, want))
	}
	return nil
}

func syntaxErr(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	e := invalidf("the file is not valid JSON", "le fichier n'est pas du JSON valide")
	e.Err = err
	return e
}

func (f *rawFeature) asset(idProp, layerProp, defaultLayer string) (Asset, error) {
	a := Asset{Layer: defaultLayer}
	if f.Type != "Feature" {
		return a, fmt.Errorf("type is %q; want Feature", clip(f.Type))
	}
	idRaw, idName := f.ID, "the feature id"
	if idProp != "" {
		idRaw, idName = f.Properties[idProp], fmt.Sprintf("property %q", idProp)
	}
	id, err := scalarText(idRaw)
	if err != nil {
		return a, fmt.Errorf("%s: %w", idName, err)
	}
	a.ID = strings.TrimSpace(id)
	if a.ID == "" {
		return a, fmt.Errorf("missing ID (%s)", idName)
	}
	if layerProp != "" {
		l, err := scalarText(f.Properties[layerProp])
		if err != nil {
			return a, fmt.Errorf("property %q: %w", layerProp, err)
		}
		if l = strings.TrimSpace(l); l != "" {
			a.Layer = l
		}
	}
	if a.Layer == "" {
		return a, fmt.Errorf("missing layer (property %q) and no default layer", layerProp)
	}
	if a.Point, err = geojsonPoint(f.Geometry); err != nil {
		return a, err
	}
	if err := geo.ValidatePoint(a.Point); err != nil {
		return a, err
	}
	a.Attrs = make(map[string]string, len(f.Properties))
	for k, v := range f.Properties {
		if k == idProp || k == layerProp {
			continue
		}
		if s, ok := attrText(v); ok {
			a.Attrs[k] = s
		}
	}
	return a, nil
}

// scalarText returns a JSON string's value or a number's literal text; ""
// for null or absent.
func scalarText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	case '{', '[', 't', 'f':
		return "", fmt.Errorf("%s is not a string or a number", clip(string(raw)))
	}
	return string(raw), nil // a number, as written
}

func attrText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, true
		}
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		return buf.String(), true
	}
	return string(raw), true
}

// geojsonPoint decodes a Point geometry, or a MultiPoint of one point. It
// reads coordinates itself rather than through orb/geojson, which would turn
// [] or [null, 45] into zeros.
func geojsonPoint(raw json.RawMessage) (orb.Point, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return orb.Point{}, errors.New("the feature has no geometry")
	}
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return orb.Point{}, fmt.Errorf("geometry: %w", err)
	}
	coords := g.Coordinates
	switch g.Type {
	case "Point":
	case "MultiPoint":
		var pts []json.RawMessage
		if err := json.Unmarshal(coords, &pts); err != nil {
			return orb.Point{}, fmt.Errorf("MultiPoint coordinates: %w", err)
		}
		if len(pts) != 1 {
			return orb.Point{}, fmt.Errorf("geometry is a MultiPoint of %d points; want one point", len(pts))
		}
		coords = pts[0]
	default:
		return orb.Point{}, fmt.Errorf("geometry is %q; want a Point", clip(g.Type))
	}
	var nums []json.RawMessage
	if err := json.Unmarshal(coords, &nums); err != nil || len(nums) < 2 {
		return orb.Point{}, fmt.Errorf("point coordinates %s are not [lon, lat]", clip(string(coords)))
	}
	var p orb.Point
	for i := range 2 {
		v, err := strconv.ParseFloat(string(bytes.TrimSpace(nums[i])), 64)
		if err != nil {
			return orb.Point{}, fmt.Errorf("point coordinate %s is not a number", clip(string(nums[i])))
		}
		p[i] = v
	}
	return p, nil
}
