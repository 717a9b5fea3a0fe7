package geojsonio

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/i18n"
)

func readAll(t *testing.T, doc string, o Options) ([]Raw, error) {
	t.Helper()
	var got []Raw
	err := Read(strings.NewReader(doc), o, func(r Raw) error { got = append(got, r); return nil })
	return got, err
}

func TestReadDocument(t *testing.T) {
	doc := "\uFEFF{\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"EPSG:4326\"}},\n\"features\":[\n{\"type\":\"Feature\"},\n\n  {\"type\":\"Feature\",\n\"id\":2}],\"type\":\"FeatureCollection\"}\n"
	got, err := readAll(t, doc, Options{})
	if err != nil || len(got) != 2 || got[0].Line != 3 || got[1].Line != 5 || got[1].Index != 1 {
		t.Fatalf("features %+v, %v", got, err)
	}
	// A single Feature, where allowed.
	got, err = readAll(t, `{"properties":{"a":1},"type":"Feature","geometry":null}`, Options{Single: true})
	if err != nil || len(got) != 1 || !got[0].Single {
		t.Fatalf("single feature: %+v, %v", got, err)
	}
	if f, err := Decode(got[0]); err != nil || string(f.Properties["a"]) != "1" {
		t.Errorf("single feature decoded: %+v, %v", f, err)
	}

	for doc, want := range map[string]string{
		``:                             "the file is empty",
		`[1]`:                          "the file is JSON array, not a GeoJSON object",
		`{"type":"Feature"}`:           "the file is a GeoJSON Feature; want a FeatureCollection",
		`{"type":"FeatureCollection"}`: `the FeatureCollection has no "features" array`,
		`{"features":[]}`:              `not GeoJSON: the top-level object has no "type"`,
		`{"type":"FeatureCollection","features":[]} {}`:                                                       "the file is not valid JSON",
		`{"type":"FeatureCollection","features":{}}`:                                                          `"features" is an object where GeoJSON expects an array`,
		`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:32618"}},"features":[]}`: `coordinate reference system "EPSG:32618"`,
	} {
		_, err := readAll(t, doc, Options{})
		var ie *i18n.Error
		if !errors.As(err, &ie) || !strings.Contains(ie.Message.En, want) || ie.Message.Fr == "" || ie.Kind != i18n.Invalid {
			t.Errorf("Read(%s) = %v, want an Invalid error containing %q", doc, err, want)
		}
	}
	// Syntax errors say where.
	_, err = readAll(t, "{\"type\":\"FeatureCollection\",\n\"features\":[}", Options{})
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 2 || se.Column != 13 {
		t.Errorf("syntax error %v (%+v), want line 2 column 13", err, se)
	}
	// A read error is kept, for the API's size limit.
	if _, err := readAll(t, "", Options{}); err == nil {
		t.Error("empty input accepted")
	}
	if err := Read(io.MultiReader(strings.NewReader("{"), errReader{}), Options{}, nil); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("read error %v, want it wrapped", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrClosedPipe }

func feature(t *testing.T, s string) *Feature {
	t.Helper()
	f, err := Decode(Raw{JSON: json.RawMessage(s)})
	if err != nil {
		t.Fatalf("Decode(%s): %v", s, err)
	}
	return f
}

func TestPropertiesRule(t *testing.T) {
	f := feature(t, `{"type":"Feature","properties":{"id":14.0,"big":12345678901234567890,"e":1.5e-9,"half":13.50,
		"s":" x ","b":true,"o":{"z":1, "a":[1, 2]},"n":null}}`)
	for key, want := range map[string]string{"id": "14", "big": "12345678901234567890", "e": "1.5e-09", "half": "13.50", "s": " x "} {
		if got, ok, err := f.Text(key); err != nil || !ok || got != want {
			t.Errorf("Text(%s) = %q, %v, %v; want %q", key, got, ok, err, want)
		}
	}
	if _, ok, err := f.Text("n"); ok || err != nil {
		t.Errorf("null: ok %v, err %v", ok, err)
	}
	if _, _, err := f.Text("b"); err == nil || err.Message.En != "is a boolean; want text or a number" {
		t.Errorf("boolean as text: %v", err)
	}
	want := map[string]string{"big": "12345678901234567890", "e": "1.5e-09", "half": "13.50", "s": " x ", "b": "true", "o": `{"z":1,"a":[1,2]}`}
	if got := f.Attrs("id"); !reflect.DeepEqual(got, want) {
		t.Errorf("Attrs = %v, want %v", got, want)
	}
	if got := feature(t, `{"type":"Feature","properties":{}}`).Attrs(); got != nil {
		t.Errorf("no properties: Attrs = %v, want nil", got)
	}
	for _, bad := range []string{`"x"`, `{"type":"Point"}`, `{"properties":{}}`, `{"type":"Feature","properties":[1]}`} {
		if _, err := Decode(Raw{JSON: json.RawMessage(bad)}); err == nil || err.Message.Fr == "" {
			t.Errorf("Decode(%s) = %v, want a bilingual error", bad, err)
		}
	}
}

func TestPointRule(t *testing.T) {
	for geom, want := range map[string]orb.Point{
		`{"type":"Point","coordinates":[-75.7,45.4]}`:          {-75.7, 45.4},
		`{"type":"Point","coordinates":[-75.7,45.4,70]}`:       {-75.7, 45.4},
		`{"type":"MultiPoint","coordinates":[[-75.7,45.4]]}`:   {-75.7, 45.4},
		`{"type":"MultiPoint","coordinates":[[-75.7,45.4,1]]}`: {-75.7, 45.4},
	} {
		p, err := feature(t, `{"type":"Feature","geometry":`+geom+`}`).Point()
		if err != nil || p != want {
			t.Errorf("Point(%s) = %v, %v; want %v", geom, p, err, want)
		}
	}
	for geom, want := range map[string]string{
		`null`: "the feature has no geometry",
		`{"type":"MultiPoint","coordinates":[[0,0],[1,1]]}`: "MultiPoint of 2 points",
		`{"type":"MultiPoint","coordinates":[]}`:            "MultiPoint of 0 points",
		`{"type":"LineString","coordinates":[[0,0],[1,1]]}`: "the geometry is a LineString",
		`{"type":"Point","coordinates":[]}`:                 "not 0",
		`{"type":"Point","coordinates":[null,45]}`:          "coordinate null is not a number",
		`{"type":"Point","coordinates":["1",45]}`:           `coordinate "1" is not a number`,
		`{"type":"Point","coordinates":[1e999,45]}`:         "not a valid longitude, latitude",
		`{"type":"Point","coordinates":[45.4,-175.7]}`:      "not a valid longitude, latitude",
		`{"type":"Point","coordinates":[1,2,3,4]}`:          "not 4",
		`{"coordinates":[1,2]}`:                             "no type",
	} {
		_, err := feature(t, `{"type":"Feature","geometry":`+geom+`}`).Point()
		if err == nil || !strings.Contains(err.Message.En, want) || err.Field != "geometry" || err.Message.Fr == "" {
			t.Errorf("Point(%s) = %v, want %q", geom, err, want)
		}
	}
}

func TestAreas(t *testing.T) {
	mp, err := feature(t, `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}`).Areas()
	if err != nil || len(mp) != 1 || len(mp[0][0]) != 4 {
		t.Errorf("Polygon: %v, %v", mp, err)
	}
	if _, err := feature(t, `{"type":"Feature","geometry":{"type":"Point","coordinates":[0,0]}}`).Areas(); err == nil ||
		err.Message.En != "the geometry is a Point; want a Polygon or a MultiPolygon" {
		t.Errorf("Point as area: %v", err)
	}
}
