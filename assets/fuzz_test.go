package assets

import (
	"bytes"
	"testing"

	"github.com/pinward/pinward/geo"
)

// FuzzLoadCSV feeds arbitrary bytes to the asset CSV reader with each
// column layout it knows: nothing panics, and every asset it accepts has
// an ID, a layer and a valid lon/lat. Seeds: testdata/fuzz/FuzzLoadCSV.
func FuzzLoadCSV(f *testing.F) {
	f.Add([]byte("layer,id,lon,lat\nstreetlight,SL-1,-73.5,45.5\n"), "")
	f.Add([]byte("layer,id,wkt\nhydrant,H-1,POINT (-73.5 45.5)\n"), "")
	f.Add([]byte("id;x;y\nA;-73.5;45.5\n"), "id=id,lon=x,lat=y,delimiter=;")
	f.Fuzz(func(t *testing.T, data []byte, spec string) {
		format := DefaultCSVFormat()
		if spec != "" {
			var err error
			if format, err = ParseCSVFormat(spec); err != nil {
				return
			}
		}
		as, _, err := LoadCSV(bytes.NewReader(data), format)
		if err != nil {
			return
		}
		for _, a := range as {
			if a.ID == "" || a.Layer == "" {
				t.Fatalf("accepted an asset without an ID or a layer: %+v", a)
			}
			if err := geo.ValidatePoint(a.Point); err != nil {
				t.Fatalf("accepted asset %s at %v: %v", a.ID, a.Point, err)
			}
		}
	})
}
