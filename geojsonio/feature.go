package geojsonio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pinward/pinward/i18n"
	"github.com/pinward/pinward/text"
)

// Feature is one decoded GeoJSON Feature. Its geometry is decoded on
// demand (Point, Areas), so a caller pays only for the kind it wants.
type Feature struct {
	Raw
	// ID is the feature's "id" member, as JSON (nil when absent).
	ID json.RawMessage
	// Properties are the feature's properties, as JSON; nil when the
	// feature has none (absent, null or {}).
	Properties map[string]json.RawMessage
	// Geometry is the geometry member, as JSON (nil when absent).
	Geometry json.RawMessage
}

type featureJSON struct {
	Type       json.RawMessage `json:"type"`
	ID         json.RawMessage `json:"id"`
	CRS        json.RawMessage `json:"crs"`
	Properties json.RawMessage `json:"properties"`
	Geometry   json.RawMessage `json:"geometry"`
}

// Decode decodes one feature. The error says, in both languages, why raw
// is not a GeoJSON Feature (or declares a CRS other than WGS84).
func Decode(raw Raw) (*Feature, *i18n.Error) {
	if k := kindOf(raw.JSON); k != "an object" {
		return nil, bad("not a GeoJSON Feature: it is "+k, "pas une Feature GeoJSON : c'est "+frKind(k))
	}
	var fj featureJSON
	if err := json.Unmarshal(raw.JSON, &fj); err != nil {
		e := bad("not a GeoJSON Feature: "+text.Clip(err.Error(), text.Cell), "pas une Feature GeoJSON : "+text.Clip(err.Error(), text.Cell))
		e.Err = err
		return nil, e
	}
	var typ string
	if json.Unmarshal(fj.Type, &typ) != nil || typ != "Feature" {
		got := text.Clip(string(bytes.TrimSpace(fj.Type)), text.Short)
		if len(fj.Type) == 0 {
			got = "missing"
		}
		e := bad(fmt.Sprintf(`type is %s; want "Feature"`, got), fmt.Sprintf(`le type est %s; "Feature" est attendu`, got))
		e.Field = "type"
		return nil, e
	}
	if err := CheckCRS(fj.CRS); err != nil {
		return nil, err
	}
	f := &Feature{Raw: raw, ID: nonNull(fj.ID), Geometry: nonNull(fj.Geometry)}
	if p := nonNull(fj.Properties); p != nil {
		d := json.NewDecoder(bytes.NewReader(p))
		d.UseNumber()
		if err := d.Decode(&f.Properties); err != nil {
			e := bad("properties must be a JSON object, not "+kindOf(p), "les propriétés doivent être un objet JSON, pas "+frKind(kindOf(p)))
			e.Field = "properties"
			return nil, e
		}
		if len(f.Properties) == 0 {
			f.Properties = nil
		}
	}
	return f, nil
}

func nonNull(m json.RawMessage) json.RawMessage {
	m = bytes.TrimSpace(m)
	if len(m) == 0 || string(m) == "null" {
		return nil
	}
	return m
}

// Keys returns the feature's property names, sorted, for messages that
// list them (a wrong field name is the usual mistake).
func (f *Feature) Keys() []string { return slices.Sorted(maps.Keys(f.Properties)) }

// Has reports whether the feature has property key (even null).
func (f *Feature) Has(key string) bool {
	_, ok := f.Properties[key]
	return ok
}

// Text returns property key as text by the scalar rule (see Scalar);
// ok is false when it is absent or null.
func (f *Feature) Text(key string) (s string, ok bool, err *i18n.Error) {
	return Scalar(f.Properties[key])
}

// Scalar returns a JSON string's value or a number's text (see
// NumberText); ok is false for null or nothing. Booleans, objects and
// arrays are refused: they cannot be an ID or a name.
func Scalar(raw json.RawMessage) (s string, ok bool, err *i18n.Error) {
	raw = nonNull(raw)
	if raw == nil {
		return "", false, nil
	}
	switch k := kindOf(raw); k {
	case "a string":
		if json.Unmarshal(raw, &s) != nil {
			return "", false, bad("is a malformed string", "est une chaîne mal formée")
		}
		return s, true, nil
	case "a number":
		return NumberText(json.Number(raw)), true, nil
	default:
		return "", false, bad(fmt.Sprintf("is %s; want text or a number", k), fmt.Sprintf("est %s; du texte ou un nombre est attendu", frKind(k)))
	}
}

// Attrs returns the feature's properties but skip as attributes: strings
// as they are, numbers as NumberText, booleans as true/false, objects and
// arrays as compact JSON; null properties are left out. It is nil when
// nothing is left.
func (f *Feature) Attrs(skip ...string) map[string]string {
	var out map[string]string
	for k, v := range f.Properties {
		if slices.Contains(skip, k) {
			continue
		}
		if s, ok := AttrText(v); ok {
			if out == nil {
				out = make(map[string]string, len(f.Properties))
			}
			out[k] = s
		}
	}
	return out
}

// AttrText is one property as an attribute (see Attrs); ok is false for
// null.
func AttrText(raw json.RawMessage) (string, bool) {
	raw = nonNull(raw)
	if raw == nil {
		return "", false
	}
	if s, ok, err := Scalar(raw); err == nil && ok {
		return s, true
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		return buf.String(), true
	}
	return string(raw), true
}

// NumberText writes a JSON number as text: a whole number without a
// fraction or exponent ("14.0" and "1.4e1" are "14"; one beyond 2^53 keeps
// its digits), others as written, or shortest form when written with an
// exponent ("1.5e-9" is "1.5e-09").
func NumberText(n json.Number) string {
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

func frKind(k string) string {
	switch k {
	case "an object":
		return "un objet"
	case "an array":
		return "un tableau"
	case "a string":
		return "une chaîne"
	case "a boolean":
		return "un booléen"
	case "a number":
		return "un nombre"
	case "nothing":
		return "vide"
	}
	return k
}
