package assets_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/pinward/pinward/assets"
	"github.com/pinward/pinward/geo"
	"github.com/pinward/pinward/i18n"
)

func TestParseCSVFormat(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want assets.CSVFormat
	}{
		{"", assets.DefaultCSVFormat()},
		{"id=ENTITEID,wkt=GEOM,layer=hydrant", assets.CSVFormat{ID: "ENTITEID", WKT: "GEOM", DefaultLayer: "hydrant"}},
		{"id=FID,lon=Longitude,lat=Latitude,layer=bus_stop", assets.CSVFormat{ID: "FID", Lon: "Longitude", Lat: "Latitude", DefaultLayer: "bus_stop"}},
		{" ID = stop_id , LON=stop_lon,lat=stop_lat , layer=bus_stop", assets.CSVFormat{ID: "stop_id", Lon: "stop_lon", Lat: "stop_lat", DefaultLayer: "bus_stop"}},
		{"type=kind,layer=misc,version=rev", assets.CSVFormat{ID: "id", Layer: "kind", Lon: "lon", Lat: "lat", DefaultLayer: "misc", Version: "rev"}},
	} {
		got, err := assets.ParseCSVFormat(tc.spec)
		if err != nil {
			t.Errorf("ParseCSVFormat(%q): %v", tc.spec, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseCSVFormat(%q) = %+v, want %+v", tc.spec, got, tc.want)
		}
	}
	for spec, want := range map[string]string{
		"id=A,colour=red":         `unknown key "colour"`,
		"id=A,id=B":               "id= given twice",
		"id":                      `"id" is not key=value`,
		"id=":                     `"id=" is not key=value`,
		"wkt=GEOM,lon=x,lat=y":    "not both",
		"id=A,,layer=x":           `"" is not key=value`,
		"id=A,wkt=G,layer=x,lat=": `"lat=" is not key=value`,
	} {
		_, err := assets.ParseCSVFormat(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseCSVFormat(%q) error = %v, want it to mention %q", spec, err, want)
		}
	}
}

