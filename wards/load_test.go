package wards

import (
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
)

// square is a closed ring around (x, y) with half-side h, as GeoJSON text.
func square(x, y, h float64) string {
	r := orb.Ring{{x - h, y - h}, {x + h, y - h}, {x + h, y + h}, {x - h, y + h}, {x - h, y - h}}
	return ringJSON(r)
}

func ringJSON(r orb.Ring) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, p := range r {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("[" + ftoa(p[0]) + "," + ftoa(p[1]) + "]")
	}
	b.WriteByte(']')
	return b.String()
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func collection(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

func feature(props, geometry string) string {
	return `{"type":"Feature","properties":` + props + `,"geometry":` + geometry + `}`
}

func polygonJSON(rings ...string) string {
	return `{"type":"Polygon","coordinates":[` + strings.Join(rings, ",") + `]}`
}

func load(t *testing.T, doc string, f Fields) ([]Ward, error) {
	t.Helper()
	return LoadGeoJSON(strings.NewReader(doc), f)
}

func TestLoadPolygon(t *testing.T) {
	doc := collection(
		feature(`{"id":"1","name_en":" Downtown ","name_fr":"Centre-ville","pop":1200,"area":2.50,"open":true,"meta":{"b":1,"a":"x"},"gone":null}`,
			polygonJSON(square(-75.70, 45.42, 0.01))),
		feature(`{"id":"2","name_en":"Riverside","name_fr":""}`, polygonJSON(square(-75.68, 45.42, 0.01))),
	)
	ws, err := load(t, doc, DefaultFields())
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 {
		t.Fatalf("got %d wards, want 2", len(ws))
	}
	w := ws[0]
	if w.ID != "1" || w.Name != i18n.T("Downtown", "Centre-ville") {
		t.Errorf("ward 0 = %q %+v", w.ID, w.Name)
	}
	wantProps := map[string]string{"pop": "1200", "area": "2.50", "open": "true", "meta": `{"b":1,"a":"x"}`} // compact, as written
	if !reflect.DeepEqual(w.Props, wantProps) {
		t.Errorf("props = %v, want %v", w.Props, wantProps)
	}
	if len(w.Geometry) != 1 || len(w.Geometry[0]) != 1 || len(w.Geometry[0][0]) != 5 {
		t.Errorf("geometry = %v", w.Geometry)
	}
	// A blank French name falls back to the English one.
	if ws[1].Name != i18n.T("Riverside", "Riverside") {
		t.Errorf("ward 1 name = %+v", ws[1].Name)
	}
}

func TestLoadMultiPolygonWithHole(t *testing.T) {
	// Ward "A": a square with a square hole, plus an island part; the hole
	// is ward "B". A point in the hole must be B's, the island A's.
	outer, hole := square(0, 0, 1), square(0, 0, 0.25)
	doc := collection(
		feature(`{"id":"A"}`, `{"type":"MultiPolygon","coordinates":[[`+outer+`,`+hole+`],[`+square(5, 5, 0.5)+`]]}`),
		feature(`{"id":"B"}`, polygonJSON(hole)),
	)
	ws, err := load(t, doc, Fields{ID: "id"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ws[0].Name; got != i18n.T("A", "A") {
		t.Errorf("name without name fields = %+v, want the ID", got)
	}
	g, err := NewGeneration(ws, zeroTime, zeroTime)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p    orb.Point
		want string
	}{
		{orb.Point{0.5, 0.5}, "A"},
		{orb.Point{0.1, 0.1}, "B"},
		{orb.Point{0.25, 0}, "A"}, // on the hole's ring: both cover it, A is listed first
		{orb.Point{5.1, 5.1}, "A"},
		{orb.Point{3, 3}, ""},
	} {
		w, ok := g.Locate(c.p)
		got := ""
		if ok {
			got = w.ID
		}
		if got != c.want {
			t.Errorf("Locate(%v) = %q, want %q", c.p, got, c.want)
		}
	}
}

func TestLoadNumbers(t *testing.T) {
	doc := collection(
		feature(`{"WARD":7,"NAME":"Seven","SHAPE_Area":13126980.126472551,"big":12345678901234567890,"e":1.5e-9,"whole":4.0}`, polygonJSON(square(0, 0, 1))),
		feature(`{"WARD":8.0,"NAME":8}`, polygonJSON(square(3, 0, 1))),
		feature(`{"WARD":9e0,"NAME":"Nine"}`, polygonJSON(square(6, 0, 1))),
	)
	ws, err := load(t, doc, Fields{ID: "WARD", NameEn: "NAME"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, w := range ws {
		ids = append(ids, w.ID)
	}
	if want := []string{"7", "8", "9"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids = %q, want %q", ids, want)
	}
	if ws[1].Name.En != "8" {
		t.Errorf("numeric name = %q", ws[1].Name.En)
	}
	want := map[string]string{"SHAPE_Area": "13126980.126472551", "big": "12345678901234567890", "e": "1.5e-09", "whole": "4"}
	if !reflect.DeepEqual(ws[0].Props, want) {
		t.Errorf("props = %v, want %v", ws[0].Props, want)
	}
}

func TestLoadBOMAndSingleFeature(t *testing.T) {
	doc := "\uFEFF" + feature(`{"id":"1"}`, polygonJSON(square(0, 0, 1)))
	ws, err := load(t, doc, Fields{ID: "id"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].ID != "1" {
		t.Errorf("got %+v", ws)
	}
	// Readers that return data a byte at a time must work too.
	if _, err := LoadGeoJSON(iotest.OneByteReader(strings.NewReader(doc)), Fields{ID: "id"}); err != nil {
		t.Error(err)
	}
}

func TestLoadIgnoresAltitude(t *testing.T) {
	// Some exports write [lon, lat, 0]; the third value is dropped.
	doc := collection(feature(`{"id":"1"}`, polygonJSON(`[[0,0,0],[1,0,0],[1,1,5],[0,0,0]]`)))
	ws, err := load(t, doc, Fields{ID: "id"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ws[0].Geometry[0][0][2]; got != (orb.Point{1, 1}) {
		t.Errorf("vertex 2 = %v", got)
	}
}

func TestLoadCRS(t *testing.T) {
	body := `"features":[` + feature(`{"id":"1"}`, polygonJSON(square(0, 0, 1))) + `]}`
	for _, crs := range []string{
		`null`,
		`{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}}`,
		`{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4326"}}`,
		`{"type":"name","properties":{"name":"EPSG:4326"}}`,
		`{"type":"name","properties":{"name":"http://www.opengis.net/def/crs/EPSG/0/4326"}}`,
		`{"type":"EPSG","properties":{"code":4326}}`,
	} {
		if _, err := load(t, `{"type":"FeatureCollection","crs":`+crs+`,`+body, Fields{ID: "id"}); err != nil {
			t.Errorf("crs %s: %v", crs, err)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	good := polygonJSON(square(0, 0, 1))
	bowtie := polygonJSON(`[[0,0],[1,1],[1,0],[0,1],[0,0]]`)
	cases := []struct {
		name, doc string
		fields    Fields
		want      string
	}{
		{"bad CRS",
			`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32188"}},"features":[]}`,
			DefaultFields(),
			`wards: the file declares the coordinate reference system "urn:ogc:def:crs:EPSG::32188"; coordinates must be WGS84 longitude/latitude (CRS84 or EPSG:4326); reproject the file first, e.g. ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson`},
		{"CRS by link",
			`{"type":"FeatureCollection","crs":{"type":"link","properties":{"href":"http://example.com/crs.wkt"}},"features":[]}`,
			DefaultFields(),
			`wards: the file declares its coordinate reference system by link ("http://example.com/crs.wkt"), which cannot be checked; coordinates must be WGS84 longitude/latitude (CRS84 or EPSG:4326); reproject the file first, e.g. ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson`},
		{"feature-level CRS",
			collection(`{"type":"Feature","crs":{"type":"name","properties":{"name":"EPSG:2951"}},"properties":{"id":"1"},"geometry":` + good + `}`),
			Fields{ID: "id"},
			`wards: features[0]: the file declares the coordinate reference system "EPSG:2951"; coordinates must be WGS84 longitude/latitude (CRS84 or EPSG:4326); reproject the file first, e.g. ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson`},
		{"missing id",
			collection(feature(`{"WARD":"1","NAME":"A"}`, good), feature(`{"NAME":"B"}`, good)),
			Fields{ID: "WARD", NameEn: "NAME"},
			`wards: features[1]: no property "WARD" (the ward ID); its properties are NAME`},
		{"id in another case",
			collection(feature(`{"ward":"1"}`, good)),
			Fields{ID: "WARD"},
			`wards: features[0]: no property "WARD" (the ward ID); did you mean "ward"?`},
		{"null id",
			collection(feature(`{"id":null}`, good)),
			Fields{ID: "id"},
			`wards: features[0]: property "id" (the ward ID) is null`},
		{"blank id",
			collection(feature(`{"id":"  "}`, good)),
			Fields{ID: "id"},
			`wards: features[0]: property "id" (the ward ID) is empty`},
		{"boolean id",
			collection(feature(`{"id":true}`, good)),
			Fields{ID: "id"},
			`wards: features[0]: property "id" (the ward ID) is a boolean; want text or a number`},
		{"no properties",
			collection(feature(`null`, good)),
			Fields{ID: "id"},
			`wards: features[0]: no property "id" (the ward ID); the feature has no properties`},
		{"missing name",
			collection(feature(`{"id":"1","NOM":"Hull"}`, good)),
			Fields{ID: "id", NameEn: "NAME"},
			`wards: features[0] (id "1"): no property "NAME" (the ward name); its properties are NOM, id`},
		{"wrong French name field",
			collection(feature(`{"id":"1","name_en":"Hull","NOM":"Hull"}`, good)),
			Fields{ID: "id", NameEn: "name_en", NameFr: "NAME_FR"},
			`wards: features[0] (id "1"): no property "NAME_FR" (the French ward name); its properties are NOM, id, name_en`},
		{"French name in some features only",
			collection(feature(`{"id":"1","name_en":"A","name_fr":"A"}`, good), feature(`{"id":"2","name_en":"B"}`, polygonJSON(square(3, 0, 1)))),
			DefaultFields(),
			`wards: features[1] (id "2"): no property "name_fr" (the French ward name); its properties are id, name_en`},
		{"default fields, no ID and no name",
			collection(feature(`{"WARD":"WARD 7","NUMBER":"7"}`, good)),
			DefaultFields(),
			`wards: features[0]: no property "id" (the ward ID); its properties are NUMBER, WARD`},
		{"duplicate id",
			collection(feature(`{"id":"1"}`, good), feature(`{"id":"2"}`, good), feature(`{"id":1}`, good)),
			Fields{ID: "id"},
			`wards: features[2] (id "1"): duplicate ward ID, also used by features[0]`},
		{"self-intersecting ring",
			collection(feature(`{"id":"1"}`, bowtie)),
			Fields{ID: "id"},
			`wards: invalid geometry in features[0] (id "1"): ring intersects itself near 1.0000000,0.0000000`},
		{"unclosed ring",
			collection(feature(`{"id":"1"}`, polygonJSON(`[[0,0],[1,0],[1,1],[0,1]]`))),
			Fields{ID: "id"},
			`wards: invalid geometry in features[0] (id "1"): ring is not closed: first point [0 0] differs from last point [0 1]`},
		{"projected coordinates without crs",
			collection(feature(`{"id":"1"}`, polygonJSON(`[[296755,5052363],[296820,5052322],[296847,5052306],[296755,5052363]]`))),
			Fields{ID: "id"},
			`wards: invalid geometry in features[0] (id "1"): longitude 296755 is out of range [-180, 180]`},
		{"point geometry",
			collection(feature(`{"id":"1"}`, `{"type":"Point","coordinates":[-75.7,45.4]}`)),
			Fields{ID: "id"},
			`wards: features[0] (id "1"): the geometry is a Point; want a Polygon or a MultiPolygon`},
		{"null geometry",
			collection(feature(`{"id":"1"}`, `null`)),
			Fields{ID: "id"},
			`wards: features[0] (id "1"): the feature has no geometry`},
		{"malformed coordinates",
			collection(feature(`{"id":"1"}`, `{"type":"Polygon","coordinates":[["a"]]}`)),
			Fields{ID: "id"},
			`wards: features[0] (id "1"): the Polygon's coordinates are malformed (want rings of [longitude, latitude] numbers): json: cannot unmarshal string into Go value of type orb.Point`},
		{"not JSON",
			`hello`,
			DefaultFields(),
			`wards: the ward file is not valid JSON (line 1, column 1): invalid character 'h' looking for beginning of value`},
		{"bad JSON on a later line",
			"{\n \"type\": \"FeatureCollection\",\n \"features\": [}\n",
			DefaultFields(),
			`wards: the ward file is not valid JSON (line 3, column 15): invalid character '}' looking for beginning of value`},
		{"truncated",
			`{"type":"FeatureCollection","features":[`,
			DefaultFields(),
			`wards: the ward file is not valid JSON (line 1, column 40): unexpected end of JSON input`},
		{"empty",
			" \n",
			DefaultFields(),
			`wards: the ward file is empty`},
		{"JSON array",
			`[1,2]`,
			DefaultFields(),
			`wards: the ward file is JSON array, not a GeoJSON object`},
		{"features not an array",
			`{"type":"FeatureCollection","features":{}}`,
			DefaultFields(),
			`wards: not GeoJSON: "features" is an object where GeoJSON expects an array`},
		{"bare geometry",
			polygonJSON(square(0, 0, 1)),
			DefaultFields(),
			`wards: the ward file is a GeoJSON Polygon; want a FeatureCollection (or a Feature) of Polygon or MultiPolygon features with the ward ID in their properties`},
		{"no type",
			`{"features":[]}`,
			DefaultFields(),
			`wards: not GeoJSON: the top-level object has no "type"; want a FeatureCollection (or a Feature) of Polygon or MultiPolygon features with the ward ID in their properties`},
		{"no features",
			`{"type":"FeatureCollection","features":[]}`,
			DefaultFields(),
			`wards: the FeatureCollection has no features`},
		{"feature of the wrong type",
			collection(`{"type":"Polygon","coordinates":[]}`),
			DefaultFields(),
			`wards: features[0]: type is "Polygon"; want "Feature"`},
		{"no ID field configured",
			collection(feature(`{"id":"1"}`, good)),
			Fields{},
			`wards: no ID property given (Fields.ID is empty)`},
		{"several problems at once",
			collection(feature(`{"id":"1"}`, bowtie), feature(`{}`, good), feature(`{"id":"3"}`, `{"type":"LineString","coordinates":[[0,0],[1,1]]}`)),
			Fields{ID: "id"},
			"wards: invalid geometry in features[0] (id \"1\"): ring intersects itself near 1.0000000,0.0000000\n" +
				"wards: features[1]: no property \"id\" (the ward ID); the feature has no properties\n" +
				"wards: features[2] (id \"3\"): the geometry is a LineString; want a Polygon or a MultiPolygon"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws, err := load(t, c.doc, c.fields)
			if err == nil {
				t.Fatalf("no error; got %d wards", len(ws))
			}
			if ws != nil {
				t.Errorf("wards returned with an error: %v", ws)
			}
			if err.Error() != c.want {
				t.Errorf("error:\n got  %s\n want %s", err, c.want)
			}
		})
	}
}

func TestLoadGeometryErrorIsNamed(t *testing.T) {
	_, err := load(t, collection(feature(`{"id":"14"}`, polygonJSON(`[[0,0],[1,1],[1,0],[0,1],[0,0]]`))), Fields{ID: "id"})
	var inv *geo.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("error %v is not a *geo.InvalidError", err)
	}
	if inv.Feature != `features[0] (id "14")` {
		t.Errorf("Feature = %q", inv.Feature)
	}
}

func TestLoadTooManyProblems(t *testing.T) {
	var fs []string
	for range 50 {
		fs = append(fs, feature(`{"id":"1"}`, `{"type":"Point","coordinates":[0,0]}`))
	}
	_, err := load(t, collection(fs...), Fields{ID: "id"})
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxProblems+1 || lines[maxProblems] != "wards: stopped after 10 problems" {
		t.Errorf("got %d lines, last %q", len(lines), lines[len(lines)-1])
	}
}

func TestLoadReadError(t *testing.T) {
	_, err := LoadGeoJSON(iotest.ErrReader(io.ErrClosedPipe), DefaultFields())
	if !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("err = %v", err)
	}
}

func TestParseFields(t *testing.T) {
	for spec, want := range map[string]Fields{
		"WARD,NAME,NAME_FR": {ID: "WARD", NameEn: "NAME", NameFr: "NAME_FR"},
		" CODEID , NOM ":    {ID: "CODEID", NameEn: "NOM"},
		"name":              {ID: "name"},
	} {
		got, err := ParseFields(spec)
		if err != nil || got != want {
			t.Errorf("ParseFields(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	for spec, want := range map[string]string{
		"":           `ward fields "": name 1 is empty; want ID[,NAME_EN[,NAME_FR]] property names, e.g. "WARD,NAME,NAME_FR"`,
		"WARD,,FR":   `ward fields "WARD,,FR": name 2 is empty; want ID[,NAME_EN[,NAME_FR]] property names, e.g. "WARD,NAME,NAME_FR"`,
		"a,b,c,d":    `ward fields "a,b,c,d": 4 names given, at most 3; want ID[,NAME_EN[,NAME_FR]] property names, e.g. "WARD,NAME,NAME_FR"`,
		"WARD,NAME,": `ward fields "WARD,NAME,": name 3 is empty; want ID[,NAME_EN[,NAME_FR]] property names, e.g. "WARD,NAME,NAME_FR"`,
	} {
		if _, err := ParseFields(spec); err == nil || err.Error() != want {
			t.Errorf("ParseFields(%q) error:\n got  %v\n want %s", spec, err, want)
		}
	}
	if got := DefaultFields(); got != (Fields{ID: "id", NameEn: "name_en", NameFr: "name_fr"}) {
		t.Errorf("DefaultFields() = %+v", got)
	}
}
