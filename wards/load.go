package wards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
)

// Fields names the feature properties that hold a ward's ID and names.
// NameEn may be empty (the ID is then the name too), and NameFr may be
// empty (the French name is then the English one).
type Fields struct {
	ID, NameEn, NameFr string
}

// DefaultFields is id, name_en, name_fr.
func DefaultFields() Fields { return Fields{ID: "id", NameEn: "name_en", NameFr: "name_fr"} }

// ParseFields reads "ID[,NAME_EN[,NAME_FR]]", e.g. "WARD,NAME,NAME_FR",
// the property names of a ward file's ID, English name and French name.
func ParseFields(spec string) (Fields, error) {
	parts := strings.Split(spec, ",")
	bad := func(why string) (Fields, error) {
		return Fields{}, fmt.Errorf("ward fields %q: %s; want ID[,NAME_EN[,NAME_FR]] property names, e.g. \"WARD,NAME,NAME_FR\"", spec, why)
	}
	if len(parts) > 3 {
		return bad(fmt.Sprintf("%d names given, at most 3", len(parts)))
	}
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
		if parts[i] == "" {
			return bad(fmt.Sprintf("name %d is empty", i+1))
		}
	}
	var f Fields
	f.ID = parts[0]
	if len(parts) > 1 {
		f.NameEn = parts[1]
	}
	if len(parts) > 2 {
		f.NameFr = parts[2]
	}
	return f, nil
}

// maxProblems caps the problems one load reports, so a wholly wrong file
// (every feature a point, say) does not bury the first lines.
const maxProblems = 10

// LoadGeoJSON reads the wards of a GeoJSON FeatureCollection (or a single
// Feature) of Polygon and MultiPolygon features, in file order, taking the
// ID and names from the properties f names.
//
// Coordinates must be WGS84 lon/lat: a legacy "crs" member is accepted only
// when it names CRS84 or EPSG:4326. Property values may be strings or
// numbers; numbers become text without a trailing ".0". A leading byte-order
// mark is skipped. When the file cannot be used the error lists each bad
// feature as features[i] with its ID, and why; geometry problems are
// *geo.InvalidError values naming the feature.
func LoadGeoJSON(r io.Reader, f Fields) ([]Ward, error) {
	if f.ID == "" {
		return nil, errors.New("wards: no ID property given (Fields.ID is empty)")
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("wards: read: %w", err)
	}
	b = bytes.TrimPrefix(b, []byte("\uFEFF")) // UTF-8 BOM, as Windows tools write
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("wards: the ward file is empty")
	}
	var doc rawDocument
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, jsonError(b, err)
	}
	if err := checkCRS(doc.CRS); err != nil {
		return nil, fmt.Errorf("wards: %w", err)
	}

	var feats []rawFeature
	single := false
	switch doc.Type {
	case "FeatureCollection":
		if doc.Features == nil {
			return nil, errors.New(`wards: the FeatureCollection has no "features" array`)
		}
		feats = doc.Features
	case "Feature":
		feats, single = []rawFeature{doc.rawFeature}, true
	case "":
		return nil, errors.New(`wards: not GeoJSON: the top-level object has no "type"; expected a FeatureCollection of ward polygons`)
	default:
		return nil, fmt.Errorf("wards: the file is a GeoJSON %s; expected a FeatureCollection (or a Feature) of Polygon or MultiPolygon features with the ward ID in their properties", doc.Type)
	}
	if len(feats) == 0 {
		return nil, errors.New("wards: the FeatureCollection has no features")
	}

	// Report every bad feature (up to maxProblems), so an operator fixes
	// the file in one pass.
	var problems []error
	wards := make([]Ward, 0, len(feats))
	seen := make(map[string]int, len(feats))
	for i := range feats {
		if len(problems) >= maxProblems {
			break
		}
		w, err := loadFeature(&feats[i], f, func(id string) string {
			name := fmt.Sprintf("features[%d]", i)
			if single {
				name = "the feature"
			}
			if id != "" {
				name += fmt.Sprintf(" (%s %q)", f.ID, id)
			}
			return name
		})
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if j, dup := seen[w.ID]; dup {
			problems = append(problems, fmt.Errorf("wards: features[%d] (%s %q): duplicate ward ID, also used by features[%d]", i, f.ID, w.ID, j))
			continue
		}
		seen[w.ID] = i
		wards = append(wards, w)
	}
	if len(problems) > 0 {
		if len(problems) >= maxProblems {
			problems = append(problems, fmt.Errorf("wards: stopped after %d problems", maxProblems))
		}
		return nil, errors.Join(problems...)
	}
	return wards, nil
}

