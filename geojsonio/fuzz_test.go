package geojsonio

import (
	"errors"
	"testing"

	"github.com/pinward/pinward/i18n"
)

// FuzzReadDecode feeds arbitrary bytes to the GeoJSON reader and decodes
// every feature it yields: nothing panics, a refusal is a *SyntaxError or a
// bilingual *i18n.Error, and a feature read is one the reader vouched for.
// Seeds: testdata/fuzz/FuzzReadDecode.
func FuzzReadDecode(f *testing.F) {
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"a"},"geometry":{"type":"Point","coordinates":[-73.5,45.5]}}]}`), false)
	f.Add([]byte(`{"type":"Feature","properties":null,"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}`), true)
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[]}}],"crs":{"type":"name","properties":{"name":"EPSG:2950"}}}`), false)
	f.Fuzz(func(t *testing.T, data []byte, single bool) {
		n := 0
		err := ReadBytes(data, Options{Single: single}, func(raw Raw) error {
			n++
			if raw.Index < 0 || raw.Line < 1 {
				t.Fatalf("feature %d at line %d", raw.Index, raw.Line)
			}
			if _, ferr := Decode(raw); ferr != nil && ferr.Message.En == "" {
				t.Fatalf("a refused feature without an English message: %+v", ferr)
			}
			return nil
		})
		if err == nil {
			return
		}
		var se *SyntaxError
		var ie *i18n.Error
		if !errors.As(err, &se) && !errors.As(err, &ie) {
			t.Fatalf("refusal %T %v is neither a SyntaxError nor an *i18n.Error", err, err)
		}
		if ie != nil && (ie.Message.En == "" || ie.Message.Fr == "") {
			t.Fatalf("refusal not bilingual: %+v", ie)
		}
	})
}
