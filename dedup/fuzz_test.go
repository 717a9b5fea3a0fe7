package dedup

import (
	"bytes"
	"context"
	"testing"

	"github.com/pinward/pinward/geo"
)

// FuzzReadCSV feeds arbitrary bytes to the reports CSV reader with each
// combination of options: nothing panics, and every report it accepts has
// an ID and a valid lon/lat. Seeds: testdata/fuzz/FuzzReadCSV.
func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("id,category,lon,lat,created_at,asset_id\n1,pothole,-73.5,45.5,2026-03-01T10:00:00Z,SL-1\n"), uint8(7))
	f.Add([]byte("id,lat,lon\n\"a,b\",45.5,-73.5\n"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, opts uint8) {
		opt := CSVOptions{NoCategory: opts&1 != 0, Window: opts&2 != 0, SameAsset: opts&4 != 0}
		rs, err := ReadCSV(context.Background(), bytes.NewReader(data), opt)
		if err != nil {
			return
		}
		for _, r := range rs {
			if r.ID == "" {
				t.Fatalf("accepted a report without an ID: %+v", r)
			}
			if err := geo.ValidatePoint(r.Point); err != nil {
				t.Fatalf("accepted report %s at %v: %v", r.ID, r.Point, err)
			}
		}
	})
}