// rawDocument is the top level of a ward file. A single Feature decodes into
// the embedded rawFeature; a FeatureCollection fills Features.
type rawDocument struct {
	rawFeature
	Features []rawFeature `json:"features"`
}

type rawFeature struct {
	Type       string          `json:"type"`
	CRS        json.RawMessage `json:"crs"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

func isNull(m json.RawMessage) bool {
	m = bytes.TrimSpace(m)
	return len(m) == 0 || string(m) == "null"
}

// loadFeature turns one feature into a Ward; name(id) names the feature in
// errors.
func loadFeature(rf *rawFeature, f Fields, name func(id string) string) (Ward, error) {
	if rf.Type != "Feature" {
		return Ward{}, fmt.Errorf("wards: %s: type is %q, expected \"Feature\"", name(""), rf.Type)
	}
	props := map[string]any{}
	if !isNull(rf.Properties) {
		// UseNumber keeps numbers as written: IDs like 12345678901234567
		// survive, and 13.50 stays 13.50.
		d := json.NewDecoder(bytes.NewReader(rf.Properties))
		d.UseNumber()
		if err := d.Decode(&props); err != nil {
			return Ward{}, fmt.Errorf("wards: %s: properties must be a JSON object: %v", name(""), err)
		}
	}

	id, err := propText(props, f.ID, "ward ID")
	if err != nil {
		return Ward{}, fmt.Errorf("wards: %s: %w", name(""), err)
	}
	fname := name(id)
	if err := checkCRS(rf.CRS); err != nil {
		return Ward{}, fmt.Errorf("wards: %s: %w", fname, err)
	}

	w := Ward{ID: id, Name: i18n.T(id, id)}
	if f.NameEn != "" {
		en, err := propText(props, f.NameEn, "ward name")
		if err != nil {
			return Ward{}, fmt.Errorf("wards: %s: %w", fname, err)
		}
		w.Name = i18n.T(en, en)
	}
	if f.NameFr != "" {
		if _, ok := props[f.NameFr]; !ok {
			// Absent everywhere is most likely a wrong field name.
			return Ward{}, fmt.Errorf("wards: %s: %s", fname, missingProp(props, f.NameFr, "French ward name"))
		}
		// A null or blank French name falls back to the English one.
		v := props[f.NameFr]
		if s, isText := v.(string); v != nil && (!isText || strings.TrimSpace(s) != "") {
			fr, err := propText(props, f.NameFr, "French ward name")
			if err != nil {
				return Ward{}, fmt.Errorf("wards: %s: %w", fname, err)
			}
			w.Name.Fr = fr
		}
	}

	w.Props = make(map[string]string, len(props))
	for k, v := range props {
		if k == f.ID || k == f.NameEn || k == f.NameFr || v == nil {
			continue
		}
		w.Props[k] = valueText(v)
	}

	w.Geometry, err = decodeGeometry(rf.Geometry)
	if err != nil {
		return Ward{}, fmt.Errorf("wards: %s: %w", fname, err)
	}
	if err := geo.ValidateMultiPolygon(w.Geometry); err != nil {
		return Ward{}, fmt.Errorf("wards: %w", geo.Named(err, fname))
	}
	return w, nil
}

// propText returns property key as trimmed, non-empty text; what is the
// property's role, for the message.
func propText(props map[string]any, key, what string) (string, error) {
	v, ok := props[key]
	if !ok {
		return "", errors.New(missingProp(props, key, what))
	}
	var s string
	switch v := v.(type) {
	case nil:
		return "", fmt.Errorf("property %q (the %s) is null", key, what)
	case string:
		s = strings.TrimSpace(v)
	case json.Number:
		s = numberText(v)
	default:
		return "", fmt.Errorf("property %q (the %s) is %s; it must be text or a number", key, what, jsonKind(v))
	}
	if s == "" {
		return "", fmt.Errorf("property %q (the %s) is empty", key, what)
	}
	return s, nil
}

// missingProp says a property is absent and lists the ones present, since
// the usual cause is a wrong field name (or case) in the configuration.
func missingProp(props map[string]any, key, what string) string {
	keys := slices.Sorted(maps.Keys(props))
	for _, k := range keys {
		if strings.EqualFold(k, key) {
			return fmt.Sprintf("no property %q (the %s); did you mean %q?", key, what, k)
		}
	}
	if len(keys) == 0 {
		return fmt.Sprintf("no property %q (the %s); the feature has no properties", key, what)
	}
	if len(keys) > 20 {
		keys = append(keys[:20], "…")
	}
	return fmt.Sprintf("no property %q (the %s); its properties are %s", key, what, strings.Join(keys, ", "))
}

func jsonKind(v any) string {
	switch v.(type) {
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}

// numberText writes a JSON number as text: integral values without a
// fraction or exponent ("14.0" → "14"), others as written in the file.
func numberText(n json.Number) string {
	s := string(n)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return strconv.FormatInt(i, 10)
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s // out of float range: keep the digits
	}
	if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
		return strconv.FormatInt(int64(x), 10)
	}
	if !strings.ContainsAny(s, "eE") {
		return s
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

func valueText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return numberText(v)
	case bool:
		return strconv.FormatBool(v)
	}
	b, err := json.Marshal(v) // objects and arrays, compact
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// decodeGeometry accepts Polygon and MultiPolygon geometries.
func decodeGeometry(raw json.RawMessage) (orb.MultiPolygon, error) {
	if isNull(raw) {
		return nil, errors.New("the feature has no geometry")
	}
	// Peek at the type first: orb/geojson reports every other type the
	// same way, and the operator needs to know which one it was.
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("the geometry is not a GeoJSON geometry object: %v", err)
	}
	if head.Type != "Polygon" && head.Type != "MultiPolygon" {
		if head.Type == "" {
			return nil, errors.New("the geometry has no type")
		}
		return nil, fmt.Errorf("the geometry is a %s; ward boundaries must be Polygon or MultiPolygon", head.Type)
	}
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return nil, fmt.Errorf("the %s's coordinates are malformed (want rings of [longitude, latitude] numbers): %v", head.Type, err)
	}
	switch c := g.Coordinates.(type) {
	case orb.Polygon:
		return orb.MultiPolygon{c}, nil
	case orb.MultiPolygon:
		return c, nil
	}
	return nil, fmt.Errorf("the geometry is a %s; ward boundaries must be Polygon or MultiPolygon", g.Type)
}

// checkCRS accepts a missing or null legacy "crs" member, and one naming
// WGS84 lon/lat; anything else means projected coordinates we would
// misread as degrees.
func checkCRS(raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var crs struct {
		Type       string `json:"type"`
		Properties struct {
			Name string `json:"name"`
			Href string `json:"href"`
			Code any    `json:"code"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(raw, &crs); err != nil {
		return fmt.Errorf("the \"crs\" member is malformed (%v); %s", err, wgs84Only)
	}
	var name string
	switch strings.ToLower(crs.Type) {
	case "name":
		name = crs.Properties.Name
		if isWGS84(name) {
			return nil
		}
	case "epsg": // GeoJSON 2008 draft form: {"type": "EPSG", "properties": {"code": 4326}}
		name = "EPSG:" + fmt.Sprint(crs.Properties.Code)
		if name == "EPSG:4326" {
			return nil
		}
	case "link":
		return fmt.Errorf("the file declares its coordinate reference system by link (%q), which cannot be checked; %s", crs.Properties.Href, wgs84Only)
	default:
		name = string(raw)
	}
	return fmt.Errorf("the file declares the coordinate reference system %q; %s", name, wgs84Only)
}