func TestLoadCSV(t *testing.T) {
	in := "\uFEFFid,type,lon,lat,name\n" +
		"L1,streetlight,-75.70,45.42,Elgin\n" +
		`"L2","streetlight","-75.71","45.43","Bank, north"` + "\n" +
		"\n" + // blank lines are skipped, and counted
		"H1,hydrant, -75.72 , 45.44 ,\n"
	got, rowErrs, err := assets.LoadCSV(strings.NewReader(in), assets.DefaultCSVFormat())
	if err != nil || len(rowErrs) != 0 {
		t.Fatalf("LoadCSV: %v %v", err, rowErrs)
	}
	want := []assets.Asset{
		{Layer: "streetlight", ID: "L1", Point: orb.Point{-75.70, 45.42}, Attrs: map[string]string{"name": "Elgin"}},
		{Layer: "streetlight", ID: "L2", Point: orb.Point{-75.71, 45.43}, Attrs: map[string]string{"name": "Bank, north"}},
		{Layer: "hydrant", ID: "H1", Point: orb.Point{-75.72, 45.44}, Attrs: map[string]string{"name": ""}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LoadCSV =\n%+v\nwant\n%+v", got, want)
	}
}

func TestLoadCSVWKT(t *testing.T) {
	// The shape of Gatineau's borne_fontaine.csv: BOM, every field quoted.
	in := "\uFEFF\"MUNID\",\"TYPE\",\"ENTITEID\",\"GEOM\"\r\n" +
		"\"81017\",\"Eau potable\",\"{863C7712-F50F-496B-8E31-92D0165FA301}\",\"POINT (-75.738712 45.500612)\"\r\n" +
		"\"81017\",\"Eau brute\",\"{B}\",\"SRID=4326;point z(-75.7 45.5 61.2)\"\r\n" +
		"\"81017\",\"Eau brute\",\"{C}\",\"MULTIPOINT ((-75.6 45.4))\"\r\n"
	f, err := assets.ParseCSVFormat("id=ENTITEID,wkt=GEOM,layer=hydrant")
	if err != nil {
		t.Fatal(err)
	}
	got, rowErrs, err := assets.LoadCSV(strings.NewReader(in), f)
	if err != nil || len(rowErrs) != 0 {
		t.Fatalf("LoadCSV: %v %v", err, rowErrs)
	}
	want := []assets.Asset{
		{Layer: "hydrant", ID: "{863C7712-F50F-496B-8E31-92D0165FA301}", Point: orb.Point{-75.738712, 45.500612},
			Attrs: map[string]string{"MUNID": "81017", "TYPE": "Eau potable"}},
		{Layer: "hydrant", ID: "{B}", Point: orb.Point{-75.7, 45.5}, Attrs: map[string]string{"MUNID": "81017", "TYPE": "Eau brute"}},
		{Layer: "hydrant", ID: "{C}", Point: orb.Point{-75.6, 45.4}, Attrs: map[string]string{"MUNID": "81017", "TYPE": "Eau brute"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LoadCSV =\n%+v\nwant\n%+v", got, want)
	}
}

func TestLoadCSVBadRows(t *testing.T) {
	in := "id,type,lon,lat,version\n" +
		"ok1,light,-75.70,45.42,3\n" + // 2
		",light,-75.70,45.42,\n" + // 3 missing ID
		"nan,light,NaN,45.42,\n" + // 4
		"far,light,-100.70,91,\n" + // 5 out of range
		"swap,light,45.42,-175.70,\n" + // 6 swapped
		"word,light,west,45.42,\n" + // 7
		"nolat,light,-75.70,,\n" + // 8
		"short,light,-75.70\n" + // 9 too few fields
		"long,light,-75.70,45.42,,extra\n" + // 10 too many
		"ok1,light,-75.71,45.43,\n" + // 11 duplicate
		"ok1,pole,-75.71,45.43,\n" + // 12 same ID, other layer: fine
		"nolayer,,-75.71,45.43,\n" + // 13
		"q\"uote,light,-75.70,45.42,\n" + // 14 bare quote
		"ver,light,-75.70,45.42,v2\n" + // 15
		"\"multi\nline\",light,-75.70,45.42,\n" + // 16–17: a quoted newline is fine
		"inf,light,-75.70,+Inf,\n" // 18
	f := assets.DefaultCSVFormat()
	f.Version = "version"
	got, rowErrs, err := assets.LoadCSV(strings.NewReader(in), f)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range got {
		ids = append(ids, a.Layer+"/"+a.ID)
	}
	if want := []string{"light/ok1", "pole/ok1", "light/multi\nline"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("loaded %q, want %q", ids, want)
	}
	if got[0].Version != 3 {
		t.Errorf("version = %d, want 3", got[0].Version)
	}
	want := []string{
		`line 3: missing ID (column "id")`,
		`line 4: id "nan": invalid geometry: longitude is not a finite number`,
		`line 5: id "far": invalid geometry: latitude 91 is out of range [-90, 90]`,
		`line 6: id "swap": invalid geometry: latitude -175.7 is out of range [-90, 90]; longitude and latitude look swapped`,
		`line 7: id "word": longitude "west" (column "lon") is not a number`,
		`line 8: id "nolat": missing latitude (column "lat")`,
		`line 9: row has 3 fields; the header has 5`,
		`line 10: row has 6 fields; the header has 5`,
		`line 11: id "ok1": duplicate ID in layer "light" (first on line 2)`,
		`line 13: id "nolayer": missing layer (column "type") and no default layer`,
		`line 14: bare " in non-quoted-field`,
		`line 15: id "ver": version "v2" (column "version") is not an integer`,
		`line 18: id "inf": invalid geometry: latitude is not a finite number`,
	}
	checkRowErrs(t, rowErrs, want)
	var ge *geo.InvalidError
	if !errors.As(rowErrs[1], &ge) {
		t.Errorf("row error %v does not wrap a *geo.InvalidError", rowErrs[1])
	}
}

func TestLoadCSVBadWKT(t *testing.T) {
	in := "ID,G\n" +
		"a,POINT (-75.7 45.5)\n" +
		"b,POINT(-75.7)\n" +
		"c,\"LINESTRING (0 0, 1 1)\"\n" +
		"d,POINT EMPTY\n" +
		"e,POINT (x 45.5)\n" +
		"f,SRID=2950;POINT (300000 5000000)\n" +
		"g,POINT -75.7 45.5\n" +
		"h,\n" +
		"i,\"MULTIPOINT ((-75.7 45.5), (-75.6 45.4))\"\n" +
		"j,POINT (45.5 -175.7)\n"
	got, rowErrs, err := assets.LoadCSV(strings.NewReader(in), assets.CSVFormat{ID: "id", WKT: "g", DefaultLayer: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "a" {
		t.Errorf("loaded %+v, want only a", got)
	}
	checkRowErrs(t, rowErrs, []string{
		`line 3: id "b": column "G": "POINT(-75.7)" is not a WKT point: want 2 to 4 numbers, have 1`,
		`line 4: id "c": column "G": "LINESTRING (0 0, 1 1)" is not a WKT point: want POINT (lon lat)`,
		`line 5: id "d": column "G": "POINT EMPTY" is not a WKT point: the point is empty`,
		`line 6: id "e": column "G": "POINT (x 45.5)" is not a WKT point: "x" is not a number`,
		`line 7: id "f": column "G": "SRID=2950;POINT (300000 5000000)" is not a WKT point: SRID 2950 is not WGS84 longitude/latitude (4326)`,
		`line 8: id "g": column "G": "POINT -75.7 45.5" is not a WKT point: coordinates must be in parentheses`,
		`line 9: id "h": column "G": "" is not a WKT point: empty`,
		`line 10: id "i": column "G": "MULTIPOINT ((-75.7 45.5), (-75.6 45.4))" is not a WKT point: a MULTIPOINT with more than one point`,
		`line 11: id "j": invalid geometry: latitude -175.7 is out of range [-90, 90]; longitude and latitude look swapped`,
	})
}

func TestLoadCSVMissingColumn(t *testing.T) {
	in := "X,Y,FID,F560,Location,Latitude,Longitude\n1,2,3,4,5,45.4,-75.7\n"
	f, _ := assets.ParseCSVFormat("id=FID,lon=Lon,lat=Latitude,layer=bus_stop")
	_, _, err := assets.LoadCSV(strings.NewReader(in), f)
	if err == nil || !strings.Contains(err.Error(), `no column "Lon" in the header`) ||
		!strings.Contains(err.Error(), "X, Y, FID, F560, Location, Latitude, Longitude") {
		t.Errorf("error = %v, want it to name the missing column and list the header", err)
	}
	if i18n.KindOf(err) != i18n.Invalid {
		t.Errorf("kind = %v, want invalid", i18n.KindOf(err))
	}

	// Column names match ignoring case when nothing matches exactly.
	f, _ = assets.ParseCSVFormat("id=fid,lon=longitude,lat=LATITUDE,layer=bus_stop")
	got, rowErrs, err := assets.LoadCSV(strings.NewReader(in), f)
	if err != nil || len(rowErrs) != 0 || len(got) != 1 || got[0].Point != (orb.Point{-75.7, 45.4}) {
		t.Errorf("case-insensitive columns: %+v %v %v", got, rowErrs, err)
	}

	for _, tc := range []struct {
		in, want string
		f        assets.CSVFormat
	}{
		{"", "the file is empty", assets.DefaultCSVFormat()},
		{"id,lon,lat\n", `no column "type"`, assets.DefaultCSVFormat()},
		{"id,lon,lat\n", "no layer column and no default layer", assets.CSVFormat{ID: "id", Lon: "lon", Lat: "lat"}},
		{"id,lon,lat\n", "no ID column", assets.CSVFormat{Lon: "lon", Lat: "lat", DefaultLayer: "x"}},
		{"id,lon,lat\n", "neither a WKT column", assets.CSVFormat{ID: "id", Lon: "lon", DefaultLayer: "x"}},
		{"ID,id,lon,lat\n", `column "Id" matches both "ID" and "id"`, assets.CSVFormat{ID: "Id", Lon: "lon", Lat: "lat", DefaultLayer: "x"}},
		{"a,\"b\nc\n", "read header", assets.DefaultCSVFormat()},
	} {
		_, _, err := assets.LoadCSV(strings.NewReader(tc.in), tc.f)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadCSV(%q) error = %v, want it to mention %q", tc.in, err, tc.want)
		}
	}
}

func TestLoadGeoJSON(t *testing.T) {
	in := "\uFEFF" + `{
  "type": "FeatureCollection",
  "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
  "features": [
    {"type": "Feature", "properties": {"OBJECTID": "1196", "BENCH_TYPE": "Bench", "YEAR": 2007, "ok": true, "n": null, "tags": ["a", "b"]},
     "geometry": {"type": "Point", "coordinates": [-75.63589699971, 45.36350140141]}},
    {"type": "Feature", "properties": {"OBJECTID": 1197, "kind": "picnic"},
     "geometry": {"type": "MultiPoint", "coordinates": [[-75.6, 45.3, 70]]}}
  ]
}`
	got, rowErrs, err := assets.LoadGeoJSON(strings.NewReader(in), "OBJECTID", "kind", "bench")
	if err != nil || len(rowErrs) != 0 {
		t.Fatalf("LoadGeoJSON: %v %v", err, rowErrs)
	}
	want := []assets.Asset{
		{Layer: "bench", ID: "1196", Point: orb.Point{-75.63589699971, 45.36350140141},
			Attrs: map[string]string{"BENCH_TYPE": "Bench", "YEAR": "2007", "ok": "true", "tags": `["a","b"]`}},
		{Layer: "picnic", ID: "1197", Point: orb.Point{-75.6, 45.3}}, // a MultiPoint of one point; no attributes
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LoadGeoJSON =\n%+v\nwant\n%+v", got, want)
	}

	// The feature's own id member, string or number.
	in = `{"type":"FeatureCollection","features":[
{"type":"Feature","id":12345678901234567890,"properties":{},"geometry":{"type":"Point","coordinates":[1,2]}},
{"type":"Feature","id":"a","properties":null,"geometry":{"type":"Point","coordinates":[3,4]}}]}`
	got, rowErrs, err = assets.LoadGeoJSON(strings.NewReader(in), "", "", "x")
	if err != nil || len(rowErrs) != 0 || len(got) != 2 || got[0].ID != "12345678901234567890" || got[1].ID != "a" {
		t.Errorf("feature ids: %+v %v %v", got, rowErrs, err)
	}
}

func TestLoadGeoJSONBadFeatures(t *testing.T) {
	in := `{"type": "FeatureCollection", "features": [
{"type": "Feature", "properties": {"ID": 1}, "geometry": {"type": "Point", "coordinates": [-75.7, 45.4]}},
{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [-75.7, 45.4]}},
{"type": "Feature", "properties": {"ID": 3}, "geometry": null},
{"type": "Feature", "properties": {"ID": 4}, "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}},
{"type": "Feature", "properties": {"ID": 5}, "geometry": {"type": "Point", "coordinates": [-75.7]}},
{"type": "Feature", "properties": {"ID": 6}, "geometry": {"type": "Point", "coordinates": [null, 45.4]}},
{"type": "Feature", "properties": {"ID": 7}, "geometry": {"type": "Point", "coordinates": [45.4, -175.7]}},
{"type": "Feature", "properties": {"ID": 8}, "geometry": {"type": "MultiPoint", "coordinates": [[0, 0], [1, 1]]}},
{"type": "Feature", "properties": {"ID": 1}, "geometry": {"type": "Point", "coordinates": [-75.7, 45.4]}},
{"type": "Feature", "properties": {"ID": {"a": 1}}, "geometry": {"type": "Point", "coordinates": [-75.7, 45.4]}},
{"type": "Point", "coordinates": [-75.7, 45.4]},
"not a feature",

{"type": "Feature", "properties": {"ID": "ok"},
 "geometry": {"type": "Point", "coordinates": [-75.7, 45.4]}}
]}`
	got, rowErrs, err := assets.LoadGeoJSON(strings.NewReader(in), "ID", "", "bench")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "1" || got[1].ID != "ok" {
		t.Errorf("loaded %+v, want IDs 1 and ok", got)
	}
	checkRowErrs(t, rowErrs, []string{
		`line 3: missing ID (property "ID")`,
		`line 4: id "3": the feature has no geometry`,
		`line 5: id "4": the geometry is a LineString; want a Point (or a MultiPoint of one point)`,
		`line 6: id "5": a point has 2 coordinates (longitude, latitude), not 1`,
		`line 7: id "6": coordinate null is not a number`,
		`line 8: id "7": 45.4, -175.7 is not a valid longitude, latitude (WGS84, in that order): invalid geometry: latitude -175.7 is out of range [-90, 90]; longitude and latitude look swapped`,
		`line 9: id "8": the geometry is a MultiPoint of 2 points; want one point`,
		`line 10: id "1": duplicate ID in layer "bench" (first on line 2)`,
		`line 11: property "ID" is an object; want text or a number`,
		`line 12: type is "Point"; want "Feature"`,
		`line 13: not a GeoJSON Feature: it is a string`,
	})

	for _, tc := range []struct{ in, want string }{
		{`[]`, "the asset file is JSON array, not a GeoJSON object"},
		{`{"type": "Feature", "features": []}`, `the asset file is a GeoJSON Feature; want a FeatureCollection of Point features`},
		{`{"type": "FeatureCollection"}`, `the FeatureCollection has no "features" array`},
		{`{"type": "FeatureCollection", "features": [`, "not valid JSON"},
		{`{"type": "FeatureCollection", "features": [{"type": }]}`, "not valid JSON"},
		{`{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32188"}}, "features": []}`, `the file declares the coordinate reference system "urn:ogc:def:crs:EPSG::32188"; coordinates must be WGS84`},
	} {
		_, _, err := assets.LoadGeoJSON(strings.NewReader(tc.in), "ID", "", "bench")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadGeoJSON(%s) error = %v, want it to mention %q", tc.in, err, tc.want)
		}
	}
	if _, _, err := assets.LoadGeoJSON(strings.NewReader(in), "ID", "", ""); err == nil {
		t.Error("no layer property and no default layer: want an error")
	}
}

func checkRowErrs(t *testing.T, got []assets.RowError, want []string) {
	t.Helper()
	var msgs []string
	for _, e := range got {
		msgs = append(msgs, e.Error())
	}
	if !reflect.DeepEqual(msgs, want) {
		t.Errorf("row errors:\n  %s\nwant:\n  %s", strings.Join(msgs, "\n  "), strings.Join(want, "\n  "))
	}
}