const wgs84Only = "coordinates must be WGS84 longitude/latitude (CRS84 or EPSG:4326); reproject the file first, e.g. ogr2ogr -t_srs EPSG:4326 wards-wgs84.geojson wards.geojson"

// isWGS84 recognises the usual spellings: urn:ogc:def:crs:OGC:1.3:CRS84,
// urn:ogc:def:crs:EPSG::4326, EPSG:4326 and the opengis.net URLs.
func isWGS84(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	if strings.HasSuffix(n, "crs84") {
		return true
	}
	parts := strings.FieldsFunc(n, func(r rune) bool { return r == ':' || r == '/' })
	return len(parts) >= 2 && parts[len(parts)-1] == "4326" && slices.Contains(parts, "epsg")
}

// jsonError turns a decoding error into one an operator can act on: where
// in the file, and what was expected.
func jsonError(b []byte, err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := lineCol(b, syn.Offset)
		return fmt.Errorf("wards: the ward file is not valid JSON (line %d, column %d): %v", line, col, err)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		if typ.Field == "" {
			return fmt.Errorf("wards: the ward file is JSON %s, not a GeoJSON object", typ.Value)
		}
		return fmt.Errorf("wards: not GeoJSON: %q is %s where GeoJSON expects %s", typ.Field, typ.Value, geoJSONKind(typ.Type.String()))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("wards: the ward file is not valid JSON: it ends too soon (truncated?)")
	}
	return fmt.Errorf("wards: the ward file is not valid GeoJSON: %v", err)
}

func geoJSONKind(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	}
	return "an object"
}

func lineCol(b []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(b)))
	pre := b[:off]
	line = bytes.Count(pre, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(pre, '\n') + 1)
	return line, col
}
